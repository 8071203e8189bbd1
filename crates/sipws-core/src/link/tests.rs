//! Virtual-time tests of the link: a fake server reacts to every command at
//! the same instant, and the clock jumps to `poll_timeout()`.

use super::*;

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn ms(d: u64) -> Duration {
    Duration::from_millis(d)
}

/// What the fake server does in reaction to a command.
#[derive(Clone, Debug)]
enum Reply {
    Open(Option<&'static str>),
    Fail(ConnectError),
    Frame(&'static [u8], Opcode),
    WsPong,
    Closed(CloseInfo),
}

type Script = Box<dyn FnMut(Instant, &Transmit) -> Vec<Reply>>;

struct Harness {
    link: Link<Sequence>,
    now: Instant,
    events: Vec<(u64, LinkEvent)>,
    sent: Vec<(u64, Transmit)>,
    server: Script,
    /// Answer `ProbeRequested` at once (the layer above sends OPTIONS and
    /// gets an answer).
    answer_probe_requests: bool,
}

impl Harness {
    fn new(config: LinkConfig, rng: Vec<u64>, server: Script) -> Self {
        Harness {
            link: Link::new(config, Sequence::new(rng)).unwrap(),
            now: Instant::ZERO,
            events: Vec::new(),
            sent: Vec::new(),
            server,
            answer_probe_requests: false,
        }
    }

    /// Drain every output, feeding commands to the fake server.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(tx) = self.link.poll_transmit() {
                progressed = true;
                let replies = (self.server)(self.now, &tx);
                self.sent.push((self.now.as_millis(), tx));
                for r in replies {
                    self.apply(r);
                }
            }
            while let Some(e) = self.link.poll_event() {
                progressed = true;
                if self.answer_probe_requests && e == LinkEvent::ProbeRequested {
                    self.link.handle_probe_answered(self.now);
                }
                self.events.push((self.now.as_millis(), e));
            }
            if !progressed {
                break;
            }
        }
    }

    fn apply(&mut self, r: Reply) {
        let now = self.now;
        match r {
            Reply::Open(p) => self.link.handle_open(now, p),
            Reply::Fail(e) => self.link.handle_connect_failed(now, e),
            Reply::Frame(d, op) => self.link.handle_frame(now, d, op),
            Reply::WsPong => self.link.handle_ws_pong(now),
            Reply::Closed(c) => self.link.handle_closed(now, c),
        }
    }

    /// Run timers up to and including `until`, then set the clock there.
    fn run_until(&mut self, until: u64) {
        self.drain();
        while let Some(next) = self.link.poll_timeout() {
            assert!(
                next >= self.now,
                "timeout {next:?} before now {:?}",
                self.now
            );
            if next > t(until) {
                break;
            }
            self.now = next;
            self.link.handle_timeout(next);
            self.drain();
        }
        self.now = self.now.max(t(until));
    }

    fn at(&mut self, when: u64, f: impl FnOnce(&mut Link<Sequence>, Instant)) {
        self.run_until(when);
        f(&mut self.link, self.now);
        self.drain();
    }

    fn pings(&self) -> Vec<u64> {
        self.sent
            .iter()
            .filter(|(_, tx)| matches!(tx, Transmit::Frame { data, .. } if data == CRLF_PING))
            .map(|(at, _)| *at)
            .collect()
    }

    fn times_of(&self, pred: impl Fn(&LinkEvent) -> bool) -> Vec<u64> {
        self.events
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(at, _)| *at)
            .collect()
    }
}

fn cfg() -> LinkConfig {
    LinkConfig::new(["ws://127.0.0.1:5060"])
}

/// A server that opens with `sip`, answers the first `pongs` CRLF pings,
/// then goes silent.
fn pong_first(pongs: usize) -> Script {
    let mut left = pongs;
    Box::new(move |_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        Transmit::Frame { data, opcode } if data == CRLF_PING && left > 0 => {
            left -= 1;
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        _ => vec![],
    })
}

#[test]
fn notes_timeline_from_open() {
    let mut c = cfg();
    c.keepalive.fallback = FallbackProbe::None;
    let mut h = Harness::new(c, vec![200], pong_first(0));
    h.at(0, |l, now| l.connect(now));
    h.run_until(22_499);
    assert_eq!(h.pings(), [10_000, 15_000, 17_500, 20_000]);
    assert!(h
        .times_of(|e| matches!(e, LinkEvent::ConnectionDead { .. }))
        .is_empty());
    h.run_until(22_500);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::ConnectionDead {
                reason: DeadReason::NoPong { unanswered: 4 }
            }
        )),
        [22_500]
    );
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::ProbingEscalated { .. })),
        [15_000]
    );
    assert!(h
        .sent
        .iter()
        .any(|(at, tx)| *at == 22_500 && matches!(tx, Transmit::Close { code: 1001, .. })));
    // Reconnect attempt 1 after 1 s (rng 200 → no jitter).
    assert!(h.events.iter().any(|(at, e)| *at == 22_500
        && matches!(e, LinkEvent::Reconnecting { attempt: 1, of: 3, delay, .. } if *delay == ms(1000))));
    assert_eq!(h.link.state(), LinkState::Waiting);
    assert_eq!(h.link.poll_timeout(), Some(t(23_500)));
}

