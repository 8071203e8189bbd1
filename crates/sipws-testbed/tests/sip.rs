//! The SIP services of the testbed over real loopback sockets: digest
//! registration, the relay between clients (also across codecs), the
//! scripted peer. Clients are raw SIP over the `sipws` transport, built
//! with the message builder and answering challenges with `DigestClient`.

use std::time::Duration;

use sipws::transport::{Bytes, FrameKind, Inbound, Transport, TransportConfig, WsConnection};
use sipws_core::auth::{Algorithm, AuthOutcome, Credentials, DigestClient, DigestOptions};
use sipws_core::codec::{fits_text_frame, Codec};
use sipws_core::message::{
    HeaderName, Limits, Message, OwnedMessage, RequestBuilder, ResponseBuilder,
};
use sipws_core::sdp::{self, LocalMedia, OfferKind, SessionDescription};
use sipws_testbed::{
    PeerCallState, SipConfig, Testbed, TestbedConfig, TestbedEvent, TestbedHandle, User,
};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(10);
const DOMAIN: &str = "sipws.test";

fn users() -> Vec<User> {
    ["alice", "bob"]
        .iter()
        .map(|u| User {
            name: (*u).to_owned(),
            password: format!("{u}-secret"),
        })
        .collect()
}

async fn testbed(algorithm: Algorithm) -> Testbed {
    let config = TestbedConfig {
        sip: SipConfig {
            users: users(),
            algorithm,
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    };
    Testbed::start(config).await.expect("testbed starts")
}

/// Next testbed event matching `pred`, failing the test after `LIMIT`.
async fn wait_for(
    rx: &mut broadcast::Receiver<TestbedEvent>,
    pred: impl Fn(&TestbedEvent) -> bool,
) -> TestbedEvent {
    sipws_testbed::wait_for_event(rx, LIMIT, pred)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A raw SIP client over one WebSocket connection.
struct Client {
    ws: WsConnection,
    codec: Codec,
    user: String,
    cseq: u32,
    tag: String,
}

impl Client {
    async fn connect(url: &str, user: &str, codec: Codec) -> Client {
        let transport = Transport::new(TransportConfig::default()).expect("transport");
        let ws = transport
            .connect(url, &[codec.subprotocol().to_owned()])
            .await
            .expect("connect");
        assert_eq!(ws.protocol(), codec.subprotocol());
        Client {
            ws,
            codec,
            user: user.to_owned(),
            cseq: 0,
            tag: format!("{user}-tag"),
        }
    }

    fn contact_uri(&self) -> String {
        format!("sip:{}@{}-host.invalid;transport=ws", self.user, self.user)
    }

    fn aor(&self) -> String {
        format!("sip:{}@{DOMAIN}", self.user)
    }

    fn via(&mut self) -> String {
        self.cseq += 1;
        format!(
            "SIP/2.0/WSS {}-host.invalid;branch=z9hG4bK{}{}",
            self.user, self.user, self.cseq
        )
    }

    /// A request from this client with the usual headers.
    fn request(&mut self, method: &str, uri: &str, to: &str, call_id: &str) -> RequestBuilder {
        let via = self.via();
        RequestBuilder::new(method, uri)
            .header(HeaderName::Via, via)
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format!("<{}>;tag={}", self.aor(), self.tag),
            )
            .header(HeaderName::To, to)
            .header(HeaderName::CallId, call_id)
            .header(HeaderName::CSeq, format!("{} {method}", self.cseq))
            .header(HeaderName::Contact, format!("<{}>", self.contact_uri()))
    }

    async fn send(&mut self, m: &OwnedMessage) {
        let mut frame = Vec::new();
        self.codec.encode(m, &mut frame).expect("encode");
        let kind = if fits_text_frame(&frame) {
            FrameKind::Text
        } else {
            FrameKind::Binary
        };
        self.ws.send(Bytes::from(frame), kind).await.expect("send");
    }

    /// The next SIP message (CRLF keepalives skipped).
    async fn recv(&mut self) -> OwnedMessage {
        tokio::time::timeout(LIMIT, async {
            loop {
                match self.ws.recv().await {
                    Inbound::Frame { data, .. } => {
                        if data.iter().all(|b| *b == b'\r' || *b == b'\n') {
                            continue;
                        }
                        return self
                            .codec
                            .decode(&data, &Limits::default())
                            .expect("a decodable SIP frame");
                    }
                    Inbound::Pong => continue,
                    Inbound::Closed(r) => panic!("connection closed: {r:?}"),
                }
            }
        })
        .await
        .expect("a SIP message within the time limit")
    }

    /// The next response, skipping provisional ones unless `min` allows.
    async fn response(&mut self, min: u16) -> OwnedMessage {
        loop {
            let m = self.recv().await;
            match m.status() {
                Some(s) if s >= min => return m,
                Some(_) => continue,
                None => panic!("expected a response, got {m}"),
            }
        }
    }

    /// REGISTER with digest: returns the 401 and the final response.
    async fn register(&mut self, password: &str, expires: u32) -> (OwnedMessage, OwnedMessage) {
        let call_id = format!("reg-{}", self.user);
        let aor = self.aor();
        let first = self
            .request(
                "REGISTER",
                &format!("sip:{DOMAIN}"),
                &format!("<{aor}>"),
                &call_id,
            )
            .header(HeaderName::Expires, expires.to_string())
            .build()
            .unwrap();
        self.send(&first).await;
        let challenge = self.response(200).await;
        assert_eq!(challenge.status(), Some(401), "{challenge}");
        let mut n = 0u32;
        let mut auth = DigestClient::new(
            Credentials::new(self.user.clone(), password),
            DigestOptions::default(),
            move || {
                n += 1;
                format!("cnonce{n}")
            },
        );
        let bytes = challenge.to_bytes();
        let parsed = Message::parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(auth.handle_message(&parsed), Ok(AuthOutcome::Retry));
        let uri = format!("sip:{DOMAIN}");
        let mut second = self
            .request("REGISTER", &uri, &format!("<{aor}>"), &call_id)
            .header(HeaderName::Expires, expires.to_string())
            .build()
            .unwrap();
        for h in auth.authorize("REGISTER", &uri, b"") {
            second.push_header(h.name, h.value).unwrap();
        }
        self.send(&second).await;
        let last = self.response(200).await;
        (challenge, last)
    }

    async fn registered(url: &str, user: &str, codec: Codec) -> Client {
        let mut c = Client::connect(url, user, codec).await;
        let (_, ok) = c.register(&format!("{user}-secret"), 600).await;
        assert_eq!(ok.status(), Some(200), "{ok}");
        c
    }

    /// Answers `req` with `status` (To tag, Contact, Record-Route copied).
    async fn answer(&mut self, req: &OwnedMessage, status: u16, body: &str) -> OwnedMessage {
        let mut b = ResponseBuilder::reply_to_owned(req, status);
        if status > 100 {
            b = b.to_tag(format!("{}-tag", self.user));
        }
        for rr in req.headers_named(HeaderName::RecordRoute) {
            b = b.header(HeaderName::RecordRoute, rr);
        }
        b = b.header(HeaderName::Contact, format!("<{}>", self.contact_uri()));
        if !body.is_empty() {
            b = b
                .header(HeaderName::ContentType, "application/sdp")
                .body(body.as_bytes().to_vec());
        }
        let m = b.build().unwrap();
        self.send(&m).await;
        m
    }
}

fn www_authenticate(m: &OwnedMessage) -> &str {
    m.header(HeaderName::WwwAuthenticate).unwrap_or("")
}

async fn register_with(algorithm: Algorithm, token: &str) {
    let tb = testbed(algorithm).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::connect(&tb.url(), "alice", Codec::Text).await;
    let (challenge, ok) = alice.register("alice-secret", 300).await;
    let www = www_authenticate(&challenge);
    assert!(www.contains(&format!("algorithm={token}")), "{www}");
    assert!(www.contains("qop=\"auth\""), "{www}");
    assert!(www.contains(&format!("realm=\"{DOMAIN}\"")), "{www}");
    assert_eq!(ok.status(), Some(200), "{ok}");
    let contact = ok.header(HeaderName::Contact).expect("bindings in the 200");
    assert!(contact.contains(&alice.contact_uri()), "{contact}");
    assert!(
        contact.contains(";expires=300") || contact.contains(";expires=299"),
        "{contact}"
    );
    let e = wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Registered { .. })
    })
    .await;
    assert_eq!(
        e,
        TestbedEvent::Registered {
            conn: e.conn(),
            aor: format!("alice@{DOMAIN}"),
            contact: alice.contact_uri(),
            expires: 300,
        }
    );
    let bindings = tb.handle().bindings();
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].0, format!("alice@{DOMAIN}"));
}

