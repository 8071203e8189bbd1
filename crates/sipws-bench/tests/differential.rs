//! Differential test: sipws and rsip read the same fields from the same
//! bytes.
//!
//! For every valid message of the sipws corpus and every syntactically
//! valid RFC 4475 torture message that rsip accepts, both parsers must
//! agree on: request/response, method or status code, Request-URI,
//! Call-ID, CSeq number and method, number of header lines, the branch of
//! every Via, the From and To tags, and the body bytes.
//!
//! The RFC 4475 messages are read from `../shared/rfc4475/` (beside the
//! checkout); where that folder is absent that half prints a notice and is
//! skipped, the corpus half always runs.

use std::path::{Path, PathBuf};

use rsip::headers::UntypedHeader;
use rsip::prelude::ToTypedHeader;
use sipws_core::message::{Limits, Message, StartLine};

/// The fields both parsers are asked for.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    /// `"request METHOD"` or `"response CODE"`.
    kind: String,
    request_uri: Option<String>,
    call_id: Option<String>,
    cseq: Option<(u32, String)>,
    header_lines: usize,
    via_branches: Vec<Option<String>>,
    from_tag: Option<String>,
    to_tag: Option<String>,
    body: Vec<u8>,
}

fn sipws_fields(buf: &[u8]) -> Result<Fields, String> {
    let msg = Message::parse(buf, &Limits::default()).map_err(|e| e.to_string())?;
    let (kind, request_uri) = match msg.start_line() {
        StartLine::Request { method, uri, .. } => {
            (format!("request {method}"), Some(transport_lowercase(uri)))
        }
        StartLine::Response { status, .. } => (format!("response {status}"), None),
    };
    let via_branches = msg
        .vias()
        .map(|v| v.map(|v| v.branch().map(str::to_owned)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Via: {e}"))?;
    Ok(Fields {
        kind,
        request_uri,
        call_id: msg.call_id().map(str::to_owned),
        cseq: msg.cseq().map(|c| (c.seq, c.method.to_owned())),
        header_lines: msg.headers().len(),
        via_branches,
        from_tag: msg.from().and_then(|f| f.tag()).map(str::to_owned),
        to_tag: msg.to().and_then(|t| t.tag()).map(str::to_owned),
        body: msg.body().to_vec(),
    })
}

fn rsip_fields(buf: &[u8]) -> Result<Fields, String> {
    let msg = rsip::SipMessage::try_from(buf).map_err(|e| e.to_string())?;
    let (kind, request_uri, headers, body) = match &msg {
        rsip::SipMessage::Request(r) => (
            format!("request {}", r.method),
            Some(transport_lowercase(&r.uri.to_string())),
            &r.headers,
            &r.body,
        ),
        rsip::SipMessage::Response(r) => (
            format!("response {}", u16::from(r.status_code.clone())),
            None,
            &r.headers,
            &r.body,
        ),
    };
    let mut f = Fields {
        kind,
        request_uri,
        call_id: None,
        cseq: None,
        header_lines: headers.iter().count(),
        via_branches: Vec::new(),
        from_tag: None,
        to_tag: None,
        body: body.clone(),
    };
    for h in headers.iter() {
        // rsip does not fold RFC 3261 §7.3.3 compact names (`i`, `v`, `f`,
        // `t`): it keeps them as extension headers. Hand their values to
        // rsip's own header types so the comparison is about value parsing.
        let folded;
        let h = match h {
            rsip::Header::Other(name, value) => {
                folded = match name.to_ascii_lowercase().as_str() {
                    "i" => rsip::Header::CallId(rsip::headers::CallId::new(value.clone())),
                    "v" => rsip::Header::Via(rsip::headers::Via::new(value.clone())),
                    "f" => rsip::Header::From(rsip::headers::From::new(value.clone())),
                    "t" => rsip::Header::To(rsip::headers::To::new(value.clone())),
                    _ => h.clone(),
                };
                &folded
            }
            other => other,
        };
        match h {
            rsip::Header::CallId(c) if f.call_id.is_none() => {
                f.call_id = Some(c.value().to_owned());
            }
            rsip::Header::CSeq(c) if f.cseq.is_none() => {
                let c = c.typed().map_err(|e| format!("CSeq: {e}"))?;
                f.cseq = Some((c.seq, c.method.to_string()));
            }
            rsip::Header::Via(v) => {
                let v = v.typed().map_err(|e| format!("Via: {e}"))?;
                f.via_branches.push(v.branch().map(ToString::to_string));
            }
            rsip::Header::From(h) if f.from_tag.is_none() => {
                f.from_tag = h
                    .tag()
                    .map_err(|e| format!("From: {e}"))?
                    .map(|t| t.to_string());
            }
            rsip::Header::To(h) if f.to_tag.is_none() => {
                f.to_tag = h
                    .tag()
                    .map_err(|e| format!("To: {e}"))?
                    .map(|t| t.to_string());
            }
            _ => {}
        }
    }
    Ok(f)
}

/// rsip re-serialises the Request-URI with the `transport` parameter's
/// value upper-cased (`transport=ws` becomes `transport=WS`); the value is
/// case-insensitive (RFC 3261 §19.1.4), so both sides are compared with it
/// lower-cased and the rest of the URI as written.
fn transport_lowercase(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    for (i, part) in uri.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        match part.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("transport") => {
                out.push_str(k);
                out.push('=');
                out.push_str(&v.to_ascii_lowercase());
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// Where rsip is known to read a message wrongly: (file, field, why). The
/// field is not compared for that file, and the test checks that the two
/// parsers really do differ there, so a fixed rsip makes the entry fail.
const RSIP_KNOWN_WRONG: &[(&str, &str, &str)] = &[(
    "dblreq.dat",
    "body",
    "rsip ignores Content-Length: 0 and returns the second request as the \
     body; RFC 4475 §3.1.1.8 says the bytes after the first message are \
     ignored",
)];

/// Compares both parsers on one message; `Ok(false)` if rsip rejects it.
fn compare(name: &str, buf: &[u8]) -> Result<bool, String> {
    let theirs = match rsip_fields(buf) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{name}: rsip rejects it ({e}); not compared");
            return Ok(false);
        }
    };
    let ours = sipws_fields(buf).map_err(|e| format!("{name}: sipws rejects it: {e}"))?;
    let mut theirs = theirs;
    for &(file, field, why) in RSIP_KNOWN_WRONG {
        if file != name {
            continue;
        }
        let differs = match field {
            "body" => std::mem::replace(&mut theirs.body, ours.body.clone()) != ours.body,
            other => return Err(format!("{name}: unknown field {other} in RSIP_KNOWN_WRONG")),
        };
        if !differs {
            return Err(format!(
                "{name}: rsip now agrees on {field}; remove the entry ({why})"
            ));
        }
    }
    if ours == theirs {
        Ok(true)
    } else {
        Err(format!(
            "{name}: sipws and rsip disagree\n sipws: {ours:?}\n  rsip: {theirs:?}"
        ))
    }
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_messages_agree_with_rsip() {
    let files = files_with_ext(&sipws_bench::corpus_dir(), "sip");
    assert!(files.len() >= 21, "corpus has {} files", files.len());
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let buf = std::fs::read(path).unwrap();
        match compare(&name, &buf) {
            Ok(true) => {}
            Ok(false) => skipped.push(name),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // rsip reads all of the corpus but the messages named here; another
    // rejection would mean the comparison silently shrank.
    assert_eq!(skipped, RSIP_REJECTS_CORPUS);
}

/// Corpus messages rsip cannot parse (the test output prints its reason).
const RSIP_REJECTS_CORPUS: &[&str] = &[];

#[test]
fn rfc4475_valid_messages_agree_with_rsip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rfc4475");
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.json")) else {
        eprintln!("notice: {} not found; RFC 4475 half skipped", dir.display());
        return;
    };
    let entries: serde_json::Value = serde_json::from_str(&manifest).expect("manifest is JSON");
    let entries = entries.as_array().expect("manifest is an array");
    let mut failures = Vec::new();
    let mut compared = Vec::new();
    let mut valid = 0;
    for e in entries {
        if e["syntactically_valid"] != serde_json::Value::Bool(true) {
            continue;
        }
        valid += 1;
        let file = e["file"].as_str().expect("file name");
        let buf = std::fs::read(dir.join(file)).expect("torture message");
        match compare(file, &buf) {
            Ok(true) => compared.push(file.to_owned()),
            Ok(false) => {}
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "RFC 4475: {} of {valid} valid messages compared: {compared:?}",
        compared.len()
    );
    assert!(
        compared.len() >= MIN_RFC4475_COMPARED,
        "only {} RFC 4475 messages compared",
        compared.len()
    );
}

/// How many of the 28 valid RFC 4475 messages rsip accepts (19 with rsip
/// 0.4.0; the other nine it rejects, see the test output), so that a
/// regression in the comparison's reach fails the test.
const MIN_RFC4475_COMPARED: usize = 19;
