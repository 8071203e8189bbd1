//! Every realistic SIP-over-WebSocket message of `tests/data/*.sip` parses
//! strictly, agrees with `classify`, and its typed headers read back right.

use std::path::PathBuf;

use sipws_core::message::{classify, Contact, HeaderName, Limits, Message, StartLine};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn load(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse(buf: &[u8]) -> Message<'_> {
    Message::parse_strict(buf, &Limits::default()).expect("corpus message parses strictly")
}

#[test]
fn every_file_parses_and_reads_back() {
    let mut files: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .collect();
    files.sort();
    assert!(files.len() >= 21, "corpus has {} files", files.len());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let buf = std::fs::read(&path).unwrap();
        let m = Message::parse_strict(&buf, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.trailing().is_empty(), "{name}");
        assert_eq!(m.content_length(), Some(m.body().len()), "{name}");
        assert_eq!(m.as_bytes(), &buf[..], "{name}");
        let cseq = m.cseq().unwrap_or_else(|| panic!("{name}: CSeq"));
        if let Some(method) = m.method() {
            assert_eq!(cseq.method, method, "{name}");
        }
        assert!(m.call_id().is_some(), "{name}");
        assert!(
            m.from().is_some_and(|f| f.tag().is_some()),
            "{name}: From tag"
        );
        assert!(m.to().is_some(), "{name}");
        let top = m.via().unwrap_or_else(|| panic!("{name}: Via"));
        assert!(
            matches!(top.transport, "WS" | "WSS"),
            "{name}: {}",
            top.transport
        );
        assert!(
            top.branch().is_some_and(|b| b.starts_with("z9hG4bK")),
            "{name}"
        );
        for v in m.vias() {
            v.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for r in m.record_routes().chain(m.routes()) {
            r.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for c in m.contacts() {
            c.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let s = classify(&buf, &Limits::default()).unwrap();
        assert_eq!(
            (s.start, s.cseq, s.call_id, s.content_length),
            (m.start_line(), m.cseq(), m.call_id(), m.content_length()),
            "{name}"
        );
    }
}

#[test]
fn register_with_outbound_contact() {
    let buf = load("register.sip");
    let m = parse(&buf);
    assert_eq!(
        (m.method(), m.request_uri()),
        (Some("REGISTER"), Some("sip:example.com"))
    );
    assert_eq!(m.max_forwards(), Some(69));
    assert_eq!(m.expires(), Some(600));
    let Some(Contact::Address(c)) = m.contact() else {
        panic!("contact")
    };
    assert_eq!(
        c.instance(),
        Some("<urn:uuid:9b5e8a5c-1d52-4c2e-a6a3-8c2f0e0f5a11>")
    );
    assert_eq!(c.reg_id(), Some(1));
    assert_eq!(c.expires(), Some(600));
    assert!(c.params.contains("+sip.ice"));
    let uri = c.sip_uri().unwrap();
    assert_eq!(
        (uri.user, uri.host, uri.transport()),
        (Some("k8e3vq2m"), "df7jal23ls0d.invalid", Some("ws"))
    );
    assert_eq!(m.allow().count(), 10);
    assert_eq!(
        m.supported().collect::<Vec<_>>(),
        ["path", "gruu", "outbound"]
    );
    assert_eq!(m.from().unwrap().display_name, Some("Alice"));
    assert_eq!(m.header(HeaderName::UserAgent), Some("JsSIP 3.10.1"));
}

#[test]
fn challenge_401() {
    let buf = load("register_401.sip");
    let m = parse(&buf);
    assert_eq!((m.status(), m.reason()), (Some(401), Some("Unauthorized")));
    let v = m.via().unwrap();
    assert_eq!(
        (v.rport(), v.received()),
        (Some(Some(52378)), Some("127.0.0.1"))
    );
    let ch = m.www_authenticate().next().unwrap();
    assert!(ch.is_scheme("Digest"));
    assert_eq!(ch.get("realm"), Some("example.com"));
    assert_eq!(ch.get("nonce"), Some("ZHVtbXlub25jZTE3MzI2OTU2MDAuNjM2MQ"));
    assert_eq!(ch.get("qop"), Some("auth"));
    assert_eq!(ch.get("algorithm"), Some("MD5"));
    assert_eq!(ch.get("opaque"), Some("5ccc069c403ebaf9f0171e9517f40e41"));
    assert_eq!(
        m.to().unwrap().tag(),
        Some("8c1a0c6e0b0b4fb4a2c75c5f6e1e40f6-6a2b")
    );
}

#[test]
fn register_auth_credentials() {
    let buf = load("register_auth.sip");
    let m = parse(&buf);
    let a = m.authorization().next().unwrap();
    assert!(a.is_scheme("digest"));
    assert_eq!(a.get("username"), Some("1001"));
    assert_eq!(a.get("realm"), Some("example.com"));
    assert!(a.get("response").is_some_and(|r| r.len() == 32));
    assert_eq!(m.cseq().unwrap().seq, 2);
}

#[test]
fn register_200_binding_and_path() {
    let buf = load("register_200.sip");
    let m = parse(&buf);
    let c = m.contact().unwrap();
    let c = c.address().unwrap();
    assert_eq!(c.expires(), Some(600));
    assert_eq!(
        c.param("pub-gruu"),
        Some("sip:1001@example.com;gr=urn:uuid:9b5e8a5c-1d52-4c2e-a6a3-8c2f0e0f5a11")
    );
    let path: Vec<_> = m.paths().collect::<Result<_, _>>().unwrap();
    let p = path[0].sip_uri().unwrap();
    assert_eq!((p.host, p.port, p.lr()), ("127.0.0.1", Some(8080), true));
    assert!(p.params.contains("ob"));
    assert_eq!(m.require().collect::<Vec<_>>(), ["outbound"]);
}

#[test]
fn incoming_invite_from_kamailio() {
    let buf = load("incoming_invite.sip");
    let m = parse(&buf);
    let vias: Vec<_> = m.vias().collect::<Result<_, _>>().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(
        (vias[0].transport, vias[0].host, vias[0].port),
        ("WS", "127.0.0.1", Some(8080))
    );
    assert_eq!(vias[1].rport(), Some(Some(5080)));
    let rr: Vec<_> = m.record_routes().collect::<Result<_, _>>().unwrap();
    assert_eq!(rr.len(), 2);
    assert_eq!(rr[0].sip_uri().unwrap().params.value("r2"), Some("on"));
    assert!(m.content_type().unwrap().is("application", "sdp"));
    assert_eq!(m.body().len(), 595);
    assert!(m.body().starts_with(b"v=0\r\n"));
    assert_eq!(m.from().unwrap().display_name, Some("Carol"));
}

#[test]
fn compact_names_fold() {
    let buf = load("compact.sip");
    let m = parse(&buf);
    assert_eq!(
        m.header(HeaderName::Via),
        m.headers().get(0).unwrap().value.into()
    );
    assert_eq!(m.headers().get(0).unwrap().raw_name, "v");
    assert_eq!(m.call_id(), Some("7h6g5f4e3d2c1b0a9z8y"));
    assert_eq!(m.to().unwrap().uri, "sip:1002@example.com");
    assert_eq!(m.from().unwrap().tag(), Some("c0mp4ct7ag"));
    assert!(m.contact().is_some());
    assert_eq!(m.supported().collect::<Vec<_>>(), ["path", "outbound"]);
    assert!(m.content_type().unwrap().is("text", "plain"));
    assert_eq!(m.content_length(), Some(12));
}

#[test]
fn notify_dialog_event() {
    let buf = load("notify_dialog.sip");
    let m = parse(&buf);
    let e = m.event().unwrap();
    assert_eq!((e.package, e.id()), ("dialog", None));
    assert_eq!(
        m.header(HeaderName::SubscriptionState),
        Some("active;expires=3542")
    );
    assert!(m
        .content_type()
        .unwrap()
        .is("application", "dialog-info+xml"));
    assert!(matches!(
        m.start_line(),
        StartLine::Request {
            method: "NOTIFY",
            ..
        }
    ));
}

#[test]
fn message_utf8_body_and_options_allow() {
    let buf = load("message.sip");
    let m = parse(&buf);
    let ct = m.content_type().unwrap();
    assert_eq!(ct.param("charset"), Some("utf-8"));
    assert!(std::str::from_utf8(m.body()).is_ok());
    assert_eq!(m.body().len(), 44);
    let buf = load("options_200.sip");
    let m = parse(&buf);
    assert_eq!(
        m.allow().collect::<Vec<_>>(),
        ["INVITE", "ACK", "CANCEL", "OPTIONS", "BYE", "MESSAGE", "INFO", "NOTIFY"]
    );
    let buf = load("invite_200.sip");
    let m = parse(&buf);
    assert_eq!(m.record_routes().count(), 2);
    assert_eq!(m.body().len(), 809);
}
