//! Differential test: sipws, rsip and rsipstack read the same fields from
//! the same bytes.
//!
//! For every valid message of the sipws corpus and every syntactically
//! valid RFC 4475 torture message that rsip (or rsipstack, whose parser is
//! a fork of rsip's API with its own memchr-based tokenizer) accepts, both
//! parsers must agree on: request/response, method or status code, Request-URI,
//! Call-ID, CSeq number and method, number of header lines, the branch of
//! every Via, the From and To tags, and the body bytes.
//!
//! The RFC 4475 messages are read from `../shared/rfc4475/` (beside the
//! checkout); where that folder is absent that half prints a notice and is
//! skipped, the corpus half always runs.

use std::path::{Path, PathBuf};

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

/// Reads [`Fields`] with rsip or with rsipstack's fork of it: the two share
/// their API, under different paths.
macro_rules! foreign_fields {
    ($fn_name:ident, $sip:path) => {
        fn $fn_name(buf: &[u8]) -> Result<Fields, String> {
            #[allow(unused_imports)]
            use sip::prelude::*;
            use $sip as sip;
            let msg = sip::SipMessage::try_from(buf).map_err(|e| e.to_string())?;
            let (kind, request_uri, headers, body) = match &msg {
                sip::SipMessage::Request(r) => (
                    format!("request {}", r.method),
                    Some(transport_lowercase(&r.uri.to_string())),
                    &r.headers,
                    &r.body,
                ),
                sip::SipMessage::Response(r) => (
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
                // Compact names (RFC 3261 §7.3.3: `i`, `v`, `f`, `t`) that the
                // parser kept as extension headers go to its own header types,
                // so the comparison is about value parsing.
                let folded;
                let h = match h {
                    sip::Header::Other(name, value) => {
                        folded = match name.to_ascii_lowercase().as_str() {
                            "i" => sip::Header::CallId(sip::headers::CallId::new(value.clone())),
                            "v" => sip::Header::Via(sip::headers::Via::new(value.clone())),
                            "f" => sip::Header::From(sip::headers::From::new(value.clone())),
                            "t" => sip::Header::To(sip::headers::To::new(value.clone())),
                            _ => h.clone(),
                        };
                        &folded
                    }
                    other => other,
                };
                match h {
                    sip::Header::CallId(c) if f.call_id.is_none() => {
                        f.call_id = Some(c.value().to_owned());
                    }
                    sip::Header::CSeq(c) if f.cseq.is_none() => {
                        let c = c.typed().map_err(|e| format!("CSeq: {e}"))?;
                        f.cseq = Some((c.seq, c.method.to_string()));
                    }
                    sip::Header::Via(v) => {
                        let v = v.typed().map_err(|e| format!("Via: {e}"))?;
                        f.via_branches.push(v.branch().map(ToString::to_string));
                    }
                    sip::Header::From(h) if f.from_tag.is_none() => {
                        f.from_tag = h
                            .tag()
                            .map_err(|e| format!("From: {e}"))?
                            .map(|t| t.to_string());
                    }
                    sip::Header::To(h) if f.to_tag.is_none() => {
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
    };
}

foreign_fields!(rsip_fields, rsip);
foreign_fields!(rsipstack_fields, rsipstack::sip);

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

/// A parser sipws is compared with.
struct Foreign {
    name: &'static str,
    fields: fn(&[u8]) -> Result<Fields, String>,
    /// Where it is known to read a message wrongly: (file, field, why). The
    /// field is not compared for that file, and the test checks that the two
    /// parsers really do differ there, so a fixed parser makes the entry fail.
    known_wrong: &'static [(&'static str, &'static str, &'static str)],
    /// Corpus messages it cannot parse (the test output prints its reason).
    rejects_corpus: &'static [&'static str],
    /// How many of the 28 valid RFC 4475 messages it accepts, so that a
    /// regression in the comparison's reach fails the test.
    rfc4475_compared: usize,
}

const DBLREQ_BODY: (&str, &str, &str) = (
    "dblreq.dat",
    "body",
    "Content-Length: 0 is ignored and the second request returned as the \
     body; RFC 4475 §3.1.1.8 says the bytes after the first message are \
     ignored",
);

const FOREIGN: [Foreign; 2] = [
    Foreign {
        name: "rsip",
        fields: rsip_fields,
        known_wrong: &[DBLREQ_BODY],
        rejects_corpus: &[],
        // The other nine it rejects: wsinv, intmeth, esc01, esc02, longreq,
        // semiuri, transports, unkscm, unksm2.
        rfc4475_compared: 19,
    },
    Foreign {
        name: "rsipstack",
        fields: rsipstack_fields,
        known_wrong: &[
            (
                "wsinv.dat",
                "via_branches",
                "the folded `v:` line with two comma-separated values yields one \
                 Via whose branch starts with a space; RFC 4475 §3.1.1.1 has \
                 three Vias, branches 390skdjuw, z9hG4bK9ikj8, z9hG4bK30239",
            ),
            (
                "wsinv.dat",
                "from_tag",
                "no tag found in a From with LWS around `;` and `=` (tag 98asjd8)",
            ),
            (
                "wsinv.dat",
                "to_tag",
                "no tag found in a To with LWS around `;` and `=` (tag 1918181833n)",
            ),
            (
                "esc01.dat",
                "request_uri",
                "the Request-URI is re-escaped on output (`%3A` becomes `%253A`)",
            ),
            (
                "inv2543.dat",
                "body",
                "without Content-Length the body is dropped; RFC 3261 §18.3 and \
                 RFC 4475 §3.4.1: on a message transport it is the rest of the \
                 message",
            ),
        ],
        rejects_corpus: &[],
        // The other three it rejects: intmeth, esc02 (token methods with
        // unusual characters), transports (an unknown transport).
        rfc4475_compared: 25,
    },
];

/// Compares sipws with `foreign` on one message; `Ok(false)` if the
/// foreign parser rejects it.
fn compare(foreign: &Foreign, name: &str, buf: &[u8]) -> Result<bool, String> {
    let who = foreign.name;
    let mut theirs = match (foreign.fields)(buf) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{name}: {who} rejects it ({e}); not compared");
            return Ok(false);
        }
    };
    let ours = sipws_fields(buf).map_err(|e| format!("{name}: sipws rejects it: {e}"))?;
    for &(file, field, why) in foreign.known_wrong {
        if file != name {
            continue;
        }
        // Take our value for that field; it differed if theirs was other.
        fn take<T: Clone + PartialEq>(theirs: &mut T, ours: &T) -> bool {
            std::mem::replace(theirs, ours.clone()) != *ours
        }
        let differs = match field {
            "body" => take(&mut theirs.body, &ours.body),
            "request_uri" => take(&mut theirs.request_uri, &ours.request_uri),
            "via_branches" => take(&mut theirs.via_branches, &ours.via_branches),
            "from_tag" => take(&mut theirs.from_tag, &ours.from_tag),
            "to_tag" => take(&mut theirs.to_tag, &ours.to_tag),
            other => return Err(format!("{name}: unknown field {other} in known_wrong")),
        };
        if !differs {
            return Err(format!(
                "{name}: {who} now agrees on {field}; remove the entry ({why})"
            ));
        }
    }
    if ours == theirs {
        Ok(true)
    } else {
        Err(format!(
            "{name}: sipws and {who} disagree\n    sipws: {ours:?}\n {who:>8}: {theirs:?}"
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
fn corpus_messages_agree_with_rsip_and_rsipstack() {
    let files = files_with_ext(&sipws_bench::corpus_dir(), "sip");
    assert!(files.len() >= 21, "corpus has {} files", files.len());
    let mut failures = Vec::new();
    for foreign in &FOREIGN {
        let mut skipped = Vec::new();
        for path in &files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let buf = std::fs::read(path).unwrap();
            match compare(foreign, &name, &buf) {
                Ok(true) => {}
                Ok(false) => skipped.push(name),
                Err(e) => failures.push(e),
            }
        }
        // Another rejection would mean the comparison silently shrank.
        if skipped != foreign.rejects_corpus {
            failures.push(format!("{} rejects {skipped:?}", foreign.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rfc4475_valid_messages_agree_with_rsip_and_rsipstack() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rfc4475");
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.json")) else {
        eprintln!("notice: {} not found; RFC 4475 half skipped", dir.display());
        return;
    };
    let entries: serde_json::Value = serde_json::from_str(&manifest).expect("manifest is JSON");
    let entries = entries.as_array().expect("manifest is an array");
    let valid: Vec<&str> = entries
        .iter()
        .filter(|e| e["syntactically_valid"] == serde_json::Value::Bool(true))
        .map(|e| e["file"].as_str().expect("file name"))
        .collect();
    assert_eq!(valid.len(), 28);
    let mut failures = Vec::new();
    for foreign in &FOREIGN {
        let mut compared = Vec::new();
        for &file in &valid {
            let buf = std::fs::read(dir.join(file)).expect("torture message");
            match compare(foreign, file, &buf) {
                Ok(true) => compared.push(file),
                Ok(false) => {}
                Err(e) => failures.push(e),
            }
        }
        eprintln!(
            "RFC 4475, {}: {} of {} valid messages compared: {compared:?}",
            foreign.name,
            compared.len(),
            valid.len()
        );
        if compared.len() < foreign.rfc4475_compared {
            failures.push(format!(
                "{}: only {} RFC 4475 messages compared",
                foreign.name,
                compared.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
