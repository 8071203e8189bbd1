//! The router's application API end to end: a link to the loopback
//! testbed, the testbed sends the server side of the DESIGN.md §1 call flow
//! (corpus messages) plus a keepalive ping and garbage, and the dispatcher
//! hands each frame to the callback or stream registered for its rule.
//! Every wait is bounded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sipws::dispatch::{Dispatched, Dispatcher, Incoming};
use sipws::{DriverConfig, Event, LinkEvents};
use sipws_core::link::LinkEvent;
use sipws_core::router::{FrameKind, Priority};
use sipws_testbed::Testbed;

const LIMIT: Duration = Duration::from_secs(15);

fn corpus(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sipws-core/tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The next inbound frame the link reports.
async fn next_frame(events: &mut LinkEvents) -> Vec<u8> {
    tokio::time::timeout(LIMIT, async {
        loop {
            let e = events.next().await.expect("link task alive");
            if let Event::Link(LinkEvent::Frame { data, .. }) = e.event {
                return data;
            }
        }
    })
    .await
    .expect("a frame within the limit")
}

#[tokio::test]
async fn frames_from_the_server_reach_the_registered_handlers() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let (_link, mut events) = sipws::spawn(DriverConfig::new([testbed.url()])).unwrap();
    tokio::time::timeout(LIMIT, async {
        loop {
            let e = events.next().await.expect("link task alive");
            if matches!(e.event, Event::Link(LinkEvent::Connected { .. })) {
                break;
            }
        }
    })
    .await
    .expect("connected");

    let mut d = Dispatcher::new();
    let challenges: Arc<Mutex<Vec<Incoming>>> = Arc::default();
    let c = Arc::clone(&challenges);
    d.on_text("401 cseq=REGISTER", Priority::APPLICATION, move |m| {
        c.lock().unwrap().push(m);
    })
    .unwrap();
    let (_, mut blf) = d
        .stream_text("NOTIFY event=dialog", Priority::APPLICATION, 8)
        .unwrap();
    let (_, mut calls) = d.stream_text("INVITE", Priority::APPLICATION, 8).unwrap();
    let (_, mut log) = d.stream_text("tap: any", Priority::HIGHEST, 64).unwrap();

    let flow = [
        ("register_401.sip", "challenge"),
        ("invite_200.sip", "unrouted"),
        ("notify_dialog.sip", "blf"),
        ("incoming_invite.sip", "call"),
    ];
    let handle = testbed.handle();
    for (file, _) in flow {
        assert_eq!(handle.send_all(&corpus(file), true), 1);
    }
    // The link answers a server ping itself and never reports it as a frame;
    // garbage reaches the router and comes back malformed.
    handle.send_all(b"\r\n\r\n", true);
    handle.send_all(b"not sip at all", true);

    for (file, want) in flow {
        let data = next_frame(&mut events).await;
        assert_eq!(data, corpus(file));
        match (d.dispatch(data), want) {
            (Dispatched::Handled { taps: 1, .. }, "challenge" | "blf" | "call") => {}
            (Dispatched::Unrouted(m), "unrouted") => {
                assert_eq!(m.message().unwrap().status(), Some(200));
            }
            (other, _) => panic!("{file}: {other:?}"),
        }
    }
    match d.dispatch(next_frame(&mut events).await) {
        Dispatched::Malformed { frame, .. } => assert_eq!(frame.bytes(), b"not sip at all"),
        other => panic!("{other:?}"),
    }

    let challenge = challenges.lock().unwrap().pop().expect("callback ran");
    let msg = challenge.message().unwrap();
    assert!(msg
        .header(sipws_core::message::HeaderName::WwwAuthenticate)
        .is_some_and(|v| v.starts_with("Digest")));
    let notify = blf.try_next().expect("NOTIFY queued");
    assert_eq!(notify.message().unwrap().method(), Some("NOTIFY"));
    let call = calls.try_next().expect("INVITE queued");
    assert_eq!(call.kind(), FrameKind::Request);
    assert!(call.message().unwrap().body().starts_with(b"v=0"));
    let mut logged = 0;
    while log.try_next().is_some() {
        logged += 1;
    }
    assert_eq!(logged, 5);
    let s = d.stats();
    assert_eq!(s.handled.frames, 3);
    assert_eq!(s.unrouted.frames, 1);
    assert_eq!(s.malformed.frames, 1);
    assert_eq!(s.kind(FrameKind::Ping).frames, 0, "the link kept the ping");
}