#[tokio::test]
async fn register_with_md5_digest() {
    register_with(Algorithm::Md5, "MD5").await;
}

#[tokio::test]
async fn register_with_sha256_digest() {
    register_with(Algorithm::Sha256, "SHA-256").await;
}

#[tokio::test]
async fn wrong_password_is_challenged_again_then_forbidden() {
    let tb = testbed(Algorithm::Md5).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::connect(&tb.url(), "alice", Codec::Text).await;
    for round in 1..=3u32 {
        let (_, last) = alice.register("not-the-password", 300).await;
        let expected = if round < 3 { 401 } else { 403 };
        // Each register() answers a fresh 401, so failures accumulate one
        // per round.
        assert_eq!(last.status(), Some(expected), "round {round}: {last}");
        let e = wait_for(&mut events, |e| {
            matches!(e, TestbedEvent::AuthFailed { .. })
        })
        .await;
        let TestbedEvent::AuthFailed { forbidden, .. } = e else {
            unreachable!()
        };
        assert_eq!(forbidden, round == 3);
    }
    assert!(tb.handle().bindings().is_empty());
    // The right password still works afterwards.
    let (_, ok) = alice.register("alice-secret", 300).await;
    assert_eq!(ok.status(), Some(200));
}

#[tokio::test]
async fn unregister_with_expires_zero_and_wildcard() {
    let tb = testbed(Algorithm::Md5).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    assert_eq!(tb.handle().bindings().len(), 1);
    let (_, ok) = alice.register("alice-secret", 0).await;
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.header(HeaderName::Contact), None);
    wait_for(
        &mut events,
        |e| matches!(e, TestbedEvent::Unregistered { reason, .. } if reason == "expires 0"),
    )
    .await;
    assert!(tb.handle().bindings().is_empty());

    let (_, ok) = alice.register("alice-secret", 600).await;
    assert_eq!(ok.status(), Some(200));
    // Contact: * with Expires: 0 (authorised with a fresh challenge).
    let aor = alice.aor();
    let star = |c: &mut Client| {
        c.request(
            "REGISTER",
            &format!("sip:{DOMAIN}"),
            &format!("<{aor}>"),
            "reg-star",
        )
        .header(HeaderName::Expires, "0")
    };
    let mut m = star(&mut alice).build().unwrap();
    m.set_header(HeaderName::Contact, "*").unwrap();
    alice.send(&m).await;
    let challenge = alice.response(200).await;
    assert_eq!(challenge.status(), Some(401));
    let mut auth = DigestClient::new(
        Credentials::new("alice", "alice-secret"),
        DigestOptions::default(),
        || "c".to_owned(),
    );
    let bytes = challenge.to_bytes();
    let _ = auth.handle_message(&Message::parse(&bytes, &Limits::default()).unwrap());
    let mut m = star(&mut alice).build().unwrap();
    m.set_header(HeaderName::Contact, "*").unwrap();
    for h in auth.authorize("REGISTER", &format!("sip:{DOMAIN}"), b"") {
        m.push_header(h.name, h.value).unwrap();
    }
    alice.send(&m).await;
    let ok = alice.response(200).await;
    assert_eq!(ok.status(), Some(200), "{ok}");
    wait_for(
        &mut events,
        |e| matches!(e, TestbedEvent::Unregistered { reason, .. } if reason == "Contact: *"),
    )
    .await;
    assert!(tb.handle().bindings().is_empty());
}

