//! Faults aimed at one connection over real loopback sockets: per-connection
//! overrides win over the standing faults for that connection only, and
//! the one-shot closes reach only the connection named.

use std::time::Duration;

use sipws::transport::{Bytes, FrameKind, Inbound, Transport, TransportConfig, WsConnection};
use sipws_testbed::{ConnId, PongWithheld, Testbed, TestbedEvent};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(10);

async fn wait_for(
    rx: &mut broadcast::Receiver<TestbedEvent>,
    pred: impl Fn(&TestbedEvent) -> bool,
) -> TestbedEvent {
    sipws_testbed::wait_for_event(rx, LIMIT, pred)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Connects and returns the connection with the testbed's id for it.
async fn connect(
    url: &str,
    events: &mut broadcast::Receiver<TestbedEvent>,
) -> (WsConnection, ConnId) {
    let transport = Transport::new(TransportConfig::default()).expect("transport");
    let ws = transport
        .connect(url, &["sip".to_owned()])
        .await
        .expect("connect");
    let up = wait_for(events, |e| matches!(e, TestbedEvent::Upgraded { .. })).await;
    (ws, up.conn())
}

async fn ping(ws: &mut WsConnection) {
    ws.send(Bytes::from_static(b"\r\n\r\n"), FrameKind::Text)
        .await
        .expect("send a CRLF ping");
}

async fn next(ws: &mut WsConnection) -> Inbound {
    tokio::time::timeout(LIMIT, ws.recv())
        .await
        .expect("something within the limit")
}

#[tokio::test]
async fn overrides_apply_to_one_connection_only() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let handle = testbed.handle();
    let mut events = handle.subscribe();
    let url = testbed.url();
    let (mut a, a_id) = connect(&url, &mut events).await;
    let (mut b, b_id) = connect(&url, &mut events).await;

    assert!(handle.update_conn_faults(a_id, |o| o.drop_pongs = Some(true)));
    assert_eq!(
        handle.conn_faults(a_id).map(|o| o.drop_pongs),
        Some(Some(true))
    );
    assert!(handle.conn_faults(b_id).is_some_and(|o| o.is_empty()));
    ping(&mut a).await;
    let withheld = wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::PongWithheld { .. })
    })
    .await;
    assert_eq!(
        withheld,
        TestbedEvent::PongWithheld {
            conn: a_id,
            reason: PongWithheld::DropPongs
        }
    );
    ping(&mut b).await;
    match next(&mut b).await {
        Inbound::Frame { data, .. } => assert_eq!(&data[..], b"\r\n"),
        other => panic!("expected a pong, got {other:?}"),
    }

    // A standing fault applies to b; a's override (answer) wins for a.
    handle.set_drop_pongs(true);
    assert!(handle.update_conn_faults(a_id, |o| o.drop_pongs = Some(false)));
    ping(&mut a).await;
    match next(&mut a).await {
        Inbound::Frame { data, .. } => assert_eq!(&data[..], b"\r\n"),
        other => panic!("expected a pong, got {other:?}"),
    }
    ping(&mut b).await;
    wait_for(&mut events, |e| {
        *e == TestbedEvent::PongWithheld {
            conn: b_id,
            reason: PongWithheld::DropPongs,
        }
    })
    .await;

    // Clearing the overrides: a follows the standing fault again.
    handle.clear_conn_faults();
    assert!(handle.conn_faults(a_id).is_some_and(|o| o.is_empty()));
    handle.set_drop_pongs(false);

    // One-shot closes reach only the connection named.
    assert!(handle.close_conn(b_id, 4001, "only you"));
    match next(&mut b).await {
        Inbound::Closed(report) => {
            assert!(report.clean);
            assert_eq!(report.code, 4001);
            assert_eq!(report.reason, "only you");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    wait_for(
        &mut events,
        |e| matches!(e, TestbedEvent::Disconnected { conn, .. } if *conn == b_id),
    )
    .await;
    assert_eq!(handle.connections(), vec![a_id]);
    assert!(!handle.close_conn(b_id, 4001, "gone already"));
    assert!(!handle.update_conn_faults(b_id, |o| o.stop_reading = Some(true)));

    assert!(handle.drop_conn(a_id));
    match next(&mut a).await {
        Inbound::Closed(report) => assert!(!report.clean, "{report:?}"),
        other => panic!("expected the connection to drop, got {other:?}"),
    }
    wait_for(
        &mut events,
        |e| matches!(e, TestbedEvent::DroppedAbnormally { conn } if *conn == a_id),
    )
    .await;
    assert!(handle.peer_calls().is_empty());
}

#[tokio::test]
async fn stop_reading_one_connection_leaves_the_other_answered() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let handle = testbed.handle();
    let mut events = handle.subscribe();
    let url = testbed.url();
    let (mut a, a_id) = connect(&url, &mut events).await;
    let (mut b, _) = connect(&url, &mut events).await;
    assert!(handle.update_conn_faults(a_id, |o| o.stop_reading = Some(true)));
    wait_for(&mut events, |e| {
        *e == TestbedEvent::ReadingStopped { conn: a_id }
    })
    .await;
    ping(&mut a).await;
    ping(&mut b).await;
    match next(&mut b).await {
        Inbound::Frame { data, .. } => assert_eq!(&data[..], b"\r\n"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // a's ping waits unread until reading resumes, then it is answered.
    assert!(handle.update_conn_faults(a_id, |o| o.stop_reading = None));
    wait_for(&mut events, |e| {
        *e == TestbedEvent::ReadingResumed { conn: a_id }
    })
    .await;
    match next(&mut a).await {
        Inbound::Frame { data, .. } => assert_eq!(&data[..], b"\r\n"),
        other => panic!("expected a pong, got {other:?}"),
    }
}
