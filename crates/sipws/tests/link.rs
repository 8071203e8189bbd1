//! The tokio driver end to end: the link state machine over real loopback
//! sockets against the testbed and its faults. Timers are shortened (exact
//! instants belong to the core's virtual-time tests); every wait is
//! bounded, so a broken behaviour fails instead of hanging.

use std::time::Duration;

use sipws::transport::TransportError;
use sipws::{DriverConfig, Event, LinkEvents, LinkHandle, TimedEvent};
use sipws_core::link::{
    ConnectError, DeadReason, DisconnectReason, FailReason, Failure, FallbackProbe, LinkEvent,
    Liveness, Opcode,
};
use sipws_testbed::{Testbed, TestbedEvent};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(15);

/// Fast timers: ping after 300 ms of quiet, then 150 ms, then every 100 ms.
fn config(url: &str) -> DriverConfig {
    let mut c = DriverConfig::new([url]);
    c.link.keepalive.idle = Duration::from_millis(300);
    c.link.keepalive.first_retry = Duration::from_millis(150);
    c.link.keepalive.retry = Duration::from_millis(100);
    c.link.keepalive.probe_timeout = Duration::from_millis(300);
    c.link.reconnect.connect_timeout = Duration::from_secs(2);
    c.link.reconnect.delays = vec![
        Duration::from_millis(50),
        Duration::from_millis(100),
        Duration::from_millis(200),
    ];
    c.link.reconnect.jitter_permille = 0;
    c.seed = Some(1);
    c
}

/// Reads link events until one matches, returning it and everything read.
async fn until(events: &mut LinkEvents, pred: impl Fn(&Event) -> bool) -> (TimedEvent, Vec<Event>) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(LIMIT, async {
        loop {
            let e = events.next().await.expect("link task alive");
            if pred(&e.event) {
                return e;
            }
            seen.push(e.event);
        }
    })
    .await;
    match found {
        Ok(e) => (e, seen),
        Err(_) => panic!("no matching link event within {LIMIT:?}; saw {seen:#?}"),
    }
}

fn link_event(pred: impl Fn(&LinkEvent) -> bool) -> impl Fn(&Event) -> bool {
    move |e| matches!(e, Event::Link(l) if pred(l))
}

async fn testbed_until(
    rx: &mut broadcast::Receiver<TestbedEvent>,
    pred: impl Fn(&TestbedEvent) -> bool,
) -> TestbedEvent {
    tokio::time::timeout(LIMIT, async {
        loop {
            let e = rx.recv().await.expect("testbed events");
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .expect("testbed event within the limit")
}

async fn start(testbed: &Testbed, config: DriverConfig) -> (LinkHandle, LinkEvents) {
    let _ = testbed;
    let (link, mut events) = sipws::spawn(config).expect("valid config");
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Connected { .. })),
    )
    .await;
    (link, events)
}

#[tokio::test]
async fn keepalive_pings_are_answered_and_the_link_stays_up() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut tb = testbed.handle().subscribe();
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    for _ in 0..3 {
        let (_, seen) = until(
            &mut events,
            link_event(|e| matches!(e, LinkEvent::PongReceived { .. })),
        )
        .await;
        assert!(
            !seen
                .iter()
                .any(|e| matches!(e, Event::Link(LinkEvent::Disconnected { .. }))),
            "{seen:?}"
        );
    }
    testbed_until(&mut tb, |e| {
        matches!(e, TestbedEvent::PingReceived { count: 3, .. })
    })
    .await;
    assert_eq!(testbed.handle().connections().len(), 1);
}

/// Waits until the link has learned that the server answers CRLF pings.
async fn learn_pongs(events: &mut LinkEvents) {
    until(
        events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::LivenessLearned {
                    liveness: Liveness::AnswersCrlf,
                    ..
                }
            )
        }),
    )
    .await;
}

#[tokio::test]
async fn dropped_pongs_make_the_link_dead_then_it_reconnects() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    learn_pongs(&mut events).await;
    testbed.handle().set_drop_pongs(true);
    let (_, seen) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::ConnectionDead { .. })),
    )
    .await;
    let pings = seen
        .iter()
        .filter(|e| matches!(e, Event::Link(LinkEvent::PingSent { .. })))
        .count();
    assert!(pings >= 4, "4 unanswered pings before death: {seen:?}");
    testbed.handle().set_drop_pongs(false);
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::Disconnected {
                    reason: DisconnectReason::Dead(DeadReason::NoPong { unanswered: 4 })
                }
            )
        }),
    )
    .await;
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::Reconnecting {
                    attempt: 1,
                    of: 3,
                    ..
                }
            )
        }),
    )
    .await;
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
}