#[test]
fn silent_new_server_with_default_settings_dies_at_22_5_s() {
    // Default keepalive (WebSocket Ping fallback), a server that answers
    // neither CRLF nor WebSocket Pings: the probe rides along with ping #2
    // and the verdict keeps the note's instant.
    let mut h = Harness::new(cfg(), vec![200], pong_first(0));
    h.at(0, |l, now| l.connect(now));
    h.run_until(22_500);
    assert_eq!(h.pings(), [10_000, 15_000, 17_500, 20_000]);
    let probes: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Ping))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(probes, [15_000]);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::ConnectionDead {
                reason: DeadReason::NoPong { unanswered: 4 }
            }
        )),
        [22_500]
    );
    assert!(h
        .times_of(|e| matches!(e, LinkEvent::LivenessLearned { .. }))
        .is_empty());
}

/// Opens the first `opens` connections, refuses the rest; answers CRLF
/// pings.
fn open_then_refuse(opens: usize) -> Script {
    let mut left = opens;
    Box::new(move |_, tx| match tx {
        Transmit::Connect { .. } if left > 0 => {
            left -= 1;
            vec![Reply::Open(Some("sip"))]
        }
        Transmit::Connect { .. } => vec![Reply::Fail(ConnectError::Refused)],
        Transmit::Frame { data, opcode } if data == CRLF_PING => {
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        _ => vec![],
    })
}

fn abnormal() -> CloseInfo {
    CloseInfo {
        code: None,
        reason: "connection reset".into(),
        clean: false,
    }
}

#[test]
fn reconnect_delays_with_fixed_rng_and_three_attempt_limit() {
    // Draws 0, 200, 400 → factors 0.8, 1.0, 1.2.
    let mut h = Harness::new(cfg(), vec![0, 200, 400], open_then_refuse(1));
    h.at(0, |l, now| l.connect(now));
    h.at(5_000, |l, now| l.handle_closed(now, abnormal()));
    h.run_until(60_000);
    let reconnecting: Vec<(u64, u32, Duration)> = h
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            LinkEvent::Reconnecting {
                attempt,
                of: 3,
                delay,
                ..
            } => Some((*at, *attempt, *delay)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reconnecting,
        [
            (5_000, 1, ms(800)),
            (5_800, 2, ms(2_000)),
            (7_800, 3, ms(4_800))
        ]
    );
    let connects: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Connect { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(connects, [0, 5_800, 7_800, 12_600]);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::Failed {
                reason: FailReason::AttemptsExhausted {
                    attempts: 3,
                    last: Failure::Connect(ConnectError::Refused)
                }
            }
        )),
        [12_600]
    );
    assert_eq!(h.link.state(), LinkState::Failed);
    assert_eq!(h.link.poll_timeout(), None);
}

#[test]
fn never_pong_server_is_probed_not_reconnected_for_ten_minutes() {
    // Ignores CRLF, answers WebSocket Pings.
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        Transmit::Ping => vec![Reply::WsPong],
        _ => vec![],
    });
    let mut h = Harness::new(cfg(), vec![200], server);
    h.at(0, |l, now| l.connect(now));
    h.run_until(600_000);
    assert!(h
        .times_of(|e| matches!(
            e,
            LinkEvent::Disconnected { .. }
                | LinkEvent::Reconnecting { .. }
                | LinkEvent::ConnectionDead { .. }
        ))
        .is_empty());
    // Ping #2 carries the WebSocket Ping probe; its answer teaches the
    // link that CRLF goes unanswered here.
    assert_eq!(h.pings(), [10_000, 15_000]);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::LivenessLearned {
                liveness: Liveness::NeverPongs {
                    probe: FallbackProbe::WsPing
                },
                ..
            }
        )),
        [15_000]
    );
    let probes: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Ping))
        .map(|(at, _)| *at)
        .collect();
    // One probe with ping #2, then one every 10 s of quiet.
    assert_eq!(probes.len(), 1 + (600_000 - 15_000) / 10_000);
    assert_eq!(&probes[..3], [15_000, 25_000, 35_000]);
    assert!(h.link.health()[0].never_pongs);
    assert_eq!(h.link.state(), LinkState::Open);
}

#[test]
fn server_close_reconnects_local_close_does_not() {
    // The server closes cleanly (1001) when it sees "quit".
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        Transmit::Frame { data, .. } if data == b"quit" => vec![Reply::Closed(CloseInfo {
            code: Some(1001),
            reason: "shutting down".into(),
            clean: true,
        })],
        Transmit::Frame { data, opcode } if data == CRLF_PING => {
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        _ => vec![],
    });
    let mut h = Harness::new(cfg(), vec![200], server);
    h.at(0, |l, now| l.connect(now));
    h.at(3_000, |l, now| {
        l.send(now, b"quit".to_vec(), Opcode::Text).unwrap()
    });
    assert!(h.events.iter().any(|(at, e)| *at == 3_000
        && *e
            == LinkEvent::Disconnected {
                reason: DisconnectReason::ServerClosed {
                    code: 1001,
                    reason: "shutting down".into()
                }
            }));
    h.run_until(4_000);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnected { .. })),
        [4_000]
    );
    h.at(5_000, |l, now| l.close(now));
    h.run_until(120_000);
    assert_eq!(h.link.state(), LinkState::Idle);
    assert_eq!(h.link.poll_timeout(), None);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnecting { .. })),
        [3_000]
    );
    assert!(matches!(
        h.sent.last(),
        Some((5_000, Transmit::Close { code: 1000, .. }))
    ));
}