/// The whole table between two clients through the relay.
#[tokio::test]
async fn call_between_two_clients_follows_record_route() {
    let tb = testbed(Algorithm::Sha256).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let mut bob = Client::registered(&tb.url(), "bob", Codec::Text).await;
    let bob_aor = bob.aor();

    // INVITE → 100 from the testbed, INVITE at bob with RR and a Via of
    // the testbed's, Request-URI retargeted to bob's Contact.
    let invite = alice
        .request("INVITE", &bob_aor, &format!("<{bob_aor}>"), "call-1")
        .header(HeaderName::ContentType, "application/sdp")
        .body(b"v=0\r\n".to_vec())
        .build()
        .unwrap();
    alice.send(&invite).await;
    let trying = alice.recv().await;
    assert_eq!(trying.status(), Some(100));
    let at_bob = bob.recv().await;
    assert_eq!(at_bob.method(), Some("INVITE"));
    assert_eq!(at_bob.uri(), Some(bob.contact_uri().as_str()));
    let rr = at_bob
        .header(HeaderName::RecordRoute)
        .expect("Record-Route");
    assert_eq!(rr, format!("<sip:{};transport=ws;lr>", tb.local_addr()));
    let vias: Vec<&str> = at_bob.headers_named(HeaderName::Via).collect();
    assert_eq!(vias.len(), 2);
    assert!(vias[0].starts_with(&format!("SIP/2.0/WS {};branch=z9hG4bK", tb.local_addr())));
    assert_eq!(at_bob.header(HeaderName::MaxForwards), Some("69"));
    assert_eq!(at_bob.body(), b"v=0\r\n");
    wait_for(
        &mut events,
        |e| matches!(e, TestbedEvent::RequestRelayed { method, .. } if method == "INVITE"),
    )
    .await;

    // 180 and 200 back, with the testbed's Via popped.
    bob.answer(&at_bob, 180, "").await;
    bob.answer(&at_bob, 200, "v=0\r\n").await;
    let ringing = alice.recv().await;
    assert_eq!(ringing.status(), Some(180));
    assert_eq!(ringing.headers_named(HeaderName::Via).count(), 1);
    let ok = alice.recv().await;
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.header(HeaderName::RecordRoute), Some(rr));
    let bob_to = ok.header(HeaderName::To).unwrap().to_owned();
    let route = rr.to_owned();

    // In-dialog requests from alice: Request-URI = bob's Contact, Route =
    // the testbed.
    let bob_contact = bob.contact_uri();
    for method in ["ACK", "INFO", "MESSAGE"] {
        let m = alice
            .request(method, &bob_contact, &bob_to, "call-1")
            .header(HeaderName::Route, &route)
            .build()
            .unwrap();
        alice.send(&m).await;
        let got = bob.recv().await;
        assert_eq!(got.method(), Some(method));
        assert_eq!(
            got.header(HeaderName::Route),
            None,
            "the testbed's Route is consumed"
        );
        if method != "ACK" {
            bob.answer(&got, 200, "").await;
            let r = alice.recv().await;
            assert_eq!(r.status(), Some(200));
            assert_eq!(
                r.header(HeaderName::CSeq).unwrap(),
                format!("{} {method}", alice.cseq)
            );
        }
    }

    // NOTIFY and BYE from bob towards alice's Contact.
    let alice_contact = alice.contact_uri();
    let alice_from = invite.header(HeaderName::From).unwrap().to_owned();
    for method in ["NOTIFY", "BYE"] {
        let mut b = bob
            .request(method, &alice_contact, &alice_from, "call-1")
            .header(HeaderName::Route, &route);
        if method == "NOTIFY" {
            b = b
                .header(HeaderName::Event, "dialog")
                .header(HeaderName::SubscriptionState, "active");
        }
        bob.send(&b.build().unwrap()).await;
        let got = alice.recv().await;
        assert_eq!(got.method(), Some(method));
        alice.answer(&got, 200, "").await;
        let r = bob.recv().await;
        assert_eq!(r.status(), Some(200), "{r}");
    }
}

