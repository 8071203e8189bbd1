//! The JSON form of a SIP message (WebSocket subprotocol `sipws.json`).
//!
//! Specified in `docs/json-codec.md`. In short, one JSON object per
//! WebSocket message:
//!
//! ```json
//! {"method":"MESSAGE","uri":"sip:1002@127.0.0.1",
//!  "headers":[["Via","SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1"],
//!             ["i","7h6g5f4e3d2c1b0a9z8y"],["Content-Length","5"]],
//!  "body":"hello"}
//! ```
//!
//! - a request has `method` and `uri`; a response has `status` and
//!   `reason`; `version` appears only when it is not `SIP/2.0`;
//! - `headers` is the ordered list of `[name as written, value]` pairs,
//!   repeated headers repeated, nothing merged or reordered;
//! - the body is `body` (a string) when it is valid UTF-8, else
//!   `body_base64` (standard alphabet, padded); neither when it is empty;
//! - a `Content-Length` header keeps its place and name, but its value is
//!   always recomputed from the body (on encode and on decode);
//! - unknown fields, a duplicate field, both or neither start-line kinds,
//!   or both body fields are errors.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use super::{DecodeError, EncodeError};
use crate::message::{
    default_reason_phrase, HeaderName, Limits, Message, OwnedHeader, OwnedMessage, OwnedStartLine,
    StartLine, MAX_HEADERS,
};

/// The WebSocket subprotocol token that selects the JSON form.
pub const SUBPROTOCOL: &str = "sipws.json";

/// The version left out of the JSON form (the only one in use).
const DEFAULT_VERSION: &str = "SIP/2.0";

/// Output layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Layout {
    /// No whitespace: what goes on the wire.
    #[default]
    Compact,
    /// Indented, for people (the `sipws parse` output).
    Pretty,
}

#[derive(Serialize)]
struct Out<'a, H> {
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    headers: H,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
}

/// Serialises `[name, value]` pairs from a re-iterable iterator.
struct HeaderSeq<I>(I);

impl<'h, I> Serialize for HeaderSeq<I>
where
    I: Iterator<Item = (&'h str, &'h str)> + Clone,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for pair in self.0.clone() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct In {
    method: Option<String>,
    uri: Option<String>,
    status: Option<u16>,
    reason: Option<String>,
    version: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_base64: Option<String>,
}

fn write_view<'h>(
    out: &mut Vec<u8>,
    start: StartLine<'_>,
    headers: impl Iterator<Item = (&'h str, &'h str)> + Clone,
    body: &[u8],
    layout: Layout,
) -> Result<(), EncodeError> {
    let (method, uri, status, reason, version) = match start {
        StartLine::Request {
            method,
            uri,
            version,
        } => (Some(method), Some(uri), None, None, version),
        StartLine::Response {
            version,
            status,
            reason,
        } => (None, None, Some(status), Some(reason), version),
    };
    let (body_text, body_base64) = if body.is_empty() {
        (None, None)
    } else {
        match core::str::from_utf8(body) {
            Ok(s) => (Some(s), None),
            Err(_) => (None, Some(BASE64.encode(body))),
        }
    };
    let mut digits = [0u8; 20];
    let length = decimal(body.len(), &mut digits);
    let headers = headers.map(move |(name, value)| {
        if HeaderName::from_bytes(name.as_bytes()) == HeaderName::ContentLength {
            (name, length)
        } else {
            (name, value)
        }
    });
    let msg = Out {
        method,
        uri,
        status,
        reason,
        version: (version != DEFAULT_VERSION).then_some(version),
        headers: HeaderSeq(headers),
        body: body_text,
        body_base64,
    };
    let res = match layout {
        Layout::Compact => serde_json::to_writer(&mut *out, &msg),
        Layout::Pretty => serde_json::to_writer_pretty(&mut *out, &msg),
    };
    res.map_err(EncodeError::Json)
}

/// `n` in decimal, written into `buf` (no allocation).
fn decimal(n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    core::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Append the JSON form of an owned message to `out`.
pub fn write(msg: &OwnedMessage, out: &mut Vec<u8>, layout: Layout) -> Result<(), EncodeError> {
    write_view(
        out,
        msg.start_line().as_ref(),
        msg.headers().iter().map(|h| (h.raw_name(), h.value())),
        msg.body(),
        layout,
    )
}

/// Append the JSON form of a parsed message to `out` (no intermediate
/// owned copy).
pub fn write_parsed(
    msg: &Message<'_>,
    out: &mut Vec<u8>,
    layout: Layout,
) -> Result<(), EncodeError> {
    write_view(
        out,
        msg.start_line(),
        msg.headers().iter().map(|h| (h.raw_name, h.value)),
        msg.body(),
        layout,
    )
}

/// Decode one JSON-form message. Checks `limits.max_message_bytes` on the
/// frame before parsing and `limits.max_headers` on the header list.
pub fn decode(frame: &[u8], limits: &Limits) -> Result<OwnedMessage, DecodeError> {
    if frame.len() > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            len: frame.len(),
            max: limits.max_message_bytes,
        });
    }
    let m: In = serde_json::from_slice(frame).map_err(DecodeError::Json)?;
    let max = limits.max_headers.min(MAX_HEADERS);
    if m.headers.len() > max {
        return Err(DecodeError::TooManyHeaders {
            count: m.headers.len(),
            max,
        });
    }
    let version = m.version.unwrap_or_else(|| DEFAULT_VERSION.to_owned());
    let start = match (m.method, m.uri, m.status, m.reason) {
        (Some(method), Some(uri), None, None) => OwnedStartLine::Request {
            method,
            uri,
            version,
        },
        (None, None, Some(status), reason) => OwnedStartLine::Response {
            version,
            status,
            reason: reason.unwrap_or_else(|| default_reason_phrase(status).to_owned()),
        },
        _ => return Err(DecodeError::StartLine),
    };
    let body = match (m.body, m.body_base64) {
        (Some(_), Some(_)) => return Err(DecodeError::BodyTwice),
        (Some(text), None) => text.into_bytes(),
        (None, Some(b64)) => BASE64
            .decode(b64.as_bytes())
            .map_err(|_| DecodeError::Base64)?,
        (None, None) => Vec::new(),
    };
    let headers = m
        .headers
        .into_iter()
        .map(|(name, value)| OwnedHeader::raw(name, value))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DecodeError::Invalid)?;
    OwnedMessage::from_parts(start, headers, body).map_err(DecodeError::Invalid)
}