#[test]
fn timeline_restarts_from_the_last_pong() {
    // Answers ping #1 only: pings at 10 s (pong), then 20, 25, 27.5, 30 s;
    // dead at 32.5 s.
    let mut h = Harness::new(cfg(), vec![200], pong_first(1));
    h.at(0, |l, now| l.connect(now));
    h.run_until(40_000);
    assert_eq!(h.pings(), [10_000, 20_000, 25_000, 27_500, 30_000]);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::ConnectionDead { .. })),
        [32_500]
    );
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::LivenessLearned {
                liveness: Liveness::AnswersCrlf,
                ..
            }
        )),
        [10_000]
    );
    let pings_sent: Vec<u32> = h
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            LinkEvent::PingSent { n } => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(pings_sent, [1, 1, 2, 3, 4]);
}

#[test]
fn a_pong_at_each_step_restarts_the_ten_second_cycle() {
    for answered in 1..=4usize {
        // The server answers only ping number `answered`, 300 ms late.
        let server = pong_first(0);
        let mut c = cfg();
        c.keepalive.fallback = FallbackProbe::None;
        let mut h = Harness::new(c, vec![200], server);
        h.at(0, |l, now| l.connect(now));
        let ping_at = [10_000u64, 15_000, 17_500, 20_000][answered - 1];
        let pong_at = ping_at + 300;
        h.at(pong_at, |l, now| l.handle_frame(now, b"\r\n", Opcode::Text));
        h.run_until(pong_at + 15_000);
        let expected: Vec<u64> = [10_000u64, 15_000, 17_500, 20_000][..answered]
            .iter()
            .copied()
            .chain([pong_at + 10_000, pong_at + 15_000])
            .collect();
        assert_eq!(h.pings(), expected, "pong to ping #{answered}");
        assert!(h
            .events
            .iter()
            .any(|(at, e)| *at == pong_at && *e == LinkEvent::PongReceived { rtt: Some(ms(300)) }));
        assert!(h
            .times_of(|e| matches!(e, LinkEvent::ConnectionDead { .. }))
            .is_empty());
    }
}

#[test]
fn server_ping_is_answered_with_its_opcode_and_not_counted_as_pong() {
    let mut c = cfg();
    c.keepalive.fallback = FallbackProbe::None;
    let mut h = Harness::new(c, vec![200], pong_first(0));
    h.at(0, |l, now| l.connect(now));
    h.at(12_000, |l, now| {
        l.handle_frame(now, b"\r\n\r\n", Opcode::Binary)
    });
    assert!(h.sent.iter().any(|(at, tx)| *at == 12_000
        && *tx
            == Transmit::Frame {
                data: b"\r\n".to_vec(),
                opcode: Opcode::Binary
            }));
    assert!(h.events.iter().any(|(at, e)| *at == 12_000
        && *e
            == LinkEvent::ServerPingAnswered {
                opcode: Opcode::Binary
            }));
    assert!(h
        .events
        .iter()
        .all(|(_, e)| !matches!(e, LinkEvent::PongReceived { .. } | LinkEvent::Frame { .. })));
    assert!(!h.link.health()[0].pong_seen);
    // The server's ping proves the connection alive: the cycle restarts
    // from it (next ping at 22 s instead of ping #2 at 15 s).
    h.run_until(34_500);
    assert_eq!(h.pings(), [10_000, 22_000, 27_000, 29_500, 32_000]);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::ConnectionDead { .. })),
        [34_500]
    );
}

#[test]
fn inbound_frames_are_delivered_and_prove_life() {
    let mut h = Harness::new(cfg(), vec![200], pong_first(usize::MAX));
    h.at(0, |l, now| l.connect(now));
    h.at(9_000, |l, now| {
        l.handle_frame(now, b"NOTIFY sip:a@b SIP/2.0\r\n\r\n", Opcode::Text)
    });
    h.at(9_500, |l, now| l.handle_frame(now, b"", Opcode::Binary));
    assert!(h.events.contains(&(
        9_000,
        LinkEvent::Frame {
            data: b"NOTIFY sip:a@b SIP/2.0\r\n\r\n".to_vec(),
            opcode: Opcode::Text
        }
    )));
    assert!(h.events.contains(&(
        9_500,
        LinkEvent::Frame {
            data: vec![],
            opcode: Opcode::Binary
        }
    )));
    h.run_until(30_000);
    assert_eq!(h.pings(), [19_500, 29_500]);
}