#[tokio::test]
async fn server_that_never_pongs_is_probed_with_websocket_ping_instead_of_reconnecting() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().set_drop_pongs(true);
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::LivenessLearned {
                    liveness: Liveness::NeverPongs {
                        probe: FallbackProbe::WsPing
                    },
                    ..
                }
            )
        }),
    )
    .await;
    for _ in 0..2 {
        let (_, seen) = until(
            &mut events,
            link_event(|e| matches!(e, LinkEvent::ProbeAnswered { .. })),
        )
        .await;
        assert!(
            !seen
                .iter()
                .any(|e| matches!(e, Event::Link(LinkEvent::Disconnected { .. }))),
            "{seen:?}"
        );
    }
}

#[tokio::test]
async fn abnormal_close_1006_reconnects() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut tb = testbed.handle().subscribe();
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    testbed_until(&mut tb, |e| matches!(e, TestbedEvent::Upgraded { .. })).await;
    assert_eq!(testbed.handle().drop_all(), 1);
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::Disconnected {
                    reason: DisconnectReason::Abnormal(info)
                } if info.code.is_none() && !info.clean
            )
        }),
    )
    .await;
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
    testbed_until(&mut tb, |e| matches!(e, TestbedEvent::Upgraded { .. })).await;
}

#[tokio::test]
async fn server_close_with_a_code_reconnects() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    assert_eq!(testbed.handle().close_all(1001, "restarting"), 1);
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::Disconnected {
                    reason: DisconnectReason::ServerClosed { code: 1001, reason }
                } if reason == "restarting"
            )
        }),
    )
    .await;
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
}

#[tokio::test]
async fn refused_handshakes_use_every_attempt_then_fail() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut tb = testbed.handle().subscribe();
    testbed.handle().refuse_next_handshakes(100);
    let (_link, mut events) = sipws::spawn(config(&testbed.url())).unwrap();
    let (failed, seen) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Failed { .. })),
    )
    .await;
    let Event::Link(LinkEvent::Failed {
        reason: FailReason::AttemptsExhausted { attempts, last },
    }) = failed.event
    else {
        unreachable!()
    };
    assert_eq!(attempts, 3);
    assert_eq!(
        last,
        Failure::Connect(ConnectError::Handshake {
            status: Some(503),
            reason: "Service Unavailable".into()
        })
    );
    let failures = seen
        .iter()
        .filter(|e| matches!(e, Event::Link(LinkEvent::ConnectFailed { .. })))
        .count();
    assert_eq!(failures, 3 + 1, "first connect and 3 reconnects: {seen:?}");
    let attempts: Vec<u32> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Link(LinkEvent::Reconnecting { attempt, .. }) => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    for _ in 0..4 {
        testbed_until(&mut tb, |e| {
            matches!(e, TestbedEvent::HandshakeRefused { status: 503, .. })
        })
        .await;
    }
}

#[tokio::test]
async fn missing_subprotocol_is_a_clear_connect_failure() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().set_omit_subprotocol(true);
    let mut c = config(&testbed.url());
    c.link.reconnect.max_attempts = 1;
    let (_link, mut events) = sipws::spawn(c).unwrap();
    let (e, _) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::ConnectFailed { .. })),
    )
    .await;
    let Event::Link(LinkEvent::ConnectFailed { reason, .. }) = e.event else {
        unreachable!()
    };
    assert_eq!(reason, ConnectError::Subprotocol { negotiated: None });
    assert!(
        reason.to_string().contains("\"sip\" subprotocol"),
        "{reason}"
    );
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Failed { .. })),
    )
    .await;
}

#[tokio::test]
async fn half_open_server_is_detected_dead() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    learn_pongs(&mut events).await;
    testbed.handle().set_stop_reading(true);
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::ConnectionDead {
                    reason: DeadReason::NoPong { unanswered: 4 }
                }
            )
        }),
    )
    .await;
    testbed.handle().set_stop_reading(false);
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
}

#[tokio::test]
async fn oversize_inbound_frame_is_a_typed_error_and_a_reconnect() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut c = config(&testbed.url());
    c.transport.max_frame_size = 8 * 1024;
    c.link.queue.max_frame_bytes = 8 * 1024;
    let (_link, mut events) = start(&testbed, c).await;
    testbed.handle().send_all(&vec![b'a'; 9000], true);
    let (e, _) = until(&mut events, |e| matches!(e, Event::Transport(_))).await;
    assert_eq!(
        e.event,
        Event::Transport(TransportError::FrameTooLarge {
            size: 9000,
            max: 8192
        })
    );
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Disconnected { reason: DisconnectReason::Abnormal(info) } if info.reason.contains("9000"))),
    )
    .await;
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
}

