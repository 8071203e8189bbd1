//! Round trips of the builder and the wire codecs on the corpus of
//! realistic SIP-over-WebSocket client traffic (`tests/data/*.sip`), plus
//! property tests on generated messages and JSON decode errors.

use std::path::PathBuf;

use proptest::prelude::*;
use sipws_core::codec::{fits_text_frame, json, Codec, DecodeError};
use sipws_core::message::{
    BuildError, HeaderName, Limits, Message, NameForm, OwnedHeader, OwnedMessage, OwnedStartLine,
    RequestBuilder, ResponseBuilder,
};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sip"))
        .collect();
    files.sort();
    let out: Vec<_> = files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("corpus file"))
        })
        .collect();
    assert!(out.len() >= 20, "corpus has {} files", out.len());
    out
}

fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse(bytes, &Limits::default()).expect("parses")
}

/// (folded name, name as written, value) of every header.
fn triples<'a>(m: &'a Message<'_>) -> Vec<(HeaderName, &'a str, &'a str)> {
    m.headers()
        .iter()
        .map(|h| (h.name, h.raw_name, h.value))
        .collect()
}

fn owned_triples(m: &OwnedMessage) -> Vec<(HeaderName, &str, &str)> {
    m.headers()
        .iter()
        .map(|h| (h.name(), h.raw_name(), h.value()))
        .collect()
}

#[test]
fn corpus_parse_build_parse_is_exact() {
    for (name, bytes) in corpus() {
        let m = parse(&bytes);
        let owned = OwnedMessage::try_from(&m).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = Vec::new();
        owned.write_to(&mut out);
        // Every corpus message is written `Name: value` with a Content-Length,
        // so building it again reproduces the frame byte for byte.
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&bytes),
            "{name}"
        );
        let again = parse(&out);
        assert_eq!(again.start_line(), m.start_line(), "{name}");
        assert_eq!(triples(&again), triples(&m), "{name}");
        assert_eq!(again.body(), m.body(), "{name}");
        // The parsed message serialises the same way without an owned copy.
        let mut direct = Vec::new();
        m.write_with(&mut direct, NameForm::AsWritten);
        assert_eq!(direct, out, "{name}");
    }
}

#[test]
fn corpus_text_json_text_is_lossless() {
    let limits = Limits::default();
    for (name, bytes) in corpus() {
        let m = parse(&bytes);
        let mut j = Vec::new();
        Codec::Json.encode_parsed(&m, &mut j).unwrap();
        assert!(fits_text_frame(&j), "{name}");
        let from_json = Codec::Json
            .decode(&j, &limits)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_json, OwnedMessage::try_from(&m).unwrap(), "{name}");
        assert_eq!(owned_triples(&from_json), triples(&m), "{name}");
        assert_eq!(from_json.body(), m.body(), "{name}");
        let mut text = Vec::new();
        Codec::Text.encode(&from_json, &mut text).unwrap();
        assert_eq!(text, bytes, "{name}: text -> JSON -> text");
        // Encoding the owned copy gives the same JSON as the parsed view.
        let mut j2 = Vec::new();
        Codec::Json.encode(&from_json, &mut j2).unwrap();
        assert_eq!(j2, j, "{name}");
        // And the JSON is what the document says: an object with headers.
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(v["headers"].as_array().unwrap().len(), m.headers().len());
        assert_eq!(v["method"].as_str(), m.method(), "{name}");
        assert_eq!(v["status"].as_u64(), m.status().map(u64::from), "{name}");
    }
}

#[test]
fn corpus_compact_output_reparses_to_the_same_headers() {
    let limits = Limits::default();
    for (name, bytes) in corpus() {
        let m = parse(&bytes);
        let mut c = Vec::new();
        Codec::Compact.encode_parsed(&m, &mut c).unwrap();
        assert!(c.len() <= bytes.len(), "{name}: compact is never longer");
        let back = parse(&c);
        assert_eq!(back.start_line(), m.start_line(), "{name}");
        assert_eq!(back.body(), m.body(), "{name}");
        let folded = |m: &Message<'_>| -> Vec<(HeaderName, String, String)> {
            m.headers()
                .iter()
                .map(|h| {
                    let key = match h.name {
                        HeaderName::Other => h.raw_name.to_ascii_lowercase(),
                        _ => String::new(),
                    };
                    (h.name, key, h.value.to_owned())
                })
                .collect()
        };
        assert_eq!(folded(&back), folded(&m), "{name}");
        for h in back.headers() {
            if let Some(short) = h.name.compact() {
                assert_eq!(h.raw_name, short, "{name}");
            }
        }
        let decoded = Codec::Compact.decode(&c, &limits).unwrap();
        assert_eq!(decoded.header(HeaderName::CallId), m.call_id(), "{name}");
    }
}