/// A reconnect script: the n-th connect (0-based) gets `plan[n]`.
fn planned(plan: Vec<Vec<Reply>>) -> Script {
    let mut n = 0usize;
    Box::new(move |_, tx| match tx {
        Transmit::Connect { .. } => {
            let r = plan.get(n).cloned().unwrap_or_default();
            n += 1;
            r
        }
        _ => vec![],
    })
}

fn reconnect_attempts(h: &Harness) -> Vec<(u64, u32, String)> {
    h.events
        .iter()
        .filter_map(|(at, e)| match e {
            LinkEvent::Reconnecting { attempt, url, .. } => Some((*at, *attempt, url.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn attempt_count_resets_once_a_reconnected_link_proves_live() {
    let refused = || vec![Reply::Fail(ConnectError::Refused)];
    let open = || vec![Reply::Open(Some("sip"))];
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    let mut h = Harness::new(
        c,
        vec![],
        planned(vec![
            open(),
            refused(),
            open(),
            refused(),
            refused(),
            refused(),
        ]),
    );
    h.at(0, |l, now| l.connect(now));
    h.at(1_000, |l, now| l.handle_closed(now, abnormal()));
    // attempt 1 at 2 s refused, attempt 2 at 4 s opens.
    h.run_until(4_000);
    assert_eq!(h.link.state(), LinkState::Open);
    assert_eq!(h.link.attempts(), 2);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnected { .. })),
        [4_000]
    );
    // An inbound frame proves it live: the count resets.
    h.at(4_100, |l, now| {
        l.handle_frame(now, b"SIP/2.0 200 OK\r\n\r\n", Opcode::Text)
    });
    assert_eq!(h.link.attempts(), 0);
    h.at(5_000, |l, now| l.handle_closed(now, abnormal()));
    h.run_until(60_000);
    let a: Vec<(u64, u32)> = reconnect_attempts(&h)
        .into_iter()
        .map(|(t, n, _)| (t, n))
        .collect();
    // Fresh round after the live connection: 1 s, 2 s, 4 s again.
    assert_eq!(
        a,
        [(1_000, 1), (2_000, 2), (5_000, 1), (6_000, 2), (8_000, 3)]
    );
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Failed { .. })),
        [12_000]
    );
}

#[test]
fn a_reconnect_that_dies_before_proving_live_keeps_counting() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    // Every connection opens and is reset 100 ms later, before any frame.
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        _ => vec![],
    });
    let mut h = Harness::new(c, vec![], server);
    h.at(0, |l, now| l.connect(now));
    for at in [1_000u64, 2_100, 4_200, 8_300] {
        h.run_until(at - 100);
        assert_eq!(h.link.state(), LinkState::Open, "open before {at}");
        h.at(at, |l, now| l.handle_closed(now, abnormal()));
    }
    let a: Vec<u32> = reconnect_attempts(&h)
        .into_iter()
        .map(|(_, n, _)| n)
        .collect();
    assert_eq!(a, [1, 2, 3]);
    assert!(h.events.iter().any(|(at, e)| *at == 8_300
        && matches!(
            e,
            LinkEvent::Failed {
                reason: FailReason::AttemptsExhausted {
                    attempts: 3,
                    last: Failure::Lost(DisconnectReason::Abnormal(_))
                }
            }
        )));
}

#[test]
fn stable_grace_proves_a_quiet_reconnect_live() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    c.reconnect.stable_after = Some(Duration::from_secs(3));
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        _ => vec![],
    });
    let mut h = Harness::new(c, vec![], server);
    h.at(0, |l, now| l.connect(now));
    h.at(1_000, |l, now| l.handle_closed(now, abnormal()));
    h.run_until(4_999);
    assert_eq!(h.link.attempts(), 1);
    h.run_until(5_000);
    assert_eq!(h.link.attempts(), 0);
}

#[test]
fn attempts_rotate_through_servers_with_their_own_health() {
    let urls = ["ws://127.0.0.1:1", "ws://127.0.0.1:2", "ws://127.0.0.1:3"];
    let mut c = LinkConfig::new(urls);
    c.reconnect.jitter_permille = 0;
    c.reconnect.max_attempts = 4;
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { url, .. } if url.ends_with(":1") => vec![Reply::Open(Some("sip"))],
        Transmit::Connect { .. } => vec![Reply::Fail(ConnectError::Refused)],
        _ => vec![],
    });
    let mut h = Harness::new(c, vec![], server);
    h.at(0, |l, now| l.connect(now));
    h.at(1_000, |l, now| l.handle_closed(now, abnormal()));
    h.run_until(20_000);
    let r: Vec<(u32, String)> = reconnect_attempts(&h)
        .into_iter()
        .map(|(_, n, u)| (n, u))
        .collect();
    assert_eq!(
        r,
        [
            (1, urls[1].to_owned()),
            (2, urls[2].to_owned()),
            (3, urls[0].to_owned()),
        ]
    );
    assert_eq!(h.link.state(), LinkState::Open);
    assert_eq!(h.link.current_url(), urls[0]);
    let health = h.link.health();
    assert_eq!(
        health
            .iter()
            .map(|s| (s.opened, s.failed_attempts, s.lost))
            .collect::<Vec<_>>(),
        [(2, 0, 1), (0, 1, 0), (0, 1, 0)]
    );
}

