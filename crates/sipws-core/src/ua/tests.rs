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