#[test]
fn compact_corpus_file_expands_to_long_names() {
    let bytes = corpus()
        .into_iter()
        .find(|(n, _)| n == "compact.sip")
        .expect("compact.sip")
        .1;
    let m = parse(&bytes);
    let mut long = Vec::new();
    m.write_with(&mut long, NameForm::Long);
    let text = String::from_utf8(long).unwrap();
    for h in [
        "\r\nVia: ",
        "\r\nTo: ",
        "\r\nFrom: ",
        "\r\nCall-ID: ",
        "\r\nContact: ",
    ] {
        assert!(text.contains(h), "{h:?} in {text}");
    }
    assert!(text.contains("\r\nContent-Length: 12\r\n\r\ncompact form"));
}

#[test]
fn responses_built_from_corpus_requests_match_the_server_answers() {
    let all = corpus();
    let get = |n: &str| all.iter().find(|(f, _)| f == n).unwrap().1.clone();
    for (req, resp, status) in [
        ("register.sip", "register_401.sip", 401),
        ("register_auth.sip", "register_200.sip", 200),
        ("info.sip", "info_200.sip", 200),
        ("notify_dialog.sip", "notify_200.sip", 200),
        ("options.sip", "options_200.sip", 200),
        ("message.sip", "message_200.sip", 200),
        ("bye.sip", "bye_200.sip", 200),
    ] {
        let req_bytes = get(req);
        let resp_bytes = get(resp);
        let rq = parse(&req_bytes);
        let expected = parse(&resp_bytes);
        let to_tag = sipws_core::message::has_tag_param(rq.header(HeaderName::To).unwrap());
        let mut b = ResponseBuilder::reply_to(&rq, status);
        if !to_tag {
            // Take the tag the server chose, to compare the whole To header.
            let to = expected.header(HeaderName::To).unwrap();
            let tag = to.rsplit("tag=").next().unwrap();
            b = b.to_tag(tag);
        }
        let built = b.build().unwrap();
        assert_eq!(built.status(), Some(status));
        let vias: Vec<_> = built.headers_named(HeaderName::Via).collect();
        let req_vias: Vec<_> = rq.headers_named(HeaderName::Via).collect();
        assert_eq!(vias, req_vias, "{req}: every Via, in order");
        for n in [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            assert_eq!(built.header(n), expected.header(n), "{req} -> {resp}: {n}");
        }
        // The built response parses.
        let wire = built.to_bytes();
        assert_eq!(parse(&wire).status(), Some(status));
    }
    // Replying to a response is refused.
    let r = get("register_401.sip");
    assert_eq!(
        ResponseBuilder::reply_to(&parse(&r), 200).build(),
        Err(BuildError::NotARequest)
    );
}

#[test]
fn injected_lines_never_reach_the_wire() {
    let err = RequestBuilder::new("MESSAGE", "sip:1002@127.0.0.1")
        .header(HeaderName::Subject, "hi\r\nContact: <sip:evil@127.0.0.1>")
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        BuildError::HeaderValue {
            name: HeaderName::Subject,
            offset: 2
        }
    ));
    // The same attempt through the JSON form is refused as well.
    let j = br#"{"method":"MESSAGE","uri":"sip:1002@127.0.0.1","headers":[["Subject","hi\r\nContact: <sip:evil@127.0.0.1>"]]}"#;
    assert!(matches!(
        Codec::Json.decode(j, &Limits::default()),
        Err(DecodeError::Invalid(BuildError::HeaderValue { .. }))
    ));
    let j = br#"{"method":"MESSAGE","uri":"sip:1002@127.0.0.1","headers":[["Subject\r\nX","v"]]}"#;
    assert!(matches!(
        Codec::Json.decode(j, &Limits::default()),
        Err(DecodeError::Invalid(BuildError::HeaderName { .. }))
    ));
    let j = br#"{"method":"MESSAGE","uri":"sip:1002@127.0.0.1 SIP/2.0\r\nVia: x","headers":[]}"#;
    assert!(matches!(
        Codec::Json.decode(j, &Limits::default()),
        Err(DecodeError::Invalid(BuildError::RequestUri))
    ));
}