#[test]
fn queued_frames_flush_in_order_after_reconnection() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    let mut h = Harness::new(c, vec![], open_then_refuse(usize::MAX));
    h.at(0, |l, now| l.connect(now));
    h.at(500, |l, now| {
        l.send(now, b"A".to_vec(), Opcode::Text).unwrap()
    });
    h.at(1_000, |l, now| l.handle_closed(now, abnormal()));
    h.at(1_200, |l, now| {
        l.send(now, b"B".to_vec(), Opcode::Text).unwrap();
        l.send(now, b"C".to_vec(), Opcode::Binary).unwrap();
    });
    assert_eq!(h.link.queued(), (2, 2));
    h.run_until(2_000);
    let out: Vec<(u64, Vec<u8>, Opcode)> = h
        .sent
        .iter()
        .filter_map(|(at, tx)| match tx {
            Transmit::Frame { data, opcode } if data != CRLF_PING => {
                Some((*at, data.clone(), *opcode))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        out,
        [
            (500, b"A".to_vec(), Opcode::Text),
            (2_000, b"B".to_vec(), Opcode::Text),
            (2_000, b"C".to_vec(), Opcode::Binary),
        ]
    );
    // Reconnected comes before the flushed frames are handed to the driver.
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnected { .. })),
        [2_000]
    );
    assert_eq!(h.link.queued(), (0, 0));
}

#[test]
fn frames_not_yet_taken_by_the_driver_survive_a_loss() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    let mut link = Link::new(c, Sequence::new(vec![])).unwrap();
    link.connect(t(0));
    while link.poll_transmit().is_some() {}
    link.handle_open(t(10), Some("sip"));
    link.send(t(20), b"REGISTER".to_vec(), Opcode::Text)
        .unwrap();
    // The socket dies before the driver drained the frame.
    link.handle_closed(t(30), abnormal());
    assert_eq!(link.poll_transmit(), None);
    assert_eq!(link.queued(), (1, 8));
    link.handle_timeout(t(1_030));
    assert!(matches!(
        link.poll_transmit(),
        Some(Transmit::Connect { .. })
    ));
    link.handle_open(t(1_040), Some("sip"));
    assert_eq!(
        link.poll_transmit(),
        Some(Transmit::Frame {
            data: b"REGISTER".to_vec(),
            opcode: Opcode::Text
        })
    );
}

#[test]
fn queued_frames_come_back_when_the_link_fails() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    let mut h = Harness::new(c, vec![], open_then_refuse(1));
    h.at(0, |l, now| l.connect(now));
    h.at(1_000, |l, now| l.handle_closed(now, abnormal()));
    h.at(1_500, |l, now| {
        for m in [&b"one"[..], b"two", b"three"] {
            l.send(now, m.to_vec(), Opcode::Text).unwrap();
        }
    });
    h.run_until(60_000);
    let failed: Vec<(u64, Vec<u8>, SendFailReason)> = h
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            LinkEvent::SendFailed { data, reason, .. } => Some((*at, data.clone(), *reason)),
            _ => None,
        })
        .collect();
    // Failed at 1 + 1 + 2 + 4 = 8 s.
    assert_eq!(
        failed,
        [
            (8_000, b"one".to_vec(), SendFailReason::LinkFailed),
            (8_000, b"two".to_vec(), SendFailReason::LinkFailed),
            (8_000, b"three".to_vec(), SendFailReason::LinkFailed),
        ]
    );
    // Sending on a failed link: the frame comes straight back.
    h.at(60_000, |l, now| {
        l.send(now, b"four".to_vec(), Opcode::Text).unwrap()
    });
    assert_eq!(
        h.events.last(),
        Some(&(
            60_000,
            LinkEvent::SendFailed {
                data: b"four".to_vec(),
                opcode: Opcode::Text,
                reason: SendFailReason::LinkFailed
            }
        ))
    );
}

