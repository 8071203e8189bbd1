//! Virtual-time tests of the user agent: two (or three) user agents around
//! the fake proxy of [`super::testing`], the clock jumping from one
//! `poll_timeout` to the next, exact instants where timers matter.

use core::time::Duration;

use super::testing::{at, config, Net, DOMAIN, PASSWORD};
use super::*;
use crate::message::Limits;

const A: usize = 0;
#[allow(dead_code)]
const B: usize = 1;

fn registered(net: &mut Net, i: usize) {
    net.uas[i].register(net.now).unwrap();
    net.settle();
    assert!(
        matches!(
            net.uas[i].registration(),
            RegistrationState::Registered { .. }
        ),
        "{:?}",
        net.uas[i].registration()
    );
}

// ---- registration ----------------------------------------------------

#[test]
fn register_401_then_authorization_with_next_cseq_then_200() {
    let mut net = Net::new(&["alice"]);
    net.uas[A].register(at(0)).unwrap();
    assert_eq!(net.uas[A].registration(), RegistrationState::Registering);
    net.settle();
    assert_eq!(
        net.flow(),
        [
            "alice>P REGISTER (1 REGISTER)",
            "P>alice 401 (1 REGISTER)",
            "alice>P REGISTER (2 REGISTER)",
            "P>alice 200 (2 REGISTER)",
        ]
    );
    let first = net.hops[0].message();
    assert!(first.header(HeaderName::Authorization).is_none());
    let contact = first.header(HeaderName::Contact).unwrap();
    let contact_uri = net.uas[A].contact_uri();
    assert!(
        contact_uri.ends_with(".invalid;transport=ws"),
        "{contact_uri}"
    );
    assert_eq!(
        contact,
        format!(
            "<{contact_uri}>;+sip.instance=\"<urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd43001>\";reg-id=1"
        )
    );
    assert_eq!(first.header(HeaderName::Expires), Some("600"));
    assert_eq!(first.request_uri(), Some("sip:example.test"));
    let second = net.hops[2].message();
    let creds = second.header(HeaderName::Authorization).unwrap();
    assert!(creds.contains("username=\"alice\""), "{creds}");
    assert!(
        creds.contains("qop=auth, ") || creds.contains("qop=auth"),
        "{creds}"
    );
    assert!(creds.contains("nc=00000001"), "{creds}");
    assert!(creds.contains("uri=\"sip:example.test\""), "{creds}");
    // Same Call-ID and From tag across the chain.
    assert_eq!(first.call_id(), second.call_id());
    assert_eq!(first.from().unwrap().tag(), second.from().unwrap().tag());
    assert_eq!(
        net.ua_events(A),
        [&UaEvent::Registered {
            expires: Duration::from_secs(600),
            bindings: vec![contact_uri.clone()],
        }]
    );
    assert_eq!(
        net.uas[A].registration(),
        RegistrationState::Registered {
            expires_at: at(600_000),
            refresh_at: at(570_000),
        }
    );
}

#[test]
fn refresh_goes_out_at_exactly_the_margin_with_preemptive_credentials() {
    let mut net = Net::new(&["alice"]);
    net.proxy.grant = Some(120);
    registered(&mut net, A);
    // 120 s granted, 30 s margin: refresh at 90 s, then at 180 s, ...
    assert_eq!(
        net.uas[A].poll_timeout().map(|t| t.max(at(0))),
        net.uas[A].poll_timeout()
    );
    let before = net.hops.len();
    net.run_until(at(89_999));
    assert!(
        net.flow_since(before).is_empty(),
        "{:?}",
        net.flow_since(before)
    );
    net.run_until(at(90_000));
    assert_eq!(
        net.flow_since(before),
        ["alice>P REGISTER (3 REGISTER)", "P>alice 200 (3 REGISTER)"]
    );
    assert_eq!(net.hops[before].at, at(90_000));
    let creds = net.hops[before]
        .message()
        .header(HeaderName::Authorization)
        .unwrap()
        .to_owned();
    assert!(creds.contains("nc=00000002"), "{creds}");
    net.run_until(at(180_000));
    assert_eq!(net.hops.last().unwrap().at, at(180_000));
    assert_eq!(net.flow().len(), 8);
    let regs = net
        .ua_events(A)
        .iter()
        .filter(|e| matches!(e, UaEvent::Registered { .. }))
        .count();
    assert_eq!(regs, 3);
}

#[test]
fn refresh_jitter_stays_within_the_permille_bound() {
    let mut c = config("alice", PASSWORD, 1);
    c.refresh_jitter_permille = 100;
    let mut net = Net::with_configs(&["alice"], vec![c]);
    net.proxy.grant = Some(600);
    registered(&mut net, A);
    let RegistrationState::Registered {
        refresh_at,
        expires_at,
    } = net.uas[A].registration()
    else {
        panic!()
    };
    assert_eq!(expires_at, at(600_000));
    assert!(
        refresh_at <= at(570_000) && refresh_at >= at(513_000),
        "{refresh_at:?}"
    );
    let before = net.hops.len();
    net.run_until(refresh_at);
    assert_eq!(net.hops[before].at, refresh_at);
}

#[test]
fn stale_nonce_is_retried_once_without_failing() {
    let mut net = Net::new(&["alice"]);
    net.proxy.grant = Some(120);
    registered(&mut net, A);
    net.proxy.rotate_nonce();
    let before = net.hops.len();
    net.run_until(at(90_000));
    assert_eq!(
        net.flow_since(before),
        [
            "alice>P REGISTER (3 REGISTER)",
            "P>alice 401 (3 REGISTER)",
            "alice>P REGISTER (4 REGISTER)",
            "P>alice 200 (4 REGISTER)",
        ]
    );
    let challenge = net.hops[before + 1].message();
    assert!(challenge
        .header(HeaderName::WwwAuthenticate)
        .unwrap()
        .contains("stale=true"));
    let retry = net.hops[before + 2].message();
    let creds = retry.header(HeaderName::Authorization).unwrap();
    assert!(
        creds.contains("nonce=\"n0nce2\"") && creds.contains("nc=00000001"),
        "{creds}"
    );
    assert!(!net
        .ua_events(A)
        .iter()
        .any(|e| matches!(e, UaEvent::RegistrationFailed { .. })));
}

