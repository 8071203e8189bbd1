//! RFC 4475 torture tests against `Message::parse` / `Message::validate`.
//!
//! The messages live outside the repository in `../shared/rfc4475/` (see its
//! README); where that folder is absent the tests print a notice and pass.

use std::path::PathBuf;

use sipws_core::message::{
    classify, unescape, Contact, HeaderName, Limits, Message, ParseError, ParseErrorKind, StartLine,
};

fn dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rfc4475");
    if d.join("manifest.json").is_file() {
        Some(d)
    } else {
        eprintln!("notice: {} not found; RFC 4475 tests skipped", d.display());
        None
    }
}

fn read(name: &str) -> Option<Vec<u8>> {
    Some(std::fs::read(dir()?.join(name)).expect("read torture message"))
}

fn manifest() -> Option<Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(dir()?.join("manifest.json")).expect("read manifest");
    let v: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    Some(v.as_array().expect("manifest is an array").clone())
}

fn parse(buf: &[u8]) -> Message<'_> {
    Message::parse_strict(buf, &Limits::default()).expect("valid torture message")
}

/// Where each message the RFC calls invalid is rejected, and with which
/// kind. `parse` = by `Message::parse` (structure/framing), `validate` =
/// by `Message::validate`. The six range/consistency cases the README lets a
/// parser pass on (scalar02, scalarlg, badvers, mismatch01, mismatch02,
/// clerr) are *rejected* by sipws: clerr by `parse`, the five others by
/// `validate`.
const INVALID: &[(&str, &str, ParseErrorKind)] = &[
    ("badinv01.dat", "validate", ParseErrorKind::Via),
    ("clerr.dat", "parse", ParseErrorKind::BodyLength),
    ("ncl.dat", "parse", ParseErrorKind::ContentLength),
    ("scalar02.dat", "validate", ParseErrorKind::CSeq),
    ("scalarlg.dat", "validate", ParseErrorKind::CSeq),
    ("quotbal.dat", "validate", ParseErrorKind::NameAddr),
    ("ltgtruri.dat", "parse", ParseErrorKind::RequestUri),
    ("lwsruri.dat", "parse", ParseErrorKind::RequestUri),
    ("lwsstart.dat", "parse", ParseErrorKind::StartLine),
    ("trws.dat", "parse", ParseErrorKind::StartLine),
    ("escruri.dat", "validate", ParseErrorKind::RequestUri),
    ("baddate.dat", "validate", ParseErrorKind::Date),
    ("regbadct.dat", "validate", ParseErrorKind::Contact),
    ("badaspec.dat", "validate", ParseErrorKind::NameAddr),
    ("baddn.dat", "validate", ParseErrorKind::NameAddr),
    ("badvers.dat", "validate", ParseErrorKind::Version),
    ("mismatch01.dat", "validate", ParseErrorKind::CSeqMethod),
    ("mismatch02.dat", "validate", ParseErrorKind::CSeqMethod),
    ("bigcode.dat", "parse", ParseErrorKind::StatusCode),
    (
        "multi01.dat",
        "validate",
        ParseErrorKind::Duplicate(HeaderName::CallId),
    ),
    ("mcl01.dat", "parse", ParseErrorKind::ContentLength),
];

#[test]
fn manifest_fields_and_verdicts() {
    let Some(entries) = manifest() else { return };
    assert_eq!(entries.len(), 49);
    let mut invalid_seen = 0;
    for e in &entries {
        let file = e["file"].as_str().unwrap();
        let buf = read(file).unwrap();
        if e["syntactically_valid"].as_bool().unwrap() {
            let m = Message::parse_strict(&buf, &Limits::default())
                .unwrap_or_else(|err| panic!("{file}: {err}"));
            let kind = e["kind"].as_str().unwrap();
            assert_eq!(m.is_request(), kind == "request", "{file}");
            let method = e["method"].as_str().unwrap();
            match m.start_line() {
                StartLine::Request { method: got, .. } => assert_eq!(got, method, "{file}"),
                StartLine::Response { status, .. } => {
                    assert_eq!(Some(u64::from(status)), e["status"].as_u64(), "{file}");
                    assert_eq!(m.cseq().unwrap().method, method, "{file}");
                }
            }
            assert_eq!(m.call_id(), e["call_id"].as_str(), "{file}");
            // classify agrees with the full parse.
            let s =
                classify(&buf, &Limits::default()).unwrap_or_else(|err| panic!("{file}: {err}"));
            assert_eq!(s.start, m.start_line(), "{file}");
            assert_eq!(s.call_id, m.call_id(), "{file}");
            assert_eq!(s.cseq, m.cseq(), "{file}");
            assert_eq!(s.content_length, m.content_length(), "{file}");
        } else {
            let &(_, stage, kind) = INVALID
                .iter()
                .find(|(f, _, _)| *f == file)
                .unwrap_or_else(|| panic!("{file} has no expected verdict"));
            invalid_seen += 1;
            let err: ParseError = match Message::parse(&buf, &Limits::default()) {
                Err(err) => {
                    assert_eq!(stage, "parse", "{file} rejected by parse: {err}");
                    err
                }
                Ok(m) => {
                    assert_eq!(stage, "validate", "{file} passed parse");
                    m.validate().expect_err(file)
                }
            };
            assert_eq!(err.kind, kind, "{file}: {err}");
            assert!(
                err.offset < buf.len(),
                "{file}: offset {} in {} bytes",
                err.offset,
                buf.len()
            );
        }
    }
    assert_eq!(invalid_seen, INVALID.len());
}