#[test]
fn overflow_by_count_and_by_bytes_comes_back_as_send_failures() {
    let mut c = cfg();
    c.queue = QueueConfig {
        max_frames: 2,
        max_bytes: 10,
        max_frame_bytes: 8,
    };
    let mut link = Link::new(c, Sequence::new(vec![])).unwrap();
    assert_eq!(
        link.send(t(0), b"x".to_vec(), Opcode::Text),
        Err(SendError::NotStarted)
    );
    link.connect(t(0));
    assert_eq!(
        link.send(t(0), vec![b'x'; 9], Opcode::Text),
        Err(SendError::TooLarge { len: 9, max: 8 })
    );
    link.send(t(1), b"12345678".to_vec(), Opcode::Text).unwrap();
    // Bytes: 8 + 3 > 10.
    link.send(t(2), b"abc".to_vec(), Opcode::Text).unwrap();
    link.send(t(3), b"de".to_vec(), Opcode::Text).unwrap();
    // Count: 2 frames already.
    link.send(t(4), b"f".to_vec(), Opcode::Binary).unwrap();
    let failed: Vec<(Vec<u8>, Opcode, SendFailReason)> = std::iter::from_fn(|| link.poll_event())
        .filter_map(|e| match e {
            LinkEvent::SendFailed {
                data,
                opcode,
                reason,
            } => Some((data, opcode, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        [
            (b"abc".to_vec(), Opcode::Text, SendFailReason::QueueOverflow),
            (b"f".to_vec(), Opcode::Binary, SendFailReason::QueueOverflow),
        ]
    );
    assert_eq!(link.queued(), (2, 10));
}

#[test]
fn never_pong_server_with_request_probe_and_a_later_death() {
    let mut c = cfg();
    c.keepalive.fallback = FallbackProbe::Request;
    c.reconnect.jitter_permille = 0;
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        _ => vec![],
    });
    let mut h = Harness::new(c, vec![], server);
    h.answer_probe_requests = true;
    h.at(0, |l, now| l.connect(now));
    h.run_until(100_000);
    assert_eq!(h.pings(), [10_000, 15_000]);
    let probes = h.times_of(|e| *e == LinkEvent::ProbeRequested);
    assert_eq!(&probes[..3], [15_000, 25_000, 35_000]);
    assert!(h
        .times_of(|e| matches!(e, LinkEvent::Disconnected { .. }))
        .is_empty());
    // The layer above stops answering: dead 5 s after the next probe.
    h.answer_probe_requests = false;
    h.run_until(110_000);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::ConnectionDead {
                reason: DeadReason::NoProbeAnswer {
                    probe: FallbackProbe::Request
                }
            }
        )),
        [110_000]
    );
    // The reconnected link remembers: no CRLF pings, a probe 10 s after
    // open, and no second `LivenessLearned`.
    h.answer_probe_requests = true;
    h.run_until(200_000);
    assert_eq!(h.pings().len(), 2);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnected { .. })),
        [111_000]
    );
    assert!(h
        .times_of(|e| *e == LinkEvent::ProbeRequested)
        .contains(&121_000));
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::LivenessLearned { .. }))
            .len(),
        1
    );
}

#[test]
fn handle_timeout_early_or_twice_is_a_no_op() {
    let mut link = Link::new(cfg(), Sequence::new(vec![])).unwrap();
    link.connect(t(0));
    while link.poll_transmit().is_some() {}
    link.handle_open(t(0), Some("sip"));
    while link.poll_event().is_some() {}
    assert_eq!(link.poll_timeout(), Some(t(10_000)));
    link.handle_timeout(t(0));
    link.handle_timeout(t(9_999));
    assert_eq!(link.poll_transmit(), None);
    assert_eq!(link.poll_event(), None);
    assert_eq!(link.poll_timeout(), Some(t(10_000)));
    link.handle_timeout(t(10_000));
    assert!(link.poll_transmit().is_some());
    assert_eq!(link.poll_event(), Some(LinkEvent::PingSent { n: 1 }));
    link.handle_timeout(t(10_000));
    assert_eq!(link.poll_transmit(), None);
    assert_eq!(link.poll_event(), None);
    assert_eq!(link.poll_timeout(), Some(t(15_000)));
}

#[test]
fn connect_timeout_abandons_the_attempt() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    let mut h = Harness::new(c, vec![], planned(vec![]));
    h.at(0, |l, now| l.connect(now));
    h.run_until(5_000);
    assert!(h.events.contains(&(
        5_000,
        LinkEvent::ConnectFailed {
            url: "ws://127.0.0.1:5060".into(),
            reason: ConnectError::Timeout
        }
    )));
    assert!(h.sent.contains(&(
        5_000,
        Transmit::Close {
            code: 1001,
            reason: "connect timeout".into()
        }
    )));
    // Retried at 6 s, 13 s (6 + 5 + 2), 22 s (13 + 5 + 4); failed at 27 s.
    let connects: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Connect { .. }))
        .map(|(at, _)| *at)
        .collect();
    h.run_until(100_000);
    assert_eq!(connects, [0]);
    let connects: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Connect { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(connects, [0, 6_000, 13_000, 22_000]);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Failed { .. })),
        [27_000]
    );
}

#[test]
fn a_server_without_the_sip_subprotocol_fails_the_attempt() {
    let mut c = cfg();
    c.reconnect.max_attempts = 1;
    c.reconnect.jitter_permille = 0;
    let mut h = Harness::new(
        c,
        vec![],
        planned(vec![
            vec![Reply::Open(None)],
            vec![Reply::Open(Some("msrp"))],
        ]),
    );
    h.at(0, |l, now| l.connect(now));
    h.run_until(10_000);
    let failures: Vec<ConnectError> = h
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            LinkEvent::ConnectFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        failures,
        [
            ConnectError::Subprotocol { negotiated: None },
            ConnectError::Subprotocol {
                negotiated: Some("msrp".into())
            }
        ]
    );
    assert_eq!(
        failures[0].to_string(),
        "server did not accept the \"sip\" subprotocol (none negotiated)"
    );
    assert!(h
        .sent
        .iter()
        .any(|(at, tx)| *at == 0 && matches!(tx, Transmit::Close { code: 1002, .. })));
    assert_eq!(h.link.state(), LinkState::Failed);
    assert!(h
        .times_of(|e| matches!(e, LinkEvent::Connected { .. }))
        .is_empty());
}