#[test]
fn wrong_password_fails_with_the_status_and_reason() {
    let mut net = Net::with_configs(&["alice"], vec![config("alice", "wrong", 1)]);
    net.uas[A].register(at(0)).unwrap();
    net.settle();
    assert_eq!(
        net.flow(),
        [
            "alice>P REGISTER (1 REGISTER)",
            "P>alice 401 (1 REGISTER)",
            "alice>P REGISTER (2 REGISTER)",
            "P>alice 401 (2 REGISTER)",
        ]
    );
    let events = net.ua_events(A);
    let [UaEvent::RegistrationFailed { status, reason }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(*status, 401);
    assert!(reason.contains("rejected"), "{reason}");
    assert_eq!(net.uas[A].registration(), RegistrationState::Unregistered);
    // No refresh is scheduled after a failure.
    net.run_until(at(3_600_000));
    assert_eq!(net.flow().len(), 4);
}

#[test]
fn no_credentials_fails_on_the_challenge() {
    let mut c = config("alice", PASSWORD, 1);
    c.credentials = None;
    let mut net = Net::with_configs(&["alice"], vec![c]);
    net.uas[A].register(at(0)).unwrap();
    net.settle();
    assert!(matches!(
        net.ua_events(A).as_slice(),
        [UaEvent::RegistrationFailed { status: 401, .. }]
    ));
}

#[test]
fn never_two_registers_in_flight() {
    let mut net = Net::new(&["alice"]);
    // The link is not open yet: both requests wait, only one REGISTER exists.
    net.uas[A].register(at(0)).unwrap();
    net.uas[A].register(at(0)).unwrap();
    net.uas[A].register(at(0)).unwrap();
    net.settle();
    assert_eq!(net.flow().len(), 4, "{:?}", net.flow());
    let registers: Vec<_> = net
        .flow()
        .into_iter()
        .filter(|f| f.contains(">P REGISTER"))
        .collect();
    assert_eq!(registers.len(), 2);
    // An unregister asked while a REGISTER is out waits for it.
    net.drop = Some(Box::new(|_, m| m.method() == Some("REGISTER")));
    net.uas[A].register(net.now).unwrap();
    net.settle();
    net.drop = None;
    net.uas[A].unregister(net.now).unwrap();
    net.settle();
    assert_eq!(net.uas[A].registration(), RegistrationState::Registering);
    let n = net.hops.len();
    net.run_for(40_000);
    // Timer F ended the first; then the un-REGISTER went out.
    let flow = net.flow_since(n);
    assert_eq!(
        flow,
        ["alice>P REGISTER (4 REGISTER)", "P>alice 200 (4 REGISTER)"],
        "{flow:?}"
    );
    assert_eq!(net.hops[n].at, at(32_000));
    assert_eq!(net.hops[n].message().header(HeaderName::Expires), Some("0"));
    let events = net.ua_events(A);
    assert!(
        matches!(
            events[events.len() - 2],
            UaEvent::RegistrationFailed { status: 408, .. }
        ),
        "{events:?}"
    );
    assert_eq!(events[events.len() - 1], &UaEvent::Unregistered);
}

#[test]
fn reconnect_registers_again_on_the_new_flow() {
    let mut net = Net::new(&["alice"]);
    registered(&mut net, A);
    let first_conn = net.conn(A);
    assert_eq!(net.proxy.bindings.len(), 1);
    net.run_until(at(5_000));
    net.restart_server();
    assert_eq!(net.uas[A].registration(), RegistrationState::Unregistered);
    let before = net.hops.len();
    net.run_for(10_000);
    assert_ne!(net.conn(A), first_conn);
    let flow = net.flow_since(before);
    assert_eq!(
        flow,
        ["alice>P REGISTER (3 REGISTER)", "P>alice 200 (3 REGISTER)"],
        "{flow:?}"
    );
    // Reconnect delay: 1 s ± 20 % after the loss at 5 s.
    let t = net.hops[before].at;
    assert!(t >= at(5_800) && t <= at(6_200), "{t:?}");
    assert_eq!(net.proxy.bindings.len(), 1);
    assert_eq!(net.proxy.bindings[0].conn, net.conn(A).unwrap());
    assert!(matches!(
        net.uas[A].registration(),
        RegistrationState::Registered { .. }
    ));
    let reconnected = net.events[A]
        .iter()
        .position(|(_, e)| matches!(e, UaEvent::Link(crate::link::LinkEvent::Reconnected { .. })))
        .unwrap();
    let registered_again = net.events[A]
        .iter()
        .rposition(|(_, e)| matches!(e, UaEvent::Registered { .. }))
        .unwrap();
    assert!(registered_again > reconnected);
}

#[test]
fn unregister_then_shutdown_closes_the_link() {
    let mut net = Net::new(&["alice"]);
    registered(&mut net, A);
    net.take_events(A);
    net.uas[A].shutdown(net.now).unwrap();
    net.settle();
    let last = net.hops.len() - 2;
    assert_eq!(
        net.flow_since(last),
        ["alice>P REGISTER (3 REGISTER)", "P>alice 200 (3 REGISTER)"]
    );
    {
        let unreg = net.hops[last].message();
        assert_eq!(unreg.header(HeaderName::Expires), Some("0"));
        assert!(unreg
            .header(HeaderName::Contact)
            .unwrap()
            .ends_with(";expires=0"));
    }
    assert_eq!(net.take_events(A), [UaEvent::Unregistered]);
    assert_eq!(net.uas[A].link().state(), crate::link::LinkState::Idle);
    assert!(net.proxy.bindings.is_empty());
    assert_eq!(net.conn(A), None);
}

#[test]
fn interval_too_brief_retries_with_min_expires() {
    let mut net = Net::new(&["alice"]);
    // The registrar's 423 is injected by hand: answer the first REGISTER.
    net.uas[A].register(at(0)).unwrap();
    net.drop = Some(Box::new(|_, _| true));
    net.settle();
    net.drop = None;
    let sent = net.uas[A].sent.last().unwrap().request.clone();
    let brief = ResponseBuilder::reply_to_owned(&sent, 423)
        .to_tag("x")
        .header(HeaderName::MinExpires, "1200")
        .build()
        .unwrap();
    let n = net.hops.len();
    net.inject(A, &brief.to_bytes());
    let retry = net
        .hops
        .iter()
        .skip(n)
        .find(|h| h.dir == "alice>P")
        .unwrap()
        .message();
    assert_eq!(retry.header(HeaderName::Expires), Some("1200"));
    assert!(matches!(
        net.uas[A].registration(),
        RegistrationState::Registered { .. }
    ));
}

#[test]
fn options_probe_answers_the_link() {
    let mut c = crate::link::LinkConfig::new(["ws://127.0.0.1:8080"]);
    c.keepalive.fallback = crate::link::FallbackProbe::Request;
    let mut ua = UserAgent::with_seed(config("alice", PASSWORD, 1), c, 5).unwrap();
    ua.connect(at(0));
    assert!(matches!(ua.poll_transmit(), Some(Transmit::Connect { .. })));
    ua.handle_open(at(0), Some("sip"));
    // No pong ever: the link learns it and asks for a probe.
    let mut now = at(0);
    let mut options = None;
    for _ in 0..50 {
        now = ua.poll_timeout().unwrap();
        ua.handle_timeout(now);
        while let Some(t) = ua.poll_transmit() {
            if let Transmit::Frame { data, .. } = t {
                if data.starts_with(b"OPTIONS ") {
                    options = Some(data);
                }
            }
        }
        if options.is_some() {
            break;
        }
    }
    let options = options.expect("an OPTIONS probe");
    let m = Message::parse(&options, &Limits::default()).unwrap();
    assert_eq!(m.request_uri(), Some("sip:example.test"));
    let ok = ResponseBuilder::reply_to(&m, 200)
        .to_tag("p")
        .build()
        .unwrap();
    ua.handle_frame(now, &ok.to_bytes(), Opcode::Text);
    let events: Vec<_> = core::iter::from_fn(|| ua.poll_event()).collect();
    assert!(events
        .iter()
        .any(|e| matches!(e, UaEvent::Link(crate::link::LinkEvent::ProbeRequested))));
    assert_eq!(ua.link().state(), crate::link::LinkState::Open);
    let _ = DOMAIN;
}

// ---- calls -------------------------------------------------------------

const OFFER: &[u8] = b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn bob_aor() -> String {
    format!("sip:bob@{DOMAIN}")
}

/// The call B's user agent sees after A's INVITE.
fn incoming_call(net: &Net, i: usize) -> CallId {
    net.events[i]
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            UaEvent::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .expect("an incoming call")
}

/// Both registered, A called B, B rang and answered, the ACK arrived.
fn established(net: &mut Net) -> (CallId, CallId) {
    registered(net, A);
    registered(net, B);
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(net, B);
    net.uas[B].answer(net.now, b, 180, None).unwrap();
    net.settle();
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Confirmed));
    assert_eq!(net.uas[B].call_state(b), Some(CallState::Confirmed));
    (a, b)
}