#[test]
fn error_offsets_point_at_the_culprit() {
    let Some(_) = dir() else { return };
    let at = |file: &str| {
        let buf = read(file).unwrap();
        let err = match Message::parse(&buf, &Limits::default()) {
            Err(e) => e,
            Ok(m) => m.validate().unwrap_err(),
        };
        let line_start = buf[..err.offset]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let line_end = buf[err.offset..]
            .iter()
            .position(|&c| c == b'\r')
            .map_or(buf.len(), |p| err.offset + p);
        (
            String::from_utf8_lossy(&buf[line_start..line_end]).into_owned(),
            String::from_utf8_lossy(&buf[err.offset..line_end]).into_owned(),
        )
    };
    assert_eq!(at("baddate.dat").1, "EST");
    assert!(at("badinv01.dat").0.starts_with("Via:"));
    assert!(at("quotbal.dat").0.starts_with("To:"));
    assert!(at("badaspec.dat").0.starts_with("To:"));
    assert!(at("baddn.dat").0.starts_with("From:"));
    assert!(at("regbadct.dat").0.starts_with("Contact:"));
    assert!(at("clerr.dat").1.starts_with("9999"));
    assert!(at("ncl.dat").1.starts_with("-999"));
    assert!(at("mismatch01.dat").1.starts_with("INVITE"));
    assert!(at("escruri.dat").1.starts_with("Route="));
    assert!(at("lwsruri.dat").1.starts_with("lr SIP/2.0"));
    assert!(at("multi01.dat").0.starts_with("Call-ID"));
}