#[test]
fn network_change_restarts_a_failed_link_and_probes_an_open_one() {
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    c.reconnect.max_attempts = 0;
    let refused = || vec![Reply::Fail(ConnectError::Refused)];
    let open = || vec![Reply::Open(Some("sip"))];
    let mut h = Harness::new(c, vec![], planned(vec![refused(), open()]));
    h.at(0, |l, now| l.connect(now));
    assert_eq!(h.link.state(), LinkState::Failed);
    h.at(30_000, |l, now| l.handle_network_change(now));
    assert_eq!(h.link.state(), LinkState::Open);
    // Never connected before: this is the first connection.
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Connected { .. })),
        [30_000]
    );
    h.at(33_000, |l, now| l.handle_network_change(now));
    assert_eq!(h.pings(), [33_000]);
    // A second change while probing changes nothing.
    h.at(34_000, |l, now| l.handle_network_change(now));
    h.run_until(38_000);
    assert_eq!(h.pings(), [33_000, 38_000]);
}

#[test]
fn ping_jitter_spreads_the_idle_interval() {
    let mut c = cfg();
    c.keepalive.jitter_permille = 100;
    // Draws for the idle delays: 0 → 9 s, 200 → 11 s.
    let mut h = Harness::new(c, vec![0, 200], pong_first(usize::MAX));
    h.at(0, |l, now| l.connect(now));
    h.run_until(21_000);
    assert_eq!(h.pings(), [9_000, 20_000]);
}

#[test]
fn local_close_hands_back_queued_frames() {
    let mut h = Harness::new(cfg(), vec![200], planned(vec![]));
    h.at(0, |l, now| l.connect(now));
    h.at(100, |l, now| {
        l.send(now, b"MESSAGE".to_vec(), Opcode::Text).unwrap()
    });
    h.at(200, |l, now| l.close(now));
    assert!(h.events.contains(&(
        200,
        LinkEvent::SendFailed {
            data: b"MESSAGE".to_vec(),
            opcode: Opcode::Text,
            reason: SendFailReason::LocallyClosed
        }
    )));
    assert_eq!(h.link.poll_timeout(), None);
    assert_eq!(h.link.state(), LinkState::Idle);
    // Late reports about the abandoned socket are ignored.
    h.at(300, |l, now| {
        l.handle_open(now, Some("sip"));
        l.handle_closed(now, abnormal());
        l.handle_connect_failed(now, ConnectError::Refused);
        l.handle_frame(now, b"\r\n", Opcode::Text);
    });
    assert_eq!(h.link.state(), LinkState::Idle);
    assert_eq!(h.link.poll_timeout(), None);
}

mod random_sessions {
    use super::*;
    use proptest::prelude::*;