#[test]
fn invite_100_180_200_ack_with_route_set_and_alias() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    net.take_events(A);
    net.take_events(B);
    let n = net.hops.len();
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "alice>P INVITE (1 INVITE)",
            "P>bob INVITE (1 INVITE)",
            "bob>P 100 (1 INVITE)",
            "P>alice 100 (1 INVITE)",
        ]
    );
    let b = incoming_call(&net, B);
    {
        let invite = net.hops[n + 1].message();
        assert!(invite
            .request_uri()
            .unwrap()
            .ends_with(".invalid;transport=ws"));
        assert!(!invite.request_uri().unwrap().contains("alias"));
        assert_eq!(invite.body(), OFFER);
        assert_eq!(
            invite.header(HeaderName::RecordRoute),
            Some("<sip:proxy.invalid;transport=ws;lr>")
        );
    }
    let events = net.take_events(B);
    let [UaEvent::IncomingCall { from, sdp, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert!(from.contains("sip:alice@example.test"));
    assert_eq!(sdp, OFFER);
    assert_eq!(net.uas[B].call_direction(b), Some(Direction::Incoming));
    net.uas[B].answer(net.now, b, 180, None).unwrap();
    net.settle();
    let n = net.hops.len();
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "bob>P 200 (1 INVITE)",
            "P>alice 200 (1 INVITE)",
            "alice>P ACK (1 ACK)",
            "P>bob ACK (1 ACK)",
        ]
    );
    {
        // The ACK goes to B's Contact as the proxy rewrote it (alias kept,
        // opaque) through the Record-Route.
        let ack = net.hops[n + 2].message();
        let target = net.uas[A].dialog(a).unwrap().remote_target.clone();
        assert!(target.contains(";alias=c~"), "{target}");
        assert_eq!(ack.request_uri(), Some(target.as_str()));
        assert_eq!(
            ack.header(HeaderName::Route),
            Some("<sip:proxy.invalid;transport=ws;lr>")
        );
        let delivered = net.hops[n + 3].message();
        assert!(!delivered.request_uri().unwrap().contains("alias"));
    }
    let events = net.take_events(A);
    assert_eq!(
        events,
        [
            UaEvent::CallProgress {
                call: a,
                status: 100,
                reason: "Trying".into(),
                sdp: vec![]
            },
            UaEvent::CallProgress {
                call: a,
                status: 180,
                reason: "Ringing".into(),
                sdp: vec![]
            },
            UaEvent::CallAnswered {
                call: a,
                sdp: ANSWER.to_vec()
            },
        ]
    );
    assert_eq!(net.take_events(B), [UaEvent::CallConfirmed { call: b }]);
    // The dialogs agree.
    let da = net.uas[A].dialog(a).unwrap().clone();
    let db = net.uas[B].dialog(b).unwrap().clone();
    assert_eq!(da.call_id, db.call_id);
    assert_eq!(
        (da.local_tag.as_str(), da.remote_tag.as_str()),
        (db.remote_tag.as_str(), db.local_tag.as_str())
    );
    assert_eq!(net.uas[B].router().dialogs().count(), 1);
    // Nothing more is sent: no 2xx retransmission after the ACK.
    let n = net.hops.len();
    net.run_for(10_000);
    assert!(
        net.flow_since(n).iter().all(|f| f.contains("REGISTER")),
        "{:?}",
        net.flow_since(n)
    );
}