#[test]
fn json_decode_errors_are_clear() {
    let limits = Limits::default();
    let dec = |s: &str| Codec::Json.decode(s.as_bytes(), &limits);
    assert!(matches!(dec("not json"), Err(DecodeError::Json(_))));
    assert!(matches!(dec(""), Err(DecodeError::Json(_))));
    assert!(matches!(dec("[]"), Err(DecodeError::Json(_))));
    let e =
        dec(r#"{"method":"OPTIONS","uri":"sip:127.0.0.1","headers":[],"extra":1}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    let e = dec(r#"{"method":"OPTIONS","uri":"sip:127.0.0.1"}"#).unwrap_err();
    assert!(e.to_string().contains("missing field `headers`"), "{e}");
    assert!(matches!(
        dec(r#"{"method":"OPTIONS","uri":"sip:127.0.0.1","method":"INFO","headers":[]}"#),
        Err(DecodeError::Json(_))
    ));
    assert!(matches!(
        dec(r#"{"method":"OPTIONS","uri":"sip:127.0.0.1","status":200,"headers":[]}"#),
        Err(DecodeError::StartLine)
    ));
    assert!(matches!(
        dec(r#"{"method":"OPTIONS","headers":[]}"#),
        Err(DecodeError::StartLine)
    ));
    assert!(matches!(
        dec(r#"{"headers":[]}"#),
        Err(DecodeError::StartLine)
    ));
    assert!(matches!(
        dec(r#"{"status":200,"headers":[],"body":"a","body_base64":"YQ=="}"#),
        Err(DecodeError::BodyTwice)
    ));
    assert!(matches!(
        dec(r#"{"status":200,"headers":[],"body_base64":"***"}"#),
        Err(DecodeError::Base64)
    ));
    assert!(matches!(
        dec(r#"{"status":99,"headers":[]}"#),
        Err(DecodeError::Invalid(BuildError::StatusCode(99)))
    ));
    assert!(matches!(
        dec(r#"{"status":70000,"headers":[]}"#),
        Err(DecodeError::Json(_))
    ));
    assert!(matches!(
        dec(r#"{"status":200,"headers":[["Via"]]}"#),
        Err(DecodeError::Json(_))
    ));
    let small = Limits {
        max_message_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        Codec::Json.decode(br#"{"status":200,"headers":[]}"#, &small),
        Err(DecodeError::TooLarge { len: 27, max: 10 })
    ));
    let few = Limits {
        max_headers: 1,
        ..Limits::default()
    };
    assert!(matches!(
        Codec::Json.decode(br#"{"status":200,"headers":[["A","1"],["B","2"]]}"#, &few),
        Err(DecodeError::TooManyHeaders { count: 2, max: 1 })
    ));
    // A response without a reason gets the default phrase; Content-Length
    // in the JSON is recomputed from the body.
    let m = dec(r#"{"status":486,"headers":[["l","999"]],"body":"abc"}"#).unwrap();
    assert_eq!(m.to_bytes(), b"SIP/2.0 486 Busy Here\r\nl: 3\r\n\r\nabc");
    // Text decode reports the parser's error.
    assert!(matches!(
        Codec::Text.decode(b"garbage\r\n\r\n", &limits),
        Err(DecodeError::Parse(_))
    ));
}

#[test]
fn binary_bodies_use_base64_and_round_trip() {
    let body: Vec<u8> = vec![0x00, 0xff, 0xfe, b'\r', b'\n', 0x80];
    let m = RequestBuilder::new("INFO", "sip:1002@127.0.0.1")
        .header(HeaderName::ContentType, "application/octet-stream")
        .body(body.clone())
        .build()
        .unwrap();
    let mut j = Vec::new();
    Codec::Json.encode(&m, &mut j).unwrap();
    assert!(fits_text_frame(&j));
    let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
    assert_eq!(v["body_base64"], "AP/+DQqA");
    assert!(v.get("body").is_none());
    let back = Codec::Json.decode(&j, &Limits::default()).unwrap();
    assert_eq!(back, m);
    let mut t = Vec::new();
    Codec::Text.encode(&m, &mut t).unwrap();
    assert!(!fits_text_frame(&t), "binary SIP goes in a binary frame");
    let back = Codec::Text.decode(&t, &Limits::default()).unwrap();
    assert_eq!(back.body(), &body[..]);
    assert_eq!(back.header(HeaderName::ContentLength), Some("6"));
}

#[test]
fn json_example_in_the_document_decodes() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-codec.md"),
    )
    .expect("docs/json-codec.md");
    let mut examples = 0;
    for block in doc.split("```json\n").skip(1) {
        let text = block.split("```").next().unwrap();
        let m = Codec::Json
            .decode(text.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("example {examples}: {e}\n{text}"));
        // The example is exactly what sipws writes for that message (as
        // JSON values: the document's line breaks are for people).
        let mut ours = Vec::new();
        json::write(&m, &mut ours, json::Layout::Pretty).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&ours).unwrap();
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, doc, "example {examples}");
        examples += 1;
    }
    assert!(examples >= 2, "the document shows a request and a response");
}

#[test]
fn subprotocols() {
    assert_eq!(Codec::default(), Codec::Text);
    assert_eq!(Codec::Text.subprotocol(), "sip");
    assert_eq!(Codec::Compact.subprotocol(), "sip");
    assert_eq!(Codec::Json.subprotocol(), "sipws.json");
    assert_eq!(Codec::for_subprotocol("sip"), Some(Codec::Text));
    assert_eq!(Codec::for_subprotocol("sipws.json"), Some(Codec::Json));
    assert_eq!(Codec::for_subprotocol("SIP"), None);
    assert_eq!(Codec::ALL.map(Codec::name), ["text", "compact", "json"]);
}

// ---- property tests ----

/// Header values as the parser returns them: no leading/trailing
/// whitespace, printable ASCII and some UTF-8 inside, and now and then a
/// fold (CRLF + SP/HT).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[!-~\u{e9}\u{4e2d}]([ -~\u{e9}\u{4e2d}]{0,40}[!-~\u{e9}])?",
        "[!-~]{1,10}\r\n[ \t][!-~]{1,10}",
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Via".to_owned()),
        Just("v".to_owned()),
        Just("To".to_owned()),
        Just("from".to_owned()),
        Just("i".to_owned()),
        Just("Subject".to_owned()),
        Just("s".to_owned()),
        Just("X-Trace".to_owned()),
        Just("Allow".to_owned()),
        Just("User-Agent".to_owned()),
        "X-[A-Za-z0-9-]{1,10}",
    ]
}

fn owned_message() -> impl Strategy<Value = OwnedMessage> {
    let start = prop_oneof![
        (
            "[A-Z]{3,9}",
            "sips?:[a-z0-9]{1,8}@127\\.0\\.0\\.1(:[0-9]{1,5})?(;[a-z]{1,5}=[a-z0-9]{1,5})?"
        )
            .prop_map(|(method, uri)| OwnedStartLine::Request {
                method,
                uri,
                version: "SIP/2.0".into(),
            }),
        (100u16..=699, "[!-~]([ -~\u{e9}]{0,20}[!-~])?").prop_map(|(status, reason)| {
            OwnedStartLine::Response {
                version: "SIP/2.0".into(),
                status,
                reason,
            }
        }),
    ];
    let headers = prop::collection::vec((header_name(), value()), 0..12);
    let length_at = prop::option::of(0usize..12);
    let body = prop_oneof![
        Just(Vec::new()),
        "[ -~\r\n\u{e9}]{1,80}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 1..80),
    ];
    (
        start,
        headers,
        length_at,
        body,
        "l|Content-Length|content-length",
    )
        .prop_map(|(start, headers, length_at, body, length_name)| {
            let mut hs: Vec<OwnedHeader> = headers
                .into_iter()
                .map(|(n, v)| OwnedHeader::raw(n, v).expect("generated header is valid"))
                .collect();
            if let Some(i) = length_at {
                let i = i.min(hs.len());
                hs.insert(i, OwnedHeader::raw(length_name, "0").unwrap());
            }
            OwnedMessage::from_parts(start, hs, body).expect("generated message is valid")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn owned_messages_round_trip_through_every_codec(m in owned_message()) {
        let limits = Limits::default();
        // What text decoding gives back: the same message, with a
        // Content-Length at the end if it had none.
        let mut expected = m.clone();
        expected.push_header(HeaderName::ContentLength, "").unwrap();

        let mut text = Vec::new();
        Codec::Text.encode(&m, &mut text).unwrap();
        let back = Codec::Text.decode(&text, &limits).unwrap();
        prop_assert_eq!(&back, &expected);

        let mut compact = Vec::new();
        Codec::Compact.encode(&m, &mut compact).unwrap();
        let back = Codec::Compact.decode(&compact, &limits).unwrap();
        prop_assert_eq!(back.start_line(), m.start_line());
        prop_assert_eq!(back.body(), m.body());
        let names = |m: &OwnedMessage| -> Vec<(HeaderName, String)> {
            m.headers().iter().map(|h| (h.name(), h.value().to_owned())).collect()
        };
        prop_assert_eq!(names(&back), names(&expected));

        // JSON keeps the message exactly, including a missing Content-Length.
        let mut j = Vec::new();
        Codec::Json.encode(&m, &mut j).unwrap();
        prop_assert!(fits_text_frame(&j));
        let back = Codec::Json.decode(&j, &limits).unwrap();
        prop_assert_eq!(&back, &m);

        // text -> JSON -> text is byte-exact.
        let parsed = Message::parse(&text, &limits).unwrap();
        let mut j2 = Vec::new();
        Codec::Json.encode_parsed(&parsed, &mut j2).unwrap();
        let mut text2 = Vec::new();
        Codec::Text.encode(&Codec::Json.decode(&j2, &limits).unwrap(), &mut text2).unwrap();
        prop_assert_eq!(&text2, &text);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(frame in prop::collection::vec(any::<u8>(), 0..300)) {
        let limits = Limits::default();
        for codec in Codec::ALL {
            let _ = codec.decode(&frame, &limits);
        }
    }

    #[test]
    fn decoding_json_like_input_never_panics(
        method in prop::option::of("[A-Z \r\n]{0,8}"),
        status in prop::option::of(any::<u16>()),
        headers in prop::collection::vec(("[ -~\r\n]{0,8}", "[ -~\r\n\u{0}]{0,12}"), 0..6),
        body in prop::option::of("[ -~]{0,12}"),
    ) {
        let v = serde_json::json!({
            "method": method, "uri": "sip:127.0.0.1", "status": status,
            "headers": headers, "body": body,
        });
        let frame = serde_json::to_vec(&v).unwrap();
        if let Ok(m) = Codec::Json.decode(&frame, &Limits::default()) {
            // Whatever decodes serialises to text that parses again.
            let text = m.to_bytes();
            prop_assert!(Message::parse(&text, &Limits::default()).is_ok());
        }
    }
}

#[test]
fn transport_boundary_transcoding() {
    let limits = Limits::default();
    for (name, bytes) in corpus() {
        let m = parse(&bytes);
        for codec in Codec::ALL {
            let mut wire = Vec::new();
            codec.encode_text(&bytes, &limits, &mut wire).unwrap();
            let mut direct = Vec::new();
            codec.encode_parsed(&m, &mut direct).unwrap();
            if codec == Codec::Text {
                assert_eq!(wire, bytes, "{name}: text is passed through");
            } else {
                assert_eq!(wire, direct, "{name} {codec}");
            }
            let mut text = Vec::new();
            codec.decode_to_text(&wire, &limits, &mut text).unwrap();
            let back = parse(&text);
            assert_eq!(back.start_line(), m.start_line(), "{name} {codec}");
            assert_eq!(back.body(), m.body(), "{name} {codec}");
            let values = |m: &Message<'_>| -> Vec<(HeaderName, String)> {
                m.headers()
                    .iter()
                    .map(|h| (h.name, h.value.to_owned()))
                    .collect()
            };
            assert_eq!(values(&back), values(&m), "{name} {codec}");
            if codec == Codec::Json {
                assert_eq!(text, bytes, "{name}: JSON gives the text back exactly");
            }
        }
    }
    let mut out = Vec::new();
    assert!(matches!(
        Codec::Json.encode_text(b"not sip", &limits, &mut out),
        Err(DecodeError::Parse(_))
    ));
    assert!(matches!(
        Codec::Json.decode_to_text(b"{}", &limits, &mut out),
        Err(DecodeError::Json(_))
    ));
    let tiny = Limits {
        max_message_bytes: 4,
        ..Limits::default()
    };
    assert!(matches!(
        Codec::Compact.decode_to_text(b"12345", &tiny, &mut out),
        Err(DecodeError::TooLarge { len: 5, max: 4 })
    ));
    assert!(out.is_empty());
}