#[tokio::test]
async fn unknown_user_gets_404_and_gone_connection_480() {
    let tb = testbed(Algorithm::Md5).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let nobody = format!("sip:nobody@{DOMAIN}");
    let m = alice
        .request("MESSAGE", &nobody, &format!("<{nobody}>"), "m-1")
        .build()
        .unwrap();
    alice.send(&m).await;
    assert_eq!(alice.response(200).await.status(), Some(404));

    let bob = Client::registered(&tb.url(), "bob", Codec::Text).await;
    drop(bob);
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Disconnected { .. })
    })
    .await;
    let bob_aor = format!("sip:bob@{DOMAIN}");
    let m = alice
        .request("MESSAGE", &bob_aor, &format!("<{bob_aor}>"), "m-2")
        .build()
        .unwrap();
    alice.send(&m).await;
    assert_eq!(alice.response(200).await.status(), Some(480));

    // After a "restart" nobody is registered: 404.
    assert_eq!(tb.handle().drop_registrations(), 2);
    let m = alice
        .request("MESSAGE", &bob_aor, &format!("<{bob_aor}>"), "m-3")
        .build()
        .unwrap();
    alice.send(&m).await;
    assert_eq!(alice.response(200).await.status(), Some(404));
}

#[tokio::test]
async fn options_to_the_testbed_is_answered_with_allow() {
    let tb = testbed(Algorithm::Md5).await;
    let mut alice = Client::connect(&tb.url(), "alice", Codec::Text).await;
    let uri = format!("sip:{}", tb.local_addr());
    let m = alice
        .request("OPTIONS", &uri, &format!("<{uri}>"), "o-1")
        .build()
        .unwrap();
    alice.send(&m).await;
    let r = alice.response(200).await;
    assert_eq!(r.status(), Some(200));
    let allow = r.header(HeaderName::Allow).expect("Allow");
    for method in [
        "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "MESSAGE",
    ] {
        assert!(allow.contains(method), "{allow}");
    }
}