#[test]
fn uas_retransmits_2xx_at_t1_doubling_to_t2_until_the_ack() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    net.run_until(at(1_000));
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    // A's ACKs are lost until 10 s.
    net.drop = Some(Box::new(|i, m| i == A && m.method() == Some("ACK")));
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    assert_eq!(net.uas[B].call_state(b), Some(CallState::Answered));
    net.run_until(at(10_000));
    net.drop = None;
    net.run_until(at(40_000));
    let oks: Vec<u64> = net
        .hops
        .iter()
        .filter(|h| h.dir == "bob>P" && h.summary().contains("200 (1 INVITE)"))
        .map(|h| h.at.as_millis())
        .collect();
    // Sent at 1 s, then +0.5, +1, +2, +4 (T2), +4 … until an ACK gets through.
    assert_eq!(oks, [1_000, 1_500, 2_500, 4_500, 8_500, 12_500]);
    let acks: Vec<u64> = net
        .hops
        .iter()
        .filter(|h| h.dir == "P>bob" && h.summary().contains("ACK"))
        .map(|h| h.at.as_millis())
        .collect();
    // A ACKs every 2xx it sees; the first to arrive is the one of 12.5 s.
    assert_eq!(acks, [12_500]);
    assert_eq!(net.uas[B].call_state(b), Some(CallState::Confirmed));
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Confirmed));
    assert!(net
        .ua_events(B)
        .contains(&&UaEvent::CallConfirmed { call: b }));
}

#[test]
fn no_ack_within_64_t1_ends_the_call_with_bye() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    net.drop = Some(Box::new(|i, m| i == A && m.method() == Some("ACK")));
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.run_until(at(40_000));
    let end = net.events[B]
        .iter()
        .find(|(_, e)| matches!(e, UaEvent::CallEnded { .. }))
        .unwrap();
    assert_eq!(
        end,
        &(
            at(32_000),
            UaEvent::CallEnded {
                call: b,
                reason: CallEndReason::NoAck
            }
        )
    );
    let bye = net
        .hops
        .iter()
        .find(|h| h.dir == "bob>P" && h.summary().contains("BYE"))
        .unwrap();
    assert_eq!(bye.at, at(32_000));
    // A receives the BYE and ends too.
    assert!(net.ua_events(A).iter().any(|e| matches!(
        e,
        UaEvent::CallEnded {
            reason: CallEndReason::RemoteHangup,
            ..
        }
    )));
}

#[test]
fn notify_info_message_in_and_out_of_dialog_get_200() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, b) = established(&mut net);
    net.take_events(A);
    net.take_events(B);
    let n = net.hops.len();
    // NOTIFY from B in the dialog, INFO from A, MESSAGE out of dialog.
    let notify = net.uas[B]
        .notify(net.now, &Target::Call(b), "talk", "text/plain", b"ring")
        .unwrap();
    net.settle();
    let info = net.uas[A]
        .info(
            net.now,
            &Target::Call(a),
            "application/dtmf-relay",
            b"Signal=5\r\nDuration=160\r\n",
        )
        .unwrap();
    net.settle();
    let msg = net.uas[A]
        .message(net.now, &Target::Uri(bob_aor()), "text/plain", b"hello")
        .unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "bob>P NOTIFY (1 NOTIFY)",
            "P>alice NOTIFY (1 NOTIFY)",
            "alice>P 200 (1 NOTIFY)",
            "P>bob 200 (1 NOTIFY)",
            "alice>P INFO (2 INFO)",
            "P>bob INFO (2 INFO)",
            "bob>P 200 (2 INFO)",
            "P>alice 200 (2 INFO)",
            "alice>P MESSAGE (1 MESSAGE)",
            "P>bob MESSAGE (1 MESSAGE)",
            "bob>P 200 (1 MESSAGE)",
            "P>alice 200 (1 MESSAGE)",
        ]
    );
    {
        let notify = net.hops[n].message();
        assert_eq!(notify.header(HeaderName::Event), Some("talk"));
        assert_eq!(notify.header(HeaderName::SubscriptionState), Some("active"));
        assert!(notify.request_uri().unwrap().contains(";alias=c~"));
    }
    let ea = net.take_events(A);
    let eb = net.take_events(B);
    assert!(
        matches!(
            &ea[0],
            UaEvent::IncomingRequest { call: Some(c), answered: true, rule: None, message, .. }
                if *c == a && message.method() == Some("NOTIFY") && message.body() == b"ring"
        ),
        "{ea:?}"
    );
    assert!(
        matches!(&ea[1], UaEvent::ResponseReceived { request, status: 200, .. } if *request == info)
    );
    assert!(
        matches!(&ea[2], UaEvent::ResponseReceived { request, status: 200, .. } if *request == msg)
    );
    assert!(
        matches!(&eb[0], UaEvent::ResponseReceived { request, status: 200, .. } if *request == notify)
    );
    assert!(
        matches!(&eb[1], UaEvent::IncomingRequest { call: Some(c), message, .. } if *c == b && message.method() == Some("INFO"))
    );
    assert!(
        matches!(&eb[2], UaEvent::IncomingRequest { call: None, message, .. } if message.method() == Some("MESSAGE"))
    );
}

#[test]
fn bye_from_caller_and_from_callee() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, b) = established(&mut net);
    let n = net.hops.len();
    net.uas[A].hangup(net.now, a).unwrap();
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Ending));
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "alice>P BYE (2 BYE)",
            "P>bob BYE (2 BYE)",
            "bob>P 200 (2 BYE)",
            "P>alice 200 (2 BYE)"
        ]
    );
    assert!(net.ua_events(A).contains(&&UaEvent::CallEnded {
        call: a,
        reason: CallEndReason::LocalHangup
    }));
    assert!(net.ua_events(B).contains(&&UaEvent::CallEnded {
        call: b,
        reason: CallEndReason::RemoteHangup
    }));
    assert_eq!(net.uas[A].calls().count() + net.uas[B].calls().count(), 0);
    assert_eq!(net.uas[A].router().dialogs().count(), 0);

    // And the other way round, in a second call.
    let (a, b) = {
        let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
        net.settle();
        let b = incoming_call(&net, B);
        net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
        net.settle();
        (a, b)
    };
    let n = net.hops.len();
    net.uas[B].hangup(net.now, b).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "bob>P BYE (1 BYE)",
            "P>alice BYE (1 BYE)",
            "alice>P 200 (1 BYE)",
            "P>bob 200 (1 BYE)"
        ]
    );
    assert!(net.ua_events(A).contains(&&UaEvent::CallEnded {
        call: a,
        reason: CallEndReason::RemoteHangup
    }));
    assert!(net.ua_events(B).contains(&&UaEvent::CallEnded {
        call: b,
        reason: CallEndReason::LocalHangup
    }));
}

