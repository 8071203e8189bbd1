//! The message trace of the tokio user agent
//! ([`UserAgentConfig::with_message_trace`]): against the embedded
//! testbed, a digest registration is reported as the four SIP messages of
//! the exchange, in order and with their direction; an OPTIONS as the
//! request and its answer; without the option nothing is traced.

use std::time::Duration;

use sipws::ua::{Direction, UaEvents, UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::message::{HeaderName, Limits, Message};
use sipws_core::ua::Target;
use sipws_testbed::{SipConfig, Testbed, TestbedConfig, User};

const STEP: Duration = Duration::from_secs(15);

/// Every traced message already delivered: direction, start line kind
/// (method or status) and CSeq.
fn traced(events: &mut UaEvents) -> Vec<(Direction, String, String, bool)> {
    let mut out = Vec::new();
    while let Some(e) = events.try_next() {
        if let UaStreamEvent::Message { direction, data } = e.event {
            let msg = Message::parse(&data, &Limits::default()).expect("a SIP message");
            let what = match (msg.method(), msg.status()) {
                (Some(m), _) => m.to_owned(),
                (_, Some(s)) => s.to_string(),
                _ => panic!("neither request nor response"),
            };
            let cseq = msg.header(HeaderName::CSeq).unwrap_or_default().to_owned();
            let auth = msg.header(HeaderName::Authorization).is_some();
            out.push((direction, what, cseq, auth));
        }
    }
    out
}

async fn testbed() -> Testbed {
    Testbed::start(TestbedConfig {
        sip: SipConfig {
            users: vec![User {
                name: "alice".into(),
                password: "pw".into(),
            }],
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    })
    .await
    .expect("testbed starts")
}

#[tokio::test]
async fn registration_and_options_are_traced_in_order() {
    let tb = testbed().await;
    let config = UserAgentConfig::new(tb.url(), "sip:alice@sipws.test")
        .with_credentials("alice", "pw")
        .with_message_trace();
    let (ua, mut events) = UserAgent::spawn(config).expect("starts");
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("in time")
        .expect("registered");
    let r = tokio::time::timeout(STEP, ua.options(Target::Uri("sip:sipws.test".into())))
        .await
        .expect("in time")
        .expect("answered");
    assert_eq!(r.status, 200);
    // The OPTIONS answer resolved the waiter in the batch that also
    // delivered its trace.
    let got = traced(&mut events);
    use Direction::{Received, Sent};
    let expect = [
        (Sent, "REGISTER", "1 REGISTER", false),
        (Received, "401", "1 REGISTER", false),
        (Sent, "REGISTER", "2 REGISTER", true),
        (Received, "200", "2 REGISTER", false),
        (Sent, "OPTIONS", "", false),
        (Received, "200", "", false),
    ];
    assert_eq!(got.len(), expect.len(), "{got:?}");
    for (g, e) in got.iter().zip(expect) {
        assert_eq!(g.0, e.0, "{got:?}");
        assert_eq!(g.1, e.1, "{got:?}");
        if !e.2.is_empty() {
            assert_eq!(g.2, e.2, "{got:?}");
        }
        assert_eq!(g.3, e.3, "{got:?}");
    }
    assert!(got[4].2.ends_with(" OPTIONS") && got[5].2 == got[4].2);
    let _ = tokio::time::timeout(STEP, ua.shutdown()).await;
}

#[tokio::test]
async fn nothing_is_traced_by_default() {
    let tb = testbed().await;
    let config =
        UserAgentConfig::new(tb.url(), "sip:alice@sipws.test").with_credentials("alice", "pw");
    let (ua, mut events) = UserAgent::spawn(config).expect("starts");
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("in time")
        .expect("registered");
    assert!(traced(&mut events).is_empty());
    let _ = tokio::time::timeout(STEP, ua.shutdown()).await;
}