#[test]
fn wsinv_folding_and_lws() {
    let Some(buf) = read("wsinv.dat") else { return };
    let m = parse(&buf);
    let vias: Vec<_> = m.vias().collect::<Result<_, _>>().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(
        (vias[0].transport, vias[0].host, vias[0].branch()),
        ("UDP", "192.0.2.2", Some("390skdjuw"))
    );
    assert_eq!(
        (vias[1].transport, vias[1].host),
        ("TCP", "spindle.example.com")
    );
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(
        (vias[2].transport, vias[2].host),
        ("UDP", "192.168.255.111")
    );
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(m.max_forwards(), Some(68));
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, "INVITE"));
    let to = m.to().unwrap();
    assert_eq!(to.uri, "sip:vivekg@chair-dnrc.example.com");
    assert_eq!(to.tag(), Some("1918181833n"));
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some(r#"J Rosenberg \\\""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(m.header(HeaderName::Subject), Some(""));
    assert_eq!(
        m.header_raw("newfangledheader"),
        Some("newfangled value\r\n continued newfangled value")
    );
    assert_eq!(
        m.header_raw("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    let route: Vec<_> = m.routes().collect::<Result<_, _>>().unwrap();
    assert_eq!(route.len(), 1);
    let ruri = route[0].sip_uri().unwrap();
    assert!(ruri.lr());
    assert_eq!(ruri.params.value("unknownwith"), Some("value"));
    assert!(ruri.params.contains("unknown-no-value"));
    let contact = m.contact().unwrap();
    let c = contact.address().unwrap();
    assert_eq!(c.display_name, Some(r#"Quoted string \"\""#));
    assert_eq!(c.param("newparam"), Some("newvalue"));
    assert!(c.params.contains("secondparam"));
    assert_eq!(c.q(), Some("0.33"));
    assert!(m.content_type().unwrap().is("application", "sdp"));
    assert_eq!(m.body().len(), 150);
}

#[test]
fn esc01_escapes_decode_once() {
    let Some(buf) = read("esc01.dat") else { return };
    let m = parse(&buf);
    let ruri = sipws_core::message::Uri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!(&*unescape(ruri.user.unwrap()), b"sips:user@example.com");
    assert_eq!(ruri.host, "example.net");
    let to = m.to().unwrap().sip_uri().unwrap();
    assert_eq!(&*unescape(to.user.unwrap()), b"user");
    let from = m.from().unwrap().sip_uri().unwrap();
    assert_eq!(&*unescape(from.user.unwrap()), b"I have spaces");
    let c = m.contact().unwrap();
    let uri = c.address().unwrap().sip_uri().unwrap();
    assert_eq!(&*unescape(uri.user.unwrap()), b"caller");
    let params: Vec<_> = uri.params.iter().collect();
    assert_eq!(params.len(), 2);
    assert_eq!(&*unescape(params[0].name), b"lr");
    assert_eq!(&*unescape(params[1].name), b"name");
    assert_eq!(&*unescape(params[1].value.unwrap()), b"value%41");
    assert!(m.content_type().unwrap().is("application", "sdp"));
}

#[test]
fn escnull_keeps_nul_and_two_contacts() {
    let Some(buf) = read("escnull.dat") else {
        return;
    };
    let m = parse(&buf);
    let to = m.to().unwrap().sip_uri().unwrap();
    assert_eq!(&*unescape(to.user.unwrap()), b"null-\0-null");
    let users: Vec<Vec<u8>> = m
        .contacts()
        .map(|c| {
            unescape(
                c.unwrap()
                    .address()
                    .unwrap()
                    .sip_uri()
                    .unwrap()
                    .user
                    .unwrap(),
            )
            .into_owned()
        })
        .collect();
    assert_eq!(users, vec![b"\0".to_vec(), b"\0\0".to_vec()]);
    assert_eq!(m.content_length(), Some(0));
}

#[test]
fn esc02_percent_is_not_an_escape_in_methods() {
    let Some(buf) = read("esc02.dat") else { return };
    let m = parse(&buf);
    assert_eq!(m.method(), Some("RE%47IST%45R"));
    assert_eq!(m.cseq().unwrap().method, "RE%47IST%45R");
    // C%6Fntact is an unknown header, not a third Contact.
    let contacts: Vec<_> = m
        .contacts()
        .map(|c| c.unwrap().address().unwrap().uri)
        .collect();
    assert_eq!(
        contacts,
        [
            "sip:alias1@host1.example.com",
            "sip:alias3@host3.example.com"
        ]
    );
    assert_eq!(
        m.header_raw("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
    assert_eq!(m.to().unwrap().display_name, Some("%Z%45"));
    assert_eq!(m.via().unwrap().branch(), Some("z9hG4bK209%fzsnel234"));
}

#[test]
fn lwsdisp_token_display_name_without_space() {
    let Some(buf) = read("lwsdisp.dat") else {
        return;
    };
    let m = parse(&buf);
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some("caller"));
    assert_eq!(from.uri, "sip:caller@example.com");
    assert_eq!(from.tag(), Some("323"));
}

#[test]
fn longreq_34_vias_and_long_values() {
    let Some(buf) = read("longreq.dat") else {
        return;
    };
    let m = parse(&buf);
    assert_eq!(m.vias().count(), 34);
    assert!(m.vias().all(|v| v.is_ok()));
    assert!(m.to().unwrap().display_name.unwrap().len() > 100);
    assert_eq!(m.body().len(), 150);
}

#[test]
fn dblreq_trailing_request_is_ignored() {
    let Some(buf) = read("dblreq.dat") else {
        return;
    };
    let m = parse(&buf);
    assert_eq!(m.method(), Some("REGISTER"));
    assert!(m.body().is_empty());
    assert_eq!(m.trailing().len(), 450);
    assert!(m
        .trailing()
        .starts_with(b"\r\nINVITE sip:joe@example.com SIP/2.0\r\n"));
    assert_eq!(m.as_bytes().len(), buf.len() - 450);
}

#[test]
fn semiuri_user_part_holds_the_semicolon() {
    let Some(buf) = read("semiuri.dat") else {
        return;
    };
    let m = parse(&buf);
    let u = sipws_core::message::Uri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!(u.user, Some("user;par=u%40example.net"));
    assert_eq!(&*unescape(u.user.unwrap()), b"user;par=u@example.net");
    assert_eq!(u.host, "example.com");
    assert!(u.params.is_empty());
    assert!(m
        .header(HeaderName::Accept)
        .unwrap()
        .contains("message/sipfrag"));
}

#[test]
fn transports_in_vias() {
    let Some(buf) = read("transports.dat") else {
        return;
    };
    let m = parse(&buf);
    let t: Vec<_> = m.vias().map(|v| v.unwrap().transport).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(m.call_id(), Some("transports.kijh4akdnaqjkwendsasfdj"));
}

#[test]
fn reason_phrases() {
    let Some(buf) = read("unreason.dat") else {
        return;
    };
    let m = parse(&buf);
    let reason = m.reason().unwrap();
    assert!(reason.starts_with("= 2**3 * 5**2 "));
    assert!(reason.contains("но сто"));
    assert_eq!(m.status(), Some(200));
    let buf = read("noreason.dat").unwrap();
    let m = parse(&buf);
    assert_eq!((m.status(), m.reason()), (Some(100), Some("")));
}

#[test]
fn mpart01_binary_body_framed_by_content_length() {
    let Some(buf) = read("mpart01.dat") else {
        return;
    };
    let m = parse(&buf);
    assert_eq!(m.body().len(), 553);
    assert!(m.body().contains(&0));
    let ct = m.content_type().unwrap();
    assert!(ct.is("multipart", "mixed"));
    assert_eq!(ct.param("boundary"), Some("7a9cbec02ceef655"));
    assert_eq!(m.via().unwrap().rport(), Some(None));
}

#[test]
fn intmeth_token_characters_everywhere() {
    let Some(buf) = read("intmeth.dat") else {
        return;
    };
    let m = parse(&buf);
    let u = sipws_core::message::Uri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!(
        u.user,
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        u.password,
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(m.via().unwrap().branch(), Some("z9hG4bK-.!%66*_+`'~"));
    let to = m.to().unwrap();
    assert_eq!(to.display_name, Some("BEL:\\\x07 NUL:\\\0 DEL:\\\x7f"));
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some("token1~` token2'+_ token3*%!.-"));
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(from.param("fromParam''~+*_!.-%"), Some("работающий"));
    assert_eq!(m.max_forwards(), Some(255));
}

#[test]
fn contact_params_vs_uri_params() {
    let Some(buf) = read("cparam01.dat") else {
        return;
    };
    let m = parse(&buf);
    let c = m.contact().unwrap();
    let a = c.address().unwrap();
    assert!(a.params.contains("unknownparam"));
    assert!(a.sip_uri().unwrap().params.is_empty());
    let buf = read("cparam02.dat").unwrap();
    let m = parse(&buf);
    let c = m.contact().unwrap();
    let a = c.address().unwrap();
    assert!(a.params.is_empty());
    assert!(a.sip_uri().unwrap().params.contains("unknownparam"));
    let buf = read("regescrt.dat").unwrap();
    let m = parse(&buf);
    let Some(Contact::Address(a)) = m.contact() else {
        panic!("contact")
    };
    assert_eq!(
        a.sip_uri().unwrap().headers,
        Some("Route=%3Csip:sip.example.com%3E")
    );
}

#[test]
fn non_sip_uris_and_unknown_auth_scheme() {
    let Some(buf) = read("unksm2.dat") else {
        return;
    };
    let m = parse(&buf);
    assert_eq!(m.to().unwrap().uri, "isbn:2983792873");
    assert_eq!(m.from().unwrap().uri, "http://www.example.com");
    assert_eq!(
        m.contact().unwrap().address().unwrap().uri,
        "name:John_Smith"
    );
    let buf = read("regaut01.dat").unwrap();
    let m = parse(&buf);
    let a = m.authorization().next().unwrap();
    assert_eq!(a.scheme, "NoOneKnowsThisScheme");
    assert_eq!(a.get("opaque-data"), Some("here"));
    let buf = read("inv2543.dat").unwrap();
    let m = parse(&buf);
    assert_eq!(m.content_length(), None);
    assert_eq!(m.body().len(), 105);
    assert_eq!(m.via().unwrap().branch(), None);
    assert_eq!(m.from().unwrap().tag(), None);
    assert_eq!(m.max_forwards(), None);
    let buf = read("zeromf.dat").unwrap();
    assert_eq!(parse(&buf).max_forwards(), Some(0));
}