async fn peer_state(rx: &mut broadcast::Receiver<TestbedEvent>, want: PeerCallState) {
    wait_for(
        rx,
        |e| matches!(e, TestbedEvent::PeerCall { state, .. } if *state == want),
    )
    .await;
}

#[tokio::test]
async fn scripted_peer_answers_a_call() {
    let tb = testbed(Algorithm::Md5).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let peer = format!("sip:peer@{DOMAIN}");
    // A browser-shaped offer: the peer's answer is browser-shaped too.
    let offer = sdp::offer(
        &LocalMedia::from_random("alice", "127.0.0.1", &[3; 72]),
        OfferKind::WebRtc,
    );
    let invite = alice
        .request("INVITE", &peer, &format!("<{peer}>"), "p-1")
        .header(HeaderName::ContentType, "application/sdp")
        .body(offer.into_bytes())
        .build()
        .unwrap();
    alice.send(&invite).await;
    let statuses = [alice.recv().await.status(), alice.recv().await.status()];
    assert_eq!(statuses, [Some(100), Some(180)]);
    let ok = alice.recv().await;
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.header(HeaderName::ContentType), Some("application/sdp"));
    let answer = SessionDescription::parse(ok.body()).expect("an SDP answer");
    let audio = &answer.media[0];
    assert_eq!(
        (audio.proto, audio.formats[0]),
        ("UDP/TLS/RTP/SAVPF", "111")
    );
    assert_eq!(audio.attribute("setup"), Some("active"));
    assert!(audio.attribute("ice-pwd").is_some_and(|p| p.len() >= 22));
    assert_eq!(answer.attribute("group"), Some("BUNDLE 0"));
    let peer_contact = ok.header(HeaderName::Contact).unwrap();
    let target = peer_contact
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    let to = ok.header(HeaderName::To).unwrap().to_owned();
    peer_state(&mut events, PeerCallState::Answered).await;

    let ack = alice.request("ACK", &target, &to, "p-1").build().unwrap();
    alice.send(&ack).await;
    peer_state(&mut events, PeerCallState::Confirmed).await;
    for method in ["INFO", "NOTIFY", "MESSAGE", "BYE"] {
        let m = alice.request(method, &target, &to, "p-1").build().unwrap();
        alice.send(&m).await;
        let r = alice.response(200).await;
        assert_eq!(r.status(), Some(200), "{method}: {r}");
    }
    peer_state(&mut events, PeerCallState::Ended).await;
}