#[test]
fn cancel_of_a_ringing_call() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    net.uas[B].answer(net.now, b, 180, None).unwrap();
    net.settle();
    let n = net.hops.len();
    net.uas[A].cancel(net.now, a).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "alice>P CANCEL (1 CANCEL)",
            "P>bob CANCEL (1 CANCEL)",
            "bob>P 200 (1 CANCEL)",
            "bob>P 487 (1 INVITE)",
            "P>alice 200 (1 CANCEL)",
            "P>alice 487 (1 INVITE)",
            "alice>P ACK (1 ACK)",
            "P>bob ACK (1 ACK)",
        ]
    );
    assert!(net.ua_events(A).contains(&&UaEvent::CallEnded {
        call: a,
        reason: CallEndReason::Cancelled
    }));
    assert!(net.ua_events(B).contains(&&UaEvent::CallEnded {
        call: b,
        reason: CallEndReason::RemoteCancelled
    }));
    assert_eq!(net.uas[A].calls().count() + net.uas[B].calls().count(), 0);
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    // B's 100 Trying is lost, so A has heard nothing when it cancels.
    net.drop = Some(Box::new(|i, m| i == B && m.status() == Some(100)));
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    net.drop = None;
    net.uas[A].cancel(net.now, a).unwrap();
    net.settle();
    assert!(!net.flow().iter().any(|f| f.contains("CANCEL")));
    let b = incoming_call(&net, B);
    net.uas[B].answer(net.now, b, 180, None).unwrap();
    net.settle();
    assert!(net.flow().iter().any(|f| f.contains("alice>P CANCEL")));
    assert!(net.ua_events(A).contains(&&UaEvent::CallEnded {
        call: a,
        reason: CallEndReason::Cancelled
    }));
}

#[test]
fn rejected_call_is_acked_by_the_transaction() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    let n = net.hops.len();
    net.uas[B].answer(net.now, b, 486, None).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "bob>P 486 (1 INVITE)",
            "P>alice 486 (1 INVITE)",
            "alice>P ACK (1 ACK)",
            "P>bob ACK (1 ACK)"
        ]
    );
    assert!(net.ua_events(A).contains(&&UaEvent::CallEnded {
        call: a,
        reason: CallEndReason::Rejected {
            status: 486,
            reason: "Busy Here".into()
        }
    }));
    assert!(net.ua_events(B).contains(&&UaEvent::CallEnded {
        call: b,
        reason: CallEndReason::Declined { status: 486 }
    }));
    // Calling someone not registered: the proxy's 404.
    let c = net.uas[A]
        .call(net.now, "sip:carol@example.test", OFFER)
        .unwrap();
    net.settle();
    assert!(net.ua_events(A).iter().any(|e| matches!(
        e,
        UaEvent::CallEnded { call, reason: CallEndReason::Rejected { status: 404, .. } } if *call == c
    )));
}

#[test]
fn call_survives_a_reconnect_with_a_reinvite() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, b) = established(&mut net);
    let old_target = net.uas[B].dialog(b).unwrap().remote_target.clone();
    net.run_until(at(2_000));
    net.drop_connection(A);
    let n = net.hops.len();
    net.run_for(5_000);
    let flow = net.flow_since(n);
    assert_eq!(
        flow,
        [
            "alice>P REGISTER (3 REGISTER)",
            "alice>P INVITE (2 INVITE)",
            "P>alice 200 (3 REGISTER)",
            "P>bob INVITE (2 INVITE)",
            "bob>P 100 (2 INVITE)",
            "bob>P 200 (2 INVITE)",
            "P>alice 100 (2 INVITE)",
            "P>alice 200 (2 INVITE)",
            "alice>P ACK (2 ACK)",
            "P>bob ACK (2 ACK)",
        ],
        "{flow:?}"
    );
    {
        let reinvite = net.hops[n + 1].message();
        assert_eq!(
            reinvite.header(HeaderName::Contact),
            Some(format!("<{}>", net.uas[A].contact_uri()).as_str())
        );
        assert_eq!(reinvite.body(), OFFER);
    }
    // B now targets A's new flow.
    let new_target = net.uas[B].dialog(b).unwrap().remote_target.clone();
    assert_ne!(new_target, old_target);
    assert!(
        new_target.ends_with(&format!(";alias=c~{}", net.conn(A).unwrap()))
            || new_target.contains(&format!("alias=c~{};", net.conn(A).unwrap())),
        "{new_target}"
    );
    assert!(net.ua_events(A).contains(&&UaEvent::CallUpdated {
        call: a,
        sdp: ANSWER.to_vec()
    }));
    assert!(net.ua_events(B).contains(&&UaEvent::CallUpdated {
        call: b,
        sdp: OFFER.to_vec()
    }));
    // A BYE from B reaches A over the new connection.
    let n = net.hops.len();
    net.uas[B].hangup(net.now, b).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "bob>P BYE (1 BYE)",
            "P>alice BYE (1 BYE)",
            "alice>P 200 (1 BYE)",
            "P>bob 200 (1 BYE)"
        ]
    );
    assert!(net.ua_events(A).contains(&&UaEvent::CallEnded {
        call: a,
        reason: CallEndReason::RemoteHangup
    }));
}

#[test]
fn server_restart_then_both_reregister_and_call_again() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    net.run_until(at(3_000));
    net.restart_server();
    net.run_for(10_000);
    assert!(net
        .uas
        .iter()
        .all(|u| matches!(u.registration(), RegistrationState::Registered { .. })));
    assert_eq!(net.proxy.bindings.len(), 2);
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Confirmed));
}

// ---- default answers ----------------------------------------------------