#[tokio::test]
async fn sip_frames_flow_both_ways() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut tb = testbed.handle().subscribe();
    let (link, mut events) = start(&testbed, config(&testbed.url())).await;
    let msg = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n".to_vec();
    link.send(msg.clone(), Opcode::Text).await.unwrap();
    let got = testbed_until(&mut tb, |e| matches!(e, TestbedEvent::FrameReceived { .. })).await;
    assert!(matches!(got, TestbedEvent::FrameReceived { data, text: true, .. } if data == msg));
    let reply = b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n";
    testbed.handle().send_all(reply, true);
    let (e, _) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Frame { .. })),
    )
    .await;
    assert_eq!(
        e.event,
        Event::Link(LinkEvent::Frame {
            data: reply.to_vec(),
            opcode: Opcode::Text
        })
    );
    // A server CRLF ping is answered by the link and goes no further.
    testbed.handle().send_all(b"\r\n\r\n", false);
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::ServerPingAnswered {
                    opcode: Opcode::Binary
                }
            )
        }),
    )
    .await;
    testbed_until(&mut tb, |e| matches!(e, TestbedEvent::PongReceived { .. })).await;
}

#[tokio::test]
async fn frames_sent_while_down_are_delivered_in_order_after_reconnect() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut tb = testbed.handle().subscribe();
    let mut c = config(&testbed.url());
    c.link.reconnect.delays = vec![Duration::from_millis(400)];
    let (link, mut events) = start(&testbed, c).await;
    assert_eq!(testbed.handle().drop_all(), 1);
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Disconnected { .. })),
    )
    .await;
    let frames: Vec<Vec<u8>> = (1..=3)
        .map(|i| {
            format!("MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nCSeq: {i} MESSAGE\r\n\r\n").into_bytes()
        })
        .collect();
    for f in &frames {
        link.send(f.clone(), Opcode::Text).await.unwrap();
    }
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
    for f in &frames {
        let got = testbed_until(&mut tb, |e| matches!(e, TestbedEvent::FrameReceived { .. })).await;
        assert!(
            matches!(&got, TestbedEvent::FrameReceived { data, .. } if data == f),
            "{got:?}"
        );
    }
}

#[tokio::test]
async fn local_close_sends_1000_and_does_not_reconnect() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut tb = testbed.handle().subscribe();
    let (link, mut events) = start(&testbed, config(&testbed.url())).await;
    link.close().await.unwrap();
    testbed_until(&mut tb, |e| {
        matches!(e, TestbedEvent::CloseReceived { code: 1000, .. })
    })
    .await;
    until(
        &mut events,
        link_event(|e| {
            matches!(
                e,
                LinkEvent::Disconnected {
                    reason: DisconnectReason::LocalClose
                }
            )
        }),
    )
    .await;
    // Nothing more happens: no timer runs on an idle link.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Some(e) = events.try_next() {
        assert!(
            !matches!(e.event, Event::Link(LinkEvent::Connecting { .. })),
            "{e:?}"
        );
    }
    assert!(testbed.handle().connections().is_empty());
}

#[tokio::test]
async fn late_pongs_escalate_probing_but_keep_the_link() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    learn_pongs(&mut events).await;
    // Later than first_retry (150 ms), well before death (+450 ms).
    testbed
        .handle()
        .set_pong_delay(Some(Duration::from_millis(200)));
    let (_, seen) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::ProbingEscalated { .. })),
    )
    .await;
    assert!(!seen
        .iter()
        .any(|e| matches!(e, Event::Link(LinkEvent::Disconnected { .. }))));
    let (_, seen) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::PongReceived { .. })),
    )
    .await;
    assert!(!seen
        .iter()
        .any(|e| matches!(e, Event::Link(LinkEvent::Disconnected { .. }))));
}

#[tokio::test]
async fn server_that_stops_answering_after_n_pings_is_dead() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().set_answer_first_pings(Some(2));
    let (_link, mut events) = start(&testbed, config(&testbed.url())).await;
    let (_, seen) = until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::ConnectionDead { .. })),
    )
    .await;
    let pongs = seen
        .iter()
        .filter(|e| matches!(e, Event::Link(LinkEvent::PongReceived { .. })))
        .count();
    assert_eq!(pongs, 2, "{seen:?}");
    // A fresh connection has a fresh budget of two pongs.
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::Reconnected { .. })),
    )
    .await;
    until(
        &mut events,
        link_event(|e| matches!(e, LinkEvent::PongReceived { .. })),
    )
    .await;
}