    /// One input of a random session.
    #[derive(Clone, Debug)]
    enum Input {
        Connect,
        Open(u8),
        ConnectFailed,
        Frame(Vec<u8>, bool),
        Pong,
        Closed(Option<u16>, bool),
        WsPong,
        ProbeAnswered,
        NetworkChange,
        Send(usize),
        Close,
        Timeout,
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            Just(Input::Connect),
            (0u8..4).prop_map(Input::Open),
            Just(Input::ConnectFailed),
            (
                prop::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 0..8),
                any::<bool>()
            )
                .prop_map(|(d, b)| Input::Frame(d, b)),
            Just(Input::Pong),
            (prop::option::of(any::<u16>()), any::<bool>()).prop_map(|(c, k)| Input::Closed(c, k)),
            Just(Input::WsPong),
            Just(Input::ProbeAnswered),
            Just(Input::NetworkChange),
            (0usize..200).prop_map(Input::Send),
            Just(Input::Close),
            Just(Input::Timeout),
        ]
    }

    fn config(urls: usize, fallback: u8, stable: bool) -> LinkConfig {
        let mut c = LinkConfig::new((0..urls).map(|i| format!("ws://127.0.0.1:{}", 5000 + i)));
        c.keepalive.fallback = match fallback {
            0 => FallbackProbe::WsPing,
            1 => FallbackProbe::Request,
            _ => FallbackProbe::None,
        };
        c.keepalive.jitter_permille = 150;
        c.reconnect.stable_after = stable.then(|| Duration::from_secs(3));
        c.queue = QueueConfig {
            max_frames: 3,
            max_bytes: 300,
            max_frame_bytes: 150,
        };
        c
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_inputs_never_panic_and_deadlines_never_go_backwards(
            urls in 1usize..4,
            fallback in 0u8..3,
            stable in any::<bool>(),
            seed in any::<u64>(),
            steps in prop::collection::vec((input(), 0u64..30_000), 1..120),
        ) {
            let mut link = Link::new(config(urls, fallback, stable), XorShift64::new(seed)).unwrap();
            let mut now = Instant::ZERO;
            let mut sent_ok = 0usize;
            let mut failed = 0usize;
            let mut flushed = 0usize;
            for (input, dt) in steps {
                // A driver never oversleeps past the deadline it was given.
                let target = now + Duration::from_millis(dt);
                now = match link.poll_timeout() {
                    Some(d) if d < target => d,
                    _ => target,
                };
                match input {
                    Input::Connect => link.connect(now),
                    Input::Open(p) => link.handle_open(now, [Some("sip"), None, Some("SIP"), Some("xsip")][usize::from(p)]),
                    Input::ConnectFailed => link.handle_connect_failed(now, ConnectError::Refused),
                    Input::Frame(d, b) => link.handle_frame(now, &d, if b { Opcode::Binary } else { Opcode::Text }),
                    Input::Pong => link.handle_frame(now, b"\r\n", Opcode::Text),
                    Input::Closed(code, clean) => link.handle_closed(now, CloseInfo { code, reason: String::new(), clean }),
                    Input::WsPong => link.handle_ws_pong(now),
                    Input::ProbeAnswered => link.handle_probe_answered(now),
                    Input::NetworkChange => link.handle_network_change(now),
                    Input::Send(n) => {
                        if link.send(now, vec![b'x'; n + 1], Opcode::Text).is_ok() {
                            sent_ok += 1;
                        }
                    }
                    Input::Close => link.close(now),
                    Input::Timeout => link.handle_timeout(now),
                }
                if let Some(d) = link.poll_timeout() {
                    prop_assert!(d >= now, "deadline {d:?} before now {now:?}");
                }
                link.handle_timeout(now);
                if let Some(d) = link.poll_timeout() {
                    prop_assert!(d > now, "deadline {d:?} not after now {now:?} after handle_timeout");
                }
                while let Some(tx) = link.poll_transmit() {
                    if let Transmit::Frame { data, .. } = tx {
                        if data.contains(&b'x') {
                            flushed += 1;
                        }
                    }
                }
                while let Some(e) = link.poll_event() {
                    if let LinkEvent::SendFailed { .. } = e {
                        failed += 1;
                    }
                }
                let (frames, bytes) = link.queued();
                prop_assert!(frames <= 3 && bytes <= 300);
            }
            // Nothing accepted is lost silently: each accepted frame was
            // handed to the driver, handed back, or is still queued.
            prop_assert_eq!(sent_ok, flushed + failed + link.queued().0);
        }
    }
}

#[test]
fn a_server_that_stops_ponging_on_new_connections_is_relearned() {
    // Connection 1 pongs, then is reset at 30 s; connection 2 and later
    // (another instance behind the same URL) never pong but answer
    // WebSocket Pings.
    let mut n = 0usize;
    let server: Script = Box::new(move |_, tx| match tx {
        Transmit::Connect { .. } => {
            n += 1;
            vec![Reply::Open(Some("sip"))]
        }
        Transmit::Frame { data, opcode } if data == CRLF_PING && n == 1 => {
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        Transmit::Ping => vec![Reply::WsPong],
        _ => vec![],
    });
    let mut c = cfg();
    c.reconnect.jitter_permille = 0;
    let mut h = Harness::new(c, vec![], server);
    h.at(0, |l, now| l.connect(now));
    h.at(30_000, |l, now| l.handle_closed(now, abnormal()));
    h.run_until(600_000);
    // Connection 2 opens at 31 s; the server ponged before, so silence
    // there is death at 53.5 s; connection 3 opens at 55.5 s and learns
    // from the probe sent with its ping #2 (70.5 s).
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::ConnectionDead { .. })),
        [53_500]
    );
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnected { .. })),
        [31_000, 55_500]
    );
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::LivenessLearned {
                liveness: Liveness::NeverPongs { .. },
                ..
            }
        )),
        [70_500]
    );
    assert_eq!(h.link.state(), LinkState::Open);
    assert_eq!(h.link.attempts(), 0);
}

#[test]
fn a_frame_larger_than_the_queue_goes_out_when_open_and_comes_back_when_down() {
    let mut c = cfg();
    c.queue = QueueConfig {
        max_frames: 4,
        max_bytes: 4,
        max_frame_bytes: 64,
    };
    let mut link = Link::new(c, Sequence::new(vec![])).unwrap();
    link.connect(t(0));
    link.handle_open(t(0), Some("sip"));
    while link.poll_event().is_some() {}
    while link.poll_transmit().is_some() {}
    link.send(t(1), vec![b'a'; 32], Opcode::Text).unwrap();
    assert_eq!(
        link.poll_transmit(),
        Some(Transmit::Frame {
            data: vec![b'a'; 32],
            opcode: Opcode::Text
        })
    );
    link.handle_closed(t(2), abnormal());
    while link.poll_event().is_some() {}
    link.send(t(3), vec![b'b'; 32], Opcode::Text).unwrap();
    assert_eq!(
        link.poll_event(),
        Some(LinkEvent::SendFailed {
            data: vec![b'b'; 32],
            opcode: Opcode::Text,
            reason: SendFailReason::QueueOverflow
        })
    );
}