#[tokio::test]
async fn scripted_peer_refuses_an_offer_without_acceptable_media_with_488() {
    let tb = testbed(Algorithm::Md5).await;
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let peer = format!("sip:peer@{DOMAIN}");
    for (n, body) in [
        &b"v=0\r\n"[..],
        b"v=0\r\nm=video 5000 RTP/AVP 96\r\n",
        b"not sdp",
    ]
    .into_iter()
    .enumerate()
    {
        let invite = alice
            .request("INVITE", &peer, &format!("<{peer}>"), &format!("p-488-{n}"))
            .header(HeaderName::ContentType, "application/sdp")
            .body(body.to_vec())
            .build()
            .unwrap();
        alice.send(&invite).await;
        let r = alice.recv().await;
        assert_eq!(r.status(), Some(488), "{r}");
        assert!(r
            .header(HeaderName::Warning)
            .is_some_and(|w| w.starts_with("304 ")));
    }
}

#[tokio::test]
async fn scripted_peer_calls_a_client_and_sends_notify() {
    let tb = testbed(Algorithm::Md5).await;
    let handle: TestbedHandle = tb.handle();
    let mut events = handle.subscribe();
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    assert!(handle.peer_call("nobody").is_err());
    let call_id = handle.peer_call("alice").expect("alice is registered");
    let invite = alice.recv().await;
    assert_eq!(invite.method(), Some("INVITE"));
    assert_eq!(invite.uri(), Some(alice.contact_uri().as_str()));
    assert_eq!(invite.header(HeaderName::CallId), Some(call_id.as_str()));
    let offer = SessionDescription::parse(invite.body()).expect("an SDP offer");
    assert!(offer.media[0].is_dtls(), "browser-shaped: {}", invite);
    alice.answer(&invite, 100, "").await;
    alice.answer(&invite, 180, "").await;
    peer_state(&mut events, PeerCallState::Progress(180)).await;
    alice.answer(&invite, 200, "v=0\r\n").await;
    let ack = alice.recv().await;
    assert_eq!(ack.method(), Some("ACK"));
    peer_state(&mut events, PeerCallState::Confirmed).await;

    for method in ["NOTIFY", "INFO"] {
        handle
            .peer_request(&call_id, method, Some("text/plain"), b"hello")
            .unwrap();
        let got = alice.recv().await;
        assert_eq!(got.method(), Some(method));
        assert_eq!(got.body(), b"hello");
        alice.answer(&got, 200, "").await;
        wait_for(&mut events, |e| {
            matches!(e, TestbedEvent::PeerResponse { method: m, status: 200, .. } if m == method)
        })
        .await;
    }
    handle.peer_hangup(&call_id).unwrap();
    let bye = alice.recv().await;
    assert_eq!(bye.method(), Some("BYE"));
    alice.answer(&bye, 200, "").await;
    peer_state(&mut events, PeerCallState::Ended).await;
    // Out of dialog, to the user.
    handle
        .peer_request("alice", "MESSAGE", Some("text/plain"), b"hi")
        .unwrap();
    let msg = alice.recv().await;
    assert_eq!(msg.method(), Some("MESSAGE"));
}