#[test]
fn unknown_method_gets_405_with_allow_and_unknown_dialog_481() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    let r = net.uas[B]
        .request(
            net.now,
            &Target::Uri(format!("sip:alice@{DOMAIN}")),
            "SUBSCRIBE",
            &[(HeaderName::Event, "presence".into())],
            None,
            b"",
        )
        .unwrap();
    net.settle();
    let events = net.take_events(B);
    let Some(UaEvent::ResponseReceived {
        request,
        status: 405,
        message: Some(m),
        ..
    }) = events.last()
    else {
        panic!("{events:?}")
    };
    assert_eq!(*request, r);
    assert_eq!(m.header(HeaderName::Allow), Some(ALLOW));
    // An in-dialog INFO for a dialog A never had.
    let stray = format!(
        "INFO {} SIP/2.0\r\nVia: SIP/2.0/WS  proxy.invalid;branch=z9hG4bKstray1\r\n\
From: <sip:bob@{DOMAIN}>;tag=nope1\r\nTo: <sip:alice@{DOMAIN}>;tag=nope2\r\n\
Call-ID: unknown-dialog\r\nCSeq: 5 INFO\r\nContent-Length: 0\r\n\r\n",
        net.uas[A].contact_uri()
    );
    let n = net.hops.len();
    net.inject(A, stray.as_bytes());
    assert_eq!(
        net.flow_since(n),
        ["P>alice INFO (5 INFO)", "alice>P 481 (5 INFO)"]
    );
    // An out-of-dialog BYE too; OPTIONS gets 200 with Allow.
    let n = net.hops.len();
    net.inject(
        A,
        stray
            .replace("INFO", "BYE")
            .replace(";tag=nope2", "")
            .as_bytes(),
    );
    assert_eq!(
        net.flow_since(n),
        ["P>alice BYE (5 BYE)", "alice>P 481 (5 BYE)"]
    );
    let o = net.uas[B]
        .options(net.now, &Target::Uri(format!("sip:alice@{DOMAIN}")))
        .unwrap();
    net.settle();
    let events = net.take_events(B);
    assert!(
        matches!(events.last(), Some(UaEvent::ResponseReceived { request, status: 200, message: Some(m), .. })
        if *request == o && m.header(HeaderName::Allow) == Some(ALLOW))
    );
}

#[test]
fn an_application_rule_takes_a_notify_and_answers_it() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    let rule = crate::router::Rule::parse("NOTIFY event=message-summary").unwrap();
    net.uas[A].add_rule(rule, 7, crate::router::Priority::APPLICATION);
    net.uas[B]
        .notify(
            net.now,
            &Target::Uri(format!("sip:alice@{DOMAIN}")),
            "message-summary",
            "application/simple-message-summary",
            b"Messages-Waiting: yes\r\n",
        )
        .unwrap();
    net.settle();
    let events = net.take_events(A);
    let Some(UaEvent::IncomingRequest {
        txn,
        rule: Some(7),
        answered: false,
        ..
    }) = events.last()
    else {
        panic!("{events:?}")
    };
    assert!(!net
        .flow()
        .iter()
        .any(|f| f.contains("alice>P 200 (1 NOTIFY)")));
    net.uas[A].respond(net.now, *txn, 202, None, b"").unwrap();
    net.settle();
    assert!(net.flow().iter().any(|f| f == "alice>P 202 (1 NOTIFY)"));
    assert!(matches!(
        net.uas[A].respond(net.now, *txn, 200, None, b""),
        Err(UaError::Txn(_))
    ));
    // Other NOTIFYs still get the default 200.
    net.uas[B]
        .notify(
            net.now,
            &Target::Uri(format!("sip:alice@{DOMAIN}")),
            "talk",
            "text/plain",
            b"",
        )
        .unwrap();
    net.settle();
    assert!(net.flow().iter().any(|f| f == "alice>P 200 (1 NOTIFY)"));
}

#[test]
fn misuse_is_an_error() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, b) = established(&mut net);
    assert!(matches!(
        net.uas[A].answer(net.now, a, 200, None),
        Err(UaError::InvalidState(_))
    ));
    assert!(matches!(
        net.uas[B].cancel(net.now, b),
        Err(UaError::InvalidState(_))
    ));
    assert!(matches!(
        net.uas[A].answer(net.now, a, 99, None),
        Err(UaError::BadStatus(99))
    ));
    assert!(matches!(
        net.uas[A].call(net.now, "not a uri", OFFER),
        Err(UaError::BadTarget(_))
    ));
    assert!(matches!(
        net.uas[A].hangup(net.now, CallId(999)),
        Err(UaError::UnknownCall(_))
    ));
    assert!(matches!(
        net.uas[A].request(net.now, &Target::Call(a), "BYE", &[], None, b""),
        Err(UaError::InvalidState(_))
    ));
}

#[test]
fn proxy_authentication_407_for_invite_and_message() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    net.proxy.proxy_auth = true;
    let n = net.hops.len();
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "alice>P INVITE (1 INVITE)",
            "P>alice 407 (1 INVITE)",
            "alice>P ACK (1 ACK)",
            "alice>P INVITE (2 INVITE)",
            "P>bob INVITE (2 INVITE)",
            "bob>P 100 (2 INVITE)",
            "P>alice 100 (2 INVITE)",
            "bob>P 200 (2 INVITE)",
            "P>alice 200 (2 INVITE)",
            "alice>P ACK (2 ACK)",
            "P>bob ACK (2 ACK)",
        ]
    );
    {
        let first = net.hops[n].message();
        let retry = net.hops[n + 3].message();
        assert_eq!(first.call_id(), retry.call_id());
        assert_eq!(first.from().unwrap().tag(), retry.from().unwrap().tag());
        assert_ne!(first.via().unwrap().branch(), retry.via().unwrap().branch());
        let creds = retry.header(HeaderName::ProxyAuthorization).unwrap();
        assert!(creds.contains("uri=\"sip:bob@example.test\""), "{creds}");
        assert_eq!(retry.body(), OFFER);
    }
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Confirmed));
    assert_eq!(net.uas[A].dialog(a).unwrap().local_cseq, 2);
    // In-dialog requests pass (the proxy routes them on its Record-Route).
    let i = net.uas[A]
        .info(net.now, &Target::Call(a), "text/plain", b"x")
        .unwrap();
    net.settle();
    assert!(net.ua_events(A).iter().any(
        |e| matches!(e, UaEvent::ResponseReceived { request, status: 200, .. } if *request == i)
    ));
    assert_eq!(net.uas[A].dialog(a).unwrap().local_cseq, 3);
    // Out of dialog: MESSAGE is challenged and sent again with CSeq 2.
    let n = net.hops.len();
    let m = net.uas[A]
        .message(net.now, &Target::Uri(bob_aor()), "text/plain", b"hi")
        .unwrap();
    net.settle();
    assert_eq!(
        net.flow_since(n),
        [
            "alice>P MESSAGE (1 MESSAGE)",
            "P>alice 407 (1 MESSAGE)",
            "alice>P MESSAGE (2 MESSAGE)",
            "P>bob MESSAGE (2 MESSAGE)",
            "bob>P 200 (2 MESSAGE)",
            "P>alice 200 (2 MESSAGE)",
        ]
    );
    assert!(net.ua_events(A).iter().any(
        |e| matches!(e, UaEvent::ResponseReceived { request, status: 200, .. } if *request == m)
    ));
}

