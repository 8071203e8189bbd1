//! Property tests: generated messages (random method/status, long and
//! compact names in random case, LWS and folding variants, bodies with and
//! without Content-Length) parse back to the generated fields; arbitrary and
//! mutated input never panics.

use proptest::prelude::*;
use sipws_core::message::{classify, AuthParams, Contact, HeaderName, Limits, Message, Uri};

#[derive(Clone, Debug)]
struct Gen {
    request: Option<(String, String)>, // method, request-uri
    status: (u16, String),
    call_id: String,
    cseq: (u32, String),
    via: (String, String, Option<u16>, String), // transport, host, port, branch
    from: (Option<String>, String, String),     // display, uri, tag
    ext: Vec<(String, String)>,                 // extension headers (name, value)
    body: Vec<u8>,
    content_length: bool,
    // Formatting choices.
    compact: Vec<bool>,
    upper: Vec<bool>,
    sep: Vec<&'static str>,
    before_colon: Vec<&'static str>,
}

const SEPS: &[&str] = &["", " ", "  ", "\t", " \r\n ", "\r\n\t", "\r\n  "];

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.!%*_+`'~-]{1,12}"
}

fn gen() -> impl Strategy<Value = Gen> {
    let method = prop_oneof![
        Just("INVITE".to_string()),
        Just("REGISTER".to_string()),
        Just("MESSAGE".to_string()),
        Just("OPTIONS".to_string()),
        token(),
    ];
    let request = prop::option::of((
        method.clone(),
        "[a-z0-9]{1,8}@[a-z]{1,8}\\.example\\.com(:[0-9]{1,4})?",
    ));
    (
        (
            request,
            (100u16..=699, "[A-Za-z][A-Za-z ]{0,20}"),
            "[A-Za-z0-9]{1,24}(@[a-z0-9.]{1,12})?",
            (any::<u32>(), method),
        ),
        (
            prop_oneof![Just("WS"), Just("WSS"), Just("UDP"), Just("TCP")],
            "[a-z][a-z0-9-]{0,10}\\.invalid",
            prop::option::of(any::<u16>()),
            "[A-Za-z0-9]{1,16}",
        ),
        (
            prop::option::of("[A-Za-z][A-Za-z ]{0,10}[A-Za-z]"),
            "[a-z0-9]{1,8}@example\\.com",
            "[A-Za-z0-9]{1,12}",
        ),
        prop::collection::vec(("X-[A-Za-z]{1,10}", "[!-~]([ -~]{0,30}[!-~])?"), 0..6),
        (prop::collection::vec(any::<u8>(), 0..200), any::<bool>()),
        (
            prop::collection::vec(any::<bool>(), 16),
            prop::collection::vec(any::<bool>(), 16),
            prop::collection::vec(prop::sample::select(SEPS), 16),
            prop::collection::vec(prop::sample::select(&["", " ", "\t"][..]), 16),
        ),
    )
        .prop_map(
            |(
                (request, status, call_id, cseq),
                via,
                from,
                ext,
                (body, cl),
                (compact, upper, sep, before_colon),
            )| {
                let via = (via.0.to_string(), via.1, via.2, via.3);
                // A request's CSeq carries its own method (RFC 3261 §8.1.1.5).
                let cseq = match &request {
                    Some((m, _)) => (cseq.0, m.clone()),
                    None => cseq,
                };
                Gen {
                    request: request.map(|(m, u)| (m, format!("sip:{u}"))),
                    status,
                    call_id,
                    cseq,
                    via,
                    from: (from.0, format!("sip:{}", from.1), from.2),
                    ext,
                    // Without Content-Length the body is the rest of the frame.
                    body,
                    content_length: cl,
                    compact,
                    upper,
                    sep,
                    before_colon,
                }
            },
        )
}

fn render(g: &Gen) -> Vec<u8> {
    let mut out = Vec::new();
    match &g.request {
        Some((m, u)) => out.extend_from_slice(format!("{m} {u} SIP/2.0\r\n").as_bytes()),
        None => {
            out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", g.status.0, g.status.1).as_bytes())
        }
    }
    let (t, host, port, branch) = &g.via;
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    let from = match &g.from.0 {
        Some(d) => format!("\"{d}\" <{}>;tag={}", g.from.1, g.from.2),
        None => format!("<{}>;tag={}", g.from.1, g.from.2),
    };
    let mut headers: Vec<(&str, &str, String)> = vec![
        (
            "Via",
            "v",
            format!("SIP/2.0/{t}  {host}{port};branch=z9hG4bK{branch};rport"),
        ),
        ("From", "f", from),
        ("Call-ID", "i", g.call_id.clone()),
        ("CSeq", "CSeq", format!("{} {}", g.cseq.0, g.cseq.1)),
    ];
    for (n, v) in &g.ext {
        headers.push((n, n, v.clone()));
    }
    if g.content_length {
        headers.push(("Content-Length", "l", g.body.len().to_string()));
    }
    for (i, (long, short, value)) in headers.iter().enumerate() {
        let k = i % 16;
        let name = if g.compact[k] { *short } else { *long };
        let name = if g.upper[k] {
            name.to_ascii_uppercase()
        } else {
            name.to_ascii_lowercase()
        };
        out.extend_from_slice(
            format!("{name}{}:{}{value}\r\n", g.before_colon[k], g.sep[k]).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&g.body);
    out
}

/// Exercise every accessor; must never panic whatever the input.
fn read_everything(buf: &[u8]) {
    let limits = Limits::default();
    let _ = classify(buf, &limits);
    let Ok(m) = Message::parse(buf, &limits) else {
        return;
    };
    let _ = m.validate();
    let _ = (
        m.start_line(),
        m.call_id(),
        m.cseq(),
        m.max_forwards(),
        m.expires(),
        m.min_expires(),
    );
    let _ = (
        m.body(),
        m.trailing(),
        m.content_type(),
        m.event(),
        m.authentication_info(),
    );
    for v in m.vias().flatten() {
        let _ = (v.branch(), v.received(), v.rport(), v.maddr());
    }
    for na in [m.from(), m.to()].into_iter().flatten() {
        let _ = (
            na.tag(),
            na.sip_uri()
                .map(|u| (u.transport(), u.header_pairs().count())),
        );
    }
    for c in m.contacts().flatten() {
        if let Contact::Address(a) = c {
            let _ = (a.expires(), a.q(), a.instance(), a.reg_id(), a.sip_uri());
        }
    }
    for r in m
        .routes()
        .chain(m.record_routes())
        .chain(m.paths())
        .flatten()
    {
        let _ = r
            .sip_uri()
            .map(|u| sipws_core::message::unescape(u.host).len());
    }
    for a in m.www_authenticate().chain(m.authorization()) {
        let _ = (a.get("realm"), a.iter().count());
    }
    let _ =
        m.allow().count() + m.supported().count() + m.require().count() + m.allow_events().count();
    for h in m.headers() {
        let _ = (
            Uri::parse(h.value),
            AuthParams::parse(h.value),
            h.name == HeaderName::Other,
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_messages_parse_back(g in gen()) {
        let buf = render(&g);
        let m = Message::parse_strict(&buf, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&buf))))?;
        match &g.request {
            Some((method, uri)) => {
                prop_assert_eq!(m.method(), Some(method.as_str()));
                prop_assert_eq!(m.request_uri(), Some(uri.as_str()));
            }
            None => {
                prop_assert_eq!(m.status(), Some(g.status.0));
                prop_assert_eq!(m.reason(), Some(g.status.1.as_str()));
            }
        }
        prop_assert_eq!(m.call_id(), Some(g.call_id.as_str()));
        let cseq = m.cseq().unwrap();
        prop_assert_eq!((cseq.seq, cseq.method), (g.cseq.0, g.cseq.1.as_str()));
        let via = m.via().unwrap();
        prop_assert_eq!(via.transport, g.via.0.as_str());
        prop_assert_eq!(via.host, g.via.1.as_str());
        prop_assert_eq!(via.port, g.via.2);
        let branch = format!("z9hG4bK{}", g.via.3);
        prop_assert_eq!(via.branch(), Some(branch.as_str()));
        prop_assert_eq!(via.rport(), Some(None));
        let from = m.from().unwrap();
        prop_assert_eq!(from.display_name, g.from.0.as_deref());
        prop_assert_eq!(from.uri, g.from.1.as_str());
        prop_assert_eq!(from.tag(), Some(g.from.2.as_str()));
        prop_assert_eq!(m.headers().len(), 4 + g.ext.len() + usize::from(g.content_length));
        for (i, (name, value)) in g.ext.iter().enumerate() {
            let h = m.headers().get(4 + i).unwrap();
            prop_assert_eq!(h.name, HeaderName::Other);
            prop_assert!(h.raw_name.eq_ignore_ascii_case(name));
            prop_assert_eq!(h.value, value.as_str());
        }
        prop_assert_eq!(m.body(), &g.body[..]);
        prop_assert_eq!(m.content_length(), g.content_length.then_some(g.body.len()));
        let s = classify(&buf, &Limits::default()).unwrap();
        prop_assert_eq!(s.call_id, m.call_id());
        prop_assert_eq!(s.cseq, m.cseq());
        prop_assert_eq!(s.start, m.start_line());
    }

    #[test]
    fn arbitrary_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..2048)) {
        read_everything(&buf);
    }

    #[test]
    fn mutated_messages_never_panic(
        g in gen(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12),
    ) {
        let mut buf = render(&g);
        for (at, byte, op) in edits {
            if buf.is_empty() {
                break;
            }
            let i = at.index(buf.len());
            match op {
                0 => buf[i] = byte,
                1 => buf.insert(i, byte),
                2 => { buf.remove(i); }
                _ => buf.truncate(i),
            }
        }
        read_everything(&buf);
    }

    #[test]
    fn mutated_text_with_sip_punctuation_never_panics(
        g in gen(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(&b"\r\n \t:;,<>\"\\%@[]?=/"[..])), 1..8),
    ) {
        let mut buf = render(&g);
        for (at, byte) in edits {
            let i = at.index(buf.len().max(1)).min(buf.len());
            buf.insert(i, byte);
        }
        read_everything(&buf);
    }
}