#[tokio::test]
async fn json_client_talks_to_text_client() {
    let tb = testbed(Algorithm::Md5).await;
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let mut bob = Client::registered(&tb.url(), "bob", Codec::Json).await;
    let bob_aor = bob.aor();
    let m = alice
        .request("MESSAGE", &bob_aor, &format!("<{bob_aor}>"), "j-1")
        .header(HeaderName::ContentType, "text/plain")
        .body(b"over JSON".to_vec())
        .build()
        .unwrap();
    alice.send(&m).await;
    let got = bob.recv().await;
    assert_eq!(got.method(), Some("MESSAGE"));
    assert_eq!(got.body(), b"over JSON");
    bob.answer(&got, 200, "").await;
    let r = alice.recv().await;
    assert_eq!(r.status(), Some(200));
    // And back: bob (JSON) to alice (text).
    let alice_aor = alice.aor();
    let m = bob
        .request("MESSAGE", &alice_aor, &format!("<{alice_aor}>"), "j-2")
        .build()
        .unwrap();
    bob.send(&m).await;
    let got = alice.recv().await;
    assert_eq!(got.method(), Some("MESSAGE"));
    alice.answer(&got, 200, "").await;
    assert_eq!(bob.recv().await.status(), Some(200));
}

#[tokio::test]
async fn cancel_follows_the_invite_and_the_487_is_acked() {
    let tb = testbed(Algorithm::Md5).await;
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let mut bob = Client::registered(&tb.url(), "bob", Codec::Text).await;
    let bob_aor = bob.aor();
    let to = format!("<{bob_aor}>");
    let invite = alice
        .request("INVITE", &bob_aor, &to, "c-1")
        .build()
        .unwrap();
    alice.send(&invite).await;
    assert_eq!(alice.recv().await.status(), Some(100));
    let at_bob = bob.recv().await;
    bob.answer(&at_bob, 180, "").await;
    assert_eq!(alice.recv().await.status(), Some(180));

    // CANCEL: same Via branch, Call-ID, CSeq number and Request-URI.
    let mut cancel = invite.clone();
    cancel = OwnedMessage::from_parts(
        sipws_core::message::OwnedStartLine::Request {
            method: "CANCEL".into(),
            uri: bob_aor.clone(),
            version: "SIP/2.0".into(),
        },
        cancel.headers().to_vec(),
        Vec::new(),
    )
    .unwrap();
    let seq = alice.cseq;
    cancel
        .set_header(HeaderName::CSeq, format!("{seq} CANCEL"))
        .unwrap();
    cancel.remove_headers(HeaderName::Contact);
    alice.send(&cancel).await;
    let cancel_at_bob = bob.recv().await;
    assert_eq!(cancel_at_bob.method(), Some("CANCEL"));
    // The testbed's branch for the CANCEL is its branch for the INVITE.
    assert_eq!(
        cancel_at_bob.headers_named(HeaderName::Via).next(),
        at_bob.headers_named(HeaderName::Via).next()
    );
    bob.answer(&cancel_at_bob, 200, "").await;
    bob.answer(&at_bob, 487, "").await;
    let r1 = alice.recv().await;
    let r2 = alice.recv().await;
    let mut got = [
        (r1.status(), r1.header(HeaderName::CSeq).unwrap().to_owned()),
        (r2.status(), r2.header(HeaderName::CSeq).unwrap().to_owned()),
    ];
    got.sort();
    assert_eq!(
        got,
        [
            (Some(200), format!("{seq} CANCEL")),
            (Some(487), format!("{seq} INVITE")),
        ]
    );
    // The ACK of the 487: the INVITE's branch, relayed to bob.
    let final_487 = if r1.status() == Some(487) { &r1 } else { &r2 };
    let mut ack = OwnedMessage::from_parts(
        sipws_core::message::OwnedStartLine::Request {
            method: "ACK".into(),
            uri: bob_aor.clone(),
            version: "SIP/2.0".into(),
        },
        invite.headers().to_vec(),
        Vec::new(),
    )
    .unwrap();
    ack.set_header(HeaderName::CSeq, format!("{seq} ACK"))
        .unwrap();
    ack.set_header(HeaderName::To, final_487.header(HeaderName::To).unwrap())
        .unwrap();
    alice.send(&ack).await;
    let ack_at_bob = bob.recv().await;
    assert_eq!(ack_at_bob.method(), Some("ACK"));
    assert_eq!(
        ack_at_bob.headers_named(HeaderName::Via).next(),
        at_bob.headers_named(HeaderName::Via).next()
    );
}

