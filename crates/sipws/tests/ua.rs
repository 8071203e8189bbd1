//! The tokio user agent against the embedded testbed (registrar with
//! digest, relay with Record-Route): registration, a call with INFO and
//! MESSAGE both ways, BYE; then every connection is dropped (1006) and the
//! registrar forgets its bindings, both user agents reconnect and register
//! again on their own, and a second call succeeds; clean shutdown.
//! Bounded waits; no timed assertions.

use std::time::Duration;

use sipws::ua::{Call, CallEvent, UaEvents, UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::link::LinkEvent;
use sipws_core::ua::{CallEndReason, UaEvent};
use sipws_testbed::{SipConfig, Testbed, TestbedConfig, User};

const STEP: Duration = Duration::from_secs(15);

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(STEP, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

fn agent(url: &str, user: &str) -> (UserAgent, UaEvents) {
    let mut config = UserAgentConfig::new(url, format!("sip:{user}@sipws.test"))
        .with_credentials(user, "pw-".to_owned() + user);
    let r = &mut config.driver.link.reconnect;
    r.max_attempts = 50;
    r.delays = vec![Duration::from_millis(50), Duration::from_millis(100)];
    r.jitter_permille = 0;
    UserAgent::spawn(config).expect("starts")
}

async fn next_ua_event<T>(
    events: &mut UaEvents,
    what: &str,
    mut pick: impl FnMut(&UaEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let e = events.next().await.expect("stream open");
            if let UaStreamEvent::Ua(ev) = &e.event {
                if let Some(v) = pick(ev) {
                    return v;
                }
            }
        }
    })
    .await
}

async fn call(alice: &UserAgent, bob: &UserAgent, bob_events: &mut UaEvents) -> (Call, Call) {
    let mut out = alice
        .call("sip:bob@sipws.test", b"v=0\r\n")
        .await
        .expect("INVITE");
    let id = next_ua_event(bob_events, "INVITE at bob", |e| match e {
        UaEvent::IncomingCall { call, .. } => Some(*call),
        _ => None,
    })
    .await;
    let mut inc = bob.incoming_call(id).await.expect("task").expect("handle");
    inc.answer(180, None).await.expect("180");
    inc.answer(200, Some(b"v=0\r\ns=answer\r\n"))
        .await
        .expect("200");
    assert_eq!(
        within("answered", out.answered()).await.expect("answered"),
        b"v=0\r\ns=answer\r\n"
    );
    within("ACK", inc.confirmed()).await.expect("confirmed");
    (out, inc)
}

async fn next_request(call: &mut Call) -> Vec<u8> {
    within("request in dialog", async {
        loop {
            match call.next_event().await {
                Some(CallEvent::Request { message, .. }) => return message.body().to_vec(),
                Some(CallEvent::Ended(r)) => panic!("ended: {r:?}"),
                Some(_) => {}
                None => panic!("stream closed"),
            }
        }
    })
    .await
}

#[tokio::test]
async fn register_call_reconnect_and_call_again() {
    let users = ["alice", "bob"]
        .map(|u| User {
            name: u.to_owned(),
            password: format!("pw-{u}"),
        })
        .to_vec();
    let testbed = Testbed::start(TestbedConfig {
        sip: SipConfig {
            users,
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    })
    .await
    .expect("testbed");
    let url = testbed.url();
    let (alice, mut alice_events) = agent(&url, "alice");
    let (bob, mut bob_events) = agent(&url, "bob");
    within("alice registers", alice.register())
        .await
        .expect("registered");
    within("bob registers", bob.register())
        .await
        .expect("registered");
    assert_eq!(testbed.handle().bindings().len(), 2);

    let (mut out, mut inc) = call(&alice, &bob, &mut bob_events).await;
    let r = within("INFO", out.info("text/plain", b"one"))
        .await
        .expect("INFO");
    assert_eq!(r.status, 200);
    assert_eq!(next_request(&mut inc).await, b"one");
    let r = within("MESSAGE", inc.message("text/plain", b"two"))
        .await
        .expect("MESSAGE");
    assert_eq!(r.status, 200);
    assert_eq!(next_request(&mut out).await, b"two");
    assert_eq!(
        within("BYE", out.hangup()).await.expect("BYE"),
        CallEndReason::LocalHangup
    );
    assert_eq!(
        within("BYE at bob", inc.ended()).await,
        CallEndReason::RemoteHangup
    );

    // Every connection drops (no close frame) and the registrar forgets.
    while alice_events.try_next().is_some() {}
    while bob_events.try_next().is_some() {}
    let handle = testbed.handle();
    handle.drop_registrations();
    assert!(handle.drop_all() >= 2);
    for events in [&mut alice_events, &mut bob_events] {
        next_ua_event(events, "reconnected", |e| {
            matches!(e, UaEvent::Link(LinkEvent::Reconnected { .. })).then_some(())
        })
        .await;
        next_ua_event(events, "registered again", |e| {
            matches!(e, UaEvent::Registered { .. }).then_some(())
        })
        .await;
    }
    assert_eq!(handle.bindings().len(), 2);

    let (mut out, mut inc) = call(&alice, &bob, &mut bob_events).await;
    assert_eq!(
        within("BYE from bob", inc.hangup()).await.expect("BYE"),
        CallEndReason::LocalHangup
    );
    assert_eq!(
        within("BYE at alice", out.ended()).await,
        CallEndReason::RemoteHangup
    );

    within("alice leaves", alice.shutdown())
        .await
        .expect("shutdown");
    within("bob leaves", bob.shutdown())
        .await
        .expect("shutdown");
    assert!(handle.bindings().is_empty(), "{:?}", handle.bindings());
}
