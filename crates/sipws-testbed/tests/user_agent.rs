//! The sipws tokio user agent against the testbed: digest registration,
//! a call to the scripted peer (100, 180, 200 with SDP, ACK), INFO, BYE,
//! un-REGISTER on shutdown — each step seen in the testbed's events.

use std::time::Duration;

use sipws::ua::{CallEvent, UserAgent, UserAgentConfig};
use sipws_core::auth::Algorithm;
use sipws_core::sdp::{self, LocalMedia, OfferKind, SessionDescription};
use sipws_testbed::{PeerCallState, SipConfig, Testbed, TestbedConfig, TestbedEvent, User};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(15);

async fn wait_for(
    rx: &mut broadcast::Receiver<TestbedEvent>,
    pred: impl Fn(&TestbedEvent) -> bool,
) -> TestbedEvent {
    sipws_testbed::wait_for_event(rx, LIMIT, pred)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn user_agent_registers_and_calls_the_scripted_peer() {
    let tb = Testbed::start(TestbedConfig {
        sip: SipConfig {
            users: vec![User {
                name: "alice".into(),
                password: "pw".into(),
            }],
            algorithm: Algorithm::Sha256,
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    })
    .await
    .unwrap();
    let mut events = tb.handle().subscribe();
    let config =
        UserAgentConfig::new(tb.url(), "sip:alice@sipws.test").with_credentials("alice", "pw");
    let (ua, _ua_events) = UserAgent::spawn(config).expect("user agent starts");
    let reg = tokio::time::timeout(LIMIT, ua.register())
        .await
        .expect("registration within the limit")
        .expect("registered");
    assert_eq!(reg.bindings.len(), 1, "{:?}", reg.bindings);
    wait_for(
        &mut events,
        |e| matches!(e, TestbedEvent::AuthChallenged { algorithm, .. } if algorithm == "SHA-256"),
    )
    .await;
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Registered { .. })
    })
    .await;

    // A plain RTP offer gets a plain RTP answer from the peer.
    let offer = sdp::offer(
        &LocalMedia::from_random("alice", "127.0.0.1", &[7; 72]),
        OfferKind::Plain,
    );
    let mut call = ua
        .call("sip:peer@sipws.test", offer.as_bytes())
        .await
        .expect("call placed");
    let sdp = tokio::time::timeout(LIMIT, async {
        let mut progress = Vec::new();
        while let Some(e) = call.next_event().await {
            match e {
                CallEvent::Progress { status, .. } => progress.push(status),
                CallEvent::Answered { sdp } => return (progress, sdp),
                CallEvent::Ended(why) => panic!("call ended: {why}"),
                _ => {}
            }
        }
        panic!("user agent stopped");
    })
    .await
    .expect("answer within the limit");
    assert!(sdp.0.contains(&180), "{:?}", sdp.0);
    let answer = SessionDescription::parse(&sdp.1).expect("an SDP answer");
    assert_eq!(answer.media.len(), 1);
    let audio = &answer.media[0];
    assert_eq!((audio.kind, audio.proto), ("audio", "RTP/AVP"));
    assert_eq!(audio.formats, ["0", "101"]);
    assert_eq!(audio.attribute("ice-ufrag"), None);
    wait_for(&mut events, |e| {
        matches!(
            e,
            TestbedEvent::PeerCall {
                state: PeerCallState::Confirmed,
                ..
            }
        )
    })
    .await;
    let r = call.send_dtmf('1').await.expect("INFO answered");
    assert_eq!(r.status, 200);
    call.hangup().await.expect("BYE answered");
    wait_for(&mut events, |e| {
        matches!(
            e,
            TestbedEvent::PeerCall {
                state: PeerCallState::Ended,
                ..
            }
        )
    })
    .await;
    tokio::time::timeout(LIMIT, ua.shutdown())
        .await
        .expect("shutdown within the limit")
        .expect("clean shutdown");
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Unregistered { .. })
    })
    .await;
    assert!(tb.handle().bindings().is_empty());
}