#[tokio::test]
async fn max_forwards_zero_gets_483() {
    let tb = testbed(Algorithm::Md5).await;
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let _bob = Client::registered(&tb.url(), "bob", Codec::Text).await;
    let bob_aor = format!("sip:bob@{DOMAIN}");
    let mut m = alice
        .request("MESSAGE", &bob_aor, &format!("<{bob_aor}>"), "mf-1")
        .build()
        .unwrap();
    m.set_header(HeaderName::MaxForwards, "0").unwrap();
    alice.send(&m).await;
    assert_eq!(alice.response(200).await.status(), Some(483));
}

#[tokio::test]
async fn garbage_frames_are_dropped_and_the_connection_keeps_working() {
    let tb = testbed(Algorithm::Md5).await;
    let mut events = tb.handle().subscribe();
    let mut alice = Client::registered(&tb.url(), "alice", Codec::Text).await;
    let garbage: [&[u8]; 6] = [
        b"hello",
        b"INVITE\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bK-tb-x\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bK-tb-99999999999999999999-1\r\nCSeq: 1 X\r\n\r\n",
        b"REGISTER sip:sipws.test SIP/2.0\r\nVia: SIP/2.0/WS x;branch=z9hG4bK1\r\nCall-ID: g\r\nCSeq: 1 REGISTER\r\nTo: <sip:alice@sipws.test>\r\nAuthorization: Digest garbage\r\n\r\n",
        &[0xff, 0xfe, 0x00, b'\r', b'\n'],
    ];
    for g in garbage {
        alice
            .ws
            .send(Bytes::copy_from_slice(g), FrameKind::Binary)
            .await
            .unwrap();
    }
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::AuthFailed { .. })
    })
    .await;
    // Still served: OPTIONS is answered.
    let uri = format!("sip:{DOMAIN}");
    let m = alice
        .request("OPTIONS", &uri, &format!("<{uri}>"), "g-1")
        .build()
        .unwrap();
    alice.send(&m).await;
    loop {
        let r = alice.recv().await;
        if r.header(HeaderName::CallId) == Some("g-1") {
            assert_eq!(r.status(), Some(200));
            break;
        }
    }
}

#[tokio::test]
async fn outbound_contact_parameters_come_back_well_formed() {
    let tb = Testbed::start(TestbedConfig::default()).await.unwrap();
    let mut alice = Client::connect(&tb.url(), "alice", Codec::Text).await;
    let aor = alice.aor();
    let contact = format!(
        "<{}>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";reg-id=1",
        alice.contact_uri()
    );
    let mut m = alice
        .request(
            "REGISTER",
            &format!("sip:{DOMAIN}"),
            &format!("<{aor}>"),
            "ob-1",
        )
        .build()
        .unwrap();
    m.set_header(HeaderName::Contact, contact).unwrap();
    alice.send(&m).await;
    // No users configured: accepted without a challenge.
    let ok = alice.response(200).await;
    assert_eq!(ok.status(), Some(200), "{ok}");
    let bytes = ok.to_bytes();
    let parsed = Message::parse(&bytes, &Limits::default()).unwrap();
    let contacts: Vec<_> = parsed.contacts().collect();
    assert_eq!(contacts.len(), 1);
    let c = contacts[0]
        .as_ref()
        .unwrap_or_else(|e| panic!("{e:?}: {}", ok.header(HeaderName::Contact).unwrap()));
    let a = c.address().unwrap();
    assert_eq!(a.uri, alice.contact_uri());
    assert_eq!(
        a.instance(),
        Some("<urn:uuid:00000000-0000-1000-8000-000a95a0e128>")
    );
    assert_eq!(a.reg_id(), Some(1));
    assert!(
        a.expires().is_some_and(|e| e > 3500),
        "{}",
        ok.header(HeaderName::Contact).unwrap()
    );
    let b = &tb.handle().bindings()[0].1;
    assert_eq!(b.reg_id, Some(1));
}