#[test]
fn link_loss_during_call_setup_ends_the_call() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    net.drop_connection(A);
    let events = net.ua_events(A);
    assert!(
        events.iter().any(|e| matches!(e, UaEvent::CallEnded { call, reason: CallEndReason::Transport(_) } if *call == a)),
        "{events:?}"
    );
    assert_eq!(net.uas[A].calls().count(), 0);
}

#[test]
fn timer_b_ends_an_unanswered_call_at_64_t1() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    // Everything A sends after registering is lost.
    net.drop = Some(Box::new(|i, _| i == A));
    net.run_until(at(1_000));
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.run_until(at(40_000));
    let end = net.events[A]
        .iter()
        .find(|(_, e)| matches!(e, UaEvent::CallEnded { .. }))
        .unwrap();
    assert_eq!(
        end,
        &(
            at(33_000),
            UaEvent::CallEnded {
                call: a,
                reason: CallEndReason::Timeout
            }
        )
    );
}

#[test]
fn invite_without_contact_gets_400() {
    let mut net = Net::new(&["alice"]);
    registered(&mut net, A);
    let bad = format!(
        "INVITE {} SIP/2.0\r\nVia: SIP/2.0/WS  proxy.invalid;branch=z9hG4bKbad1\r\n\
From: <sip:bob@{DOMAIN}>;tag=b1\r\nTo: <sip:alice@{DOMAIN}>\r\n\
Call-ID: no-contact\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        net.uas[A].contact_uri()
    );
    let n = net.hops.len();
    net.inject(A, bad.as_bytes());
    assert_eq!(
        net.flow_since(n),
        [
            "P>alice INVITE (1 INVITE)",
            "alice>P 100 (1 INVITE)",
            "alice>P 400 (1 INVITE)"
        ]
    );
    assert_eq!(net.uas[A].calls().count(), 0);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Frames a peer could send: the messages of a real call flow, cut,
    /// spliced and byte-flipped, plus raw bytes.
    fn frames() -> impl Strategy<Value = Vec<u8>> {
        let seeds: Vec<Vec<u8>> = {
            let mut net = Net::new(&["alice", "bob"]);
            let (a, _) = established(&mut net);
            let _ = net.uas[A].info(net.now, &Target::Call(a), "text/plain", b"x");
            net.settle();
            let _ = net.uas[A].hangup(net.now, a);
            net.settle();
            net.hops.iter().map(|h| h.data.clone()).collect()
        };
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            (
                proptest::sample::select(seeds.clone()),
                any::<usize>(),
                any::<u8>()
            )
                .prop_map(|(mut f, at, b)| {
                    if !f.is_empty() {
                        let i = at % f.len();
                        f[i] = b;
                    }
                    f
                }),
            (proptest::sample::select(seeds), any::<usize>()).prop_map(|(f, cut)| {
                let n = if f.is_empty() { 0 } else { cut % f.len() };
                f[..n].to_vec()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn any_frame_sequence_is_handled(seq in proptest::collection::vec(frames(), 1..8)) {
            let mut net = Net::new(&["alice", "bob"]);
            let (_a, _b) = established(&mut net);
            for f in &seq {
                net.inject(A, f);
                net.inject(B, f);
            }
            net.run_for(40_000);
            // Still answering: a fresh call between them works.
            let before = net.uas[A].calls().count();
            let c = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
            net.settle();
            prop_assert!(net.uas[A].calls().count() <= before + 1);
            let ended = net
                .ua_events(A)
                .iter()
                .any(|e| matches!(e, UaEvent::CallEnded { call, .. } if *call == c));
            let live = net.uas[A].call_state(c).is_some();
            prop_assert!(live || ended);
        }
    }
}

#[test]
fn reinvite_glare_gets_491_and_both_retry_apart() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, b) = established(&mut net);
    net.run_until(at(1_000));
    net.take_events(A);
    net.take_events(B);
    let n = net.hops.len();
    net.uas[A].reinvite(net.now, a, None).unwrap();
    net.uas[B].reinvite(net.now, b, None).unwrap();
    net.settle();
    let flow = net.flow_since(n);
    assert_eq!(
        flow.iter().filter(|f| f.contains(">P 491 ")).count(),
        2,
        "{flow:?}"
    );
    net.run_until(at(6_000));
    let retries: Vec<(String, u64)> = net
        .hops
        .iter()
        .skip(n)
        .filter(|h| h.summary().contains(">P INVITE"))
        .map(|h| (h.dir.clone(), h.at.as_millis()))
        .collect();
    assert_eq!(retries.len(), 4, "{retries:?}");
    let b_retry = retries
        .iter()
        .filter(|(d, _)| d == "bob>P")
        .nth(1)
        .unwrap()
        .1;
    let a_retry = retries
        .iter()
        .filter(|(d, _)| d == "alice>P")
        .nth(1)
        .unwrap()
        .1;
    assert!((1_000..=3_000).contains(&b_retry), "{b_retry}");
    assert!((3_100..=5_000).contains(&a_retry), "{a_retry}");
    assert!(net
        .ua_events(A)
        .iter()
        .any(|e| matches!(e, UaEvent::CallUpdated { call, .. } if *call == a)));
    assert!(net
        .ua_events(B)
        .iter()
        .any(|e| matches!(e, UaEvent::CallUpdated { call, .. } if *call == b)));
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Confirmed));
    assert_eq!(net.uas[B].call_state(b), Some(CallState::Confirmed));
}

/// The call-flow table of the design note (DESIGN.md §1), seen on A's
/// connection: every row in order.
#[test]
fn design_note_call_flow_table() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, B);
    let start = net.hops.len();
    // REGISTER → 401 → REGISTER with Authorization (n+1) → 200.
    registered(&mut net, A);
    // INVITE → 100, 200; ACK.
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    // ← NOTIFY, 200 →.
    net.uas[B]
        .notify(net.now, &Target::Call(b), "talk", "text/plain", b"")
        .unwrap();
    net.settle();
    // INFO → 200.
    net.uas[A]
        .info(net.now, &Target::Call(a), "text/plain", b"x")
        .unwrap();
    net.settle();
    // ← INVITE (incoming call), 100 Trying, 200 OK →, ← ACK.
    net.uas[B]
        .call(net.now, &format!("sip:alice@{DOMAIN}"), ANSWER)
        .unwrap();
    net.settle();
    let incoming = incoming_call(&net, A);
    net.uas[A]
        .answer(net.now, incoming, 200, Some(OFFER))
        .unwrap();
    net.settle();
    let seen_by_a: Vec<String> = net
        .flow_since(start)
        .into_iter()
        .filter(|f| f.starts_with("alice>") || f.starts_with("P>alice"))
        .collect();
    assert_eq!(
        seen_by_a,
        [
            "alice>P REGISTER (1 REGISTER)",
            "P>alice 401 (1 REGISTER)",
            "alice>P REGISTER (2 REGISTER)",
            "P>alice 200 (2 REGISTER)",
            "alice>P INVITE (1 INVITE)",
            "P>alice 100 (1 INVITE)",
            "P>alice 200 (1 INVITE)",
            "alice>P ACK (1 ACK)",
            "P>alice NOTIFY (1 NOTIFY)",
            "alice>P 200 (1 NOTIFY)",
            "alice>P INFO (2 INFO)",
            "P>alice 200 (2 INFO)",
            "P>alice INVITE (1 INVITE)",
            "alice>P 100 (1 INVITE)",
            "alice>P 200 (1 INVITE)",
            "P>alice ACK (1 ACK)",
        ]
    );
    assert_eq!(net.uas[A].calls().count(), 2);
    assert!(net.uas[A]
        .calls()
        .all(|c| net.uas[A].call_state(c) == Some(CallState::Confirmed)));
}

#[test]
fn user_agent_is_send() {
    fn is_send<T: Send>() {}
    is_send::<UserAgent>();
    is_send::<UaEvent>();
}

#[test]
fn a_second_forked_2xx_is_acked_and_ended_with_bye() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, _) = established(&mut net);
    let ok = net
        .hops
        .iter()
        .find(|h| h.summary() == "P>alice 200 (1 INVITE)")
        .unwrap()
        .data
        .clone();
    let remote_tag = net.uas[A].dialog(a).unwrap().remote_tag.clone();
    let forked = String::from_utf8(ok)
        .unwrap()
        .replace(&format!(";tag={remote_tag}"), ";tag=fork2");
    let n = net.hops.len();
    net.inject(A, forked.as_bytes());
    let mine: Vec<String> = net
        .flow_since(n)
        .into_iter()
        .filter(|f| f.starts_with("alice>P"))
        .collect();
    assert_eq!(mine, ["alice>P ACK (1 ACK)", "alice>P BYE (2 BYE)"]);
    {
        let bye = net
            .hops
            .iter()
            .skip(n)
            .find(|h| h.summary() == "alice>P BYE (2 BYE)")
            .unwrap()
            .message();
        assert!(bye.header(HeaderName::To).unwrap().ends_with(";tag=fork2"));
    }
    // The real call goes on; the fork's retransmission is only ACKed.
    assert_eq!(net.uas[A].call_state(a), Some(CallState::Confirmed));
    let n = net.hops.len();
    net.inject(A, forked.as_bytes());
    let mine: Vec<String> = net
        .flow_since(n)
        .into_iter()
        .filter(|f| f.starts_with("alice>P"))
        .collect();
    assert_eq!(mine, ["alice>P ACK (1 ACK)"]);
}

#[test]
fn retransmitted_2xx_of_a_reinvite_is_acked_again() {
    let mut net = Net::new(&["alice", "bob"]);
    let (a, b) = established(&mut net);
    net.uas[A].reinvite(net.now, a, None).unwrap();
    net.settle();
    let ok = net
        .hops
        .iter()
        .find(|h| h.summary() == "P>alice 200 (2 INVITE)")
        .unwrap()
        .data
        .clone();
    let n = net.hops.len();
    net.inject(A, &ok);
    assert_eq!(net.flow_since(n)[1], "alice>P ACK (2 ACK)");
    assert_eq!(net.uas[B].call_state(b), Some(CallState::Confirmed));
}

#[test]
fn cancel_after_the_answer_changes_nothing_and_unknown_cancel_gets_481() {
    let mut net = Net::new(&["alice", "bob"]);
    registered(&mut net, A);
    registered(&mut net, B);
    // B's ACK is lost so the INVITE server transaction is still there.
    net.drop = Some(Box::new(|i, m| i == A && m.method() == Some("ACK")));
    let a = net.uas[A].call(net.now, &bob_aor(), OFFER).unwrap();
    net.settle();
    let b = incoming_call(&net, B);
    net.uas[B].answer(net.now, b, 200, Some(ANSWER)).unwrap();
    net.settle();
    let cancel = {
        let invite = net
            .hops
            .iter()
            .find(|h| h.summary() == "P>bob INVITE (1 INVITE)")
            .unwrap()
            .message();
        crate::txn::cancel::build_cancel(&OwnedMessage::try_from(&invite).unwrap()).unwrap()
    };
    let n = net.hops.len();
    net.inject(B, &cancel.to_bytes());
    assert_eq!(
        net.flow_since(n),
        [
            "P>bob CANCEL (1 CANCEL)",
            "bob>P 200 (1 CANCEL)",
            "P>alice 200 (1 CANCEL)"
        ]
    );
    assert_eq!(net.uas[B].call_state(b), Some(CallState::Answered));
    let mut unknown = cancel.clone();
    unknown.set_header(HeaderName::CallId, "nobody").unwrap();
    unknown
        .set_header(
            HeaderName::Via,
            "SIP/2.0/WS  proxy.invalid;branch=z9hG4bKother",
        )
        .unwrap();
    let n = net.hops.len();
    net.inject(B, &unknown.to_bytes());
    assert_eq!(net.flow_since(n)[1], "bob>P 481 (1 CANCEL)");
    let _ = a;
}
