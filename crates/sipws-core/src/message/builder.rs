//! Builders for owned SIP requests and responses (RFC 3261 §8.1.1, §8.2.6).
//!
//! See [`RequestBuilder`] for an example.

use super::owned::{check_token, OwnedHeader, OwnedMessage, OwnedStartLine, SIP_2_0};
use super::reason::default_reason_phrase;
use super::{BuildError, HeaderName, Message};

/// Collects headers in order; remembers the first error.
#[derive(Clone, Debug, Default)]
struct Parts {
    headers: Vec<OwnedHeader>,
    body: Vec<u8>,
    error: Option<BuildError>,
}

impl Parts {
    fn fail(&mut self, e: BuildError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn push(&mut self, h: Result<OwnedHeader, BuildError>) {
        match h {
            Ok(h) => self.headers.push(h),
            Err(e) => self.fail(e),
        }
    }
}

/// Builds an [`OwnedMessage`] request.
///
/// Builders take values by chaining and remember the first invalid one;
/// [`RequestBuilder::build`] / [`ResponseBuilder::build`] then report it.
///
/// ```
/// use sipws_core::message::{HeaderName, RequestBuilder, ResponseBuilder};
///
/// let register = RequestBuilder::new("REGISTER", "sip:127.0.0.1")
///     .header(HeaderName::Via, "SIP/2.0/WS h7kjh12s.invalid;branch=z9hG4bKabc")
///     .header(HeaderName::From, "<sip:alice@127.0.0.1>;tag=a73kszlfl")
///     .header(HeaderName::To, "<sip:alice@127.0.0.1>")
///     .header(HeaderName::CallId, "1j9FpLxk3uxtm8tn@127.0.0.1")
///     .header(HeaderName::CSeq, "1 REGISTER")
///     .header_raw("X-Client", "sipws")
///     .build()?;
/// let mut frame = Vec::new();
/// register.write_to(&mut frame);
/// assert!(frame.ends_with(b"X-Client: sipws\r\nContent-Length: 0\r\n\r\n"));
///
/// let ok = ResponseBuilder::reply_to_owned(&register, 200)
///     .header(HeaderName::Expires, "600")
///     .build()?;
/// assert_eq!(ok.header(HeaderName::CSeq), Some("1 REGISTER"));
/// # Ok::<(), sipws_core::message::BuildError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() or write_to()"]
pub struct RequestBuilder {
    method: String,
    uri: String,
    version: String,
    parts: Parts,
}

impl RequestBuilder {
    /// Start a request `method uri SIP/2.0` (e.g. `"INVITE"`,
    /// `"sip:bob@127.0.0.1"`).
    pub fn new(method: impl Into<String>, uri: impl Into<String>) -> Self {
        RequestBuilder {
            method: method.into(),
            uri: uri.into(),
            version: SIP_2_0.to_owned(),
            parts: Parts::default(),
        }
    }

    /// Override the SIP version (default `SIP/2.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Append a header with a known name, written in its long form.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.parts.push(OwnedHeader::new(name, value));
        self
    }

    /// Append a header with the name exactly as written (`"X-Foo"`, `"i"`).
    pub fn header_raw(mut self, raw_name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push(OwnedHeader::raw(raw_name, value));
        self
    }

    /// Set the body; `Content-Length` is computed from it.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.parts.body = body.into();
        self
    }

    /// The request, or the first invalid part.
    pub fn build(self) -> Result<OwnedMessage, BuildError> {
        if let Some(e) = self.parts.error {
            return Err(e);
        }
        OwnedMessage::from_parts(
            OwnedStartLine::Request {
                method: self.method,
                uri: self.uri,
                version: self.version,
            },
            self.parts.headers,
            self.parts.body,
        )
    }

    /// Build and serialise as SIP text, appending to `out`.
    pub fn write_to(self, out: &mut Vec<u8>) -> Result<(), BuildError> {
        self.build()?.write_to(out);
        Ok(())
    }
}

/// Builds an [`OwnedMessage`] response, from scratch or as the reply to a
/// request (RFC 3261 §8.2.6.2). See [`RequestBuilder`] for an example.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() or write_to()"]
pub struct ResponseBuilder {
    status: u16,
    reason: Option<String>,
    version: String,
    to_tag: Option<String>,
    parts: Parts,
}

impl ResponseBuilder {
    /// Start a response with this status; the reason phrase defaults to the
    /// RFC 3261 §21 phrase ([`default_reason_phrase`]).
    pub fn new(status: u16) -> Self {
        ResponseBuilder {
            status,
            reason: None,
            version: SIP_2_0.to_owned(),
            to_tag: None,
            parts: Parts::default(),
        }
    }

    /// Start the response to a parsed request: copies every `Via` in order,
    /// then `From`, `To`, `Call-ID` and `CSeq` (RFC 3261 §8.2.6.2), keeping
    /// their names as written; for a `100` also `Timestamp` (§8.2.6.1).
    /// Fails at [`build`](Self::build) when `request` is a response.
    pub fn reply_to(request: &Message<'_>, status: u16) -> Self {
        let mut b = ResponseBuilder::new(status);
        if !request.is_request() {
            b.parts.fail(BuildError::NotARequest);
            return b;
        }
        b.copy_from(
            request
                .headers()
                .iter()
                .map(|h| (h.name, h.raw_name, h.value)),
        );
        b
    }

    /// Start the response to an owned request: copies every `Via` in order,
    /// then `From`, `To`, `Call-ID` and `CSeq` (RFC 3261 §8.2.6.2), keeping
    /// their names as written; for a `100` also `Timestamp` (§8.2.6.1).
    /// Fails at [`build`](Self::build) when `request` is a response.
    pub fn reply_to_owned(request: &OwnedMessage, status: u16) -> Self {
        let mut b = ResponseBuilder::new(status);
        if !request.is_request() {
            b.parts.fail(BuildError::NotARequest);
            return b;
        }
        b.copy_from(
            request
                .headers()
                .iter()
                .map(|h| (h.name(), h.raw_name(), h.value())),
        );
        b
    }

    /// Copy the headers a response takes from its request.
    fn copy_from<'h>(
        &mut self,
        headers: impl Iterator<Item = (HeaderName, &'h str, &'h str)> + Clone,
    ) {
        let mut wanted: Vec<HeaderName> = vec![
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ];
        if self.status == 100 {
            wanted.push(HeaderName::Timestamp);
        }
        for (name, raw, value) in headers.clone() {
            if name == HeaderName::Via {
                self.parts.push(OwnedHeader::raw(raw, value));
            }
        }
        for want in wanted {
            if let Some((_, raw, value)) = headers.clone().find(|(n, _, _)| *n == want) {
                self.parts.push(OwnedHeader::raw(raw, value));
            }
        }
    }

    /// Override the reason phrase.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Override the SIP version (default `SIP/2.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Add `;tag=TAG` to the `To` header at build time, unless it already
    /// carries a tag (RFC 3261 §8.2.6.2). The tag must be a `token`.
    pub fn to_tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        if check_token(&tag).is_err() {
            self.parts.fail(BuildError::Tag);
        }
        self.to_tag = Some(tag);
        self
    }

    /// Append a header with a known name, written in its long form.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.parts.push(OwnedHeader::new(name, value));
        self
    }

    /// Append a header with the name exactly as written (`"X-Foo"`, `"i"`).
    pub fn header_raw(mut self, raw_name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push(OwnedHeader::raw(raw_name, value));
        self
    }

    /// Set the body; `Content-Length` is computed from it.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.parts.body = body.into();
        self
    }

    /// The response, or the first invalid part.
    pub fn build(mut self) -> Result<OwnedMessage, BuildError> {
        if let Some(e) = self.parts.error {
            return Err(e);
        }
        if let Some(tag) = &self.to_tag {
            if let Some(to) = self
                .parts
                .headers
                .iter_mut()
                .find(|h| h.name() == HeaderName::To)
            {
                if !has_tag_param(to.value()) {
                    let value = format!("{};tag={tag}", to.value());
                    *to = OwnedHeader::raw(to.raw_name().to_owned(), value)?;
                }
            }
        }
        let reason = self
            .reason
            .unwrap_or_else(|| default_reason_phrase(self.status).to_owned());
        OwnedMessage::from_parts(
            OwnedStartLine::Response {
                version: self.version,
                status: self.status,
                reason,
            },
            self.parts.headers,
            self.parts.body,
        )
    }

    /// Build and serialise as SIP text, appending to `out`.
    pub fn write_to(self, out: &mut Vec<u8>) -> Result<(), BuildError> {
        self.build()?.write_to(out);
        Ok(())
    }
}

/// Whether a From/To value (`name-addr` or `addr-spec` followed by
/// parameters, RFC 3261 §20.20 / §20.39) carries a `tag` parameter. A `tag`
/// inside the `<URI>` is a URI parameter, not the header's tag.
#[must_use]
pub fn has_tag_param(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = 0;
    let mut in_quotes = false;
    let mut params_at = None;
    while i < b.len() {
        match (b[i], in_quotes) {
            (b'"', false) => in_quotes = true,
            (b'"', true) => in_quotes = false,
            (b'\\', true) => i += 1,
            (b'<', false) => {
                params_at = b[i..].iter().position(|&c| c == b'>').map(|p| i + p + 1);
                break;
            }
            (b';', false) => {
                params_at = Some(i);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let Some(start) = params_at else {
        return false;
    };
    value.get(start..).is_some_and(|params| {
        params.split(';').any(|p| {
            let name = p.split('=').next().unwrap_or("");
            name.trim_matches(|c: char| c.is_ascii_whitespace())
                .eq_ignore_ascii_case("tag")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> OwnedMessage {
        RequestBuilder::new("INVITE", "sip:bob@127.0.0.1")
            .header_raw("v", "SIP/2.0/WS a.invalid;branch=z9hG4bK1")
            .header(HeaderName::Via, "SIP/2.0/WS b.invalid;branch=z9hG4bK2")
            .header(HeaderName::MaxForwards, "70")
            .header_raw("To", "\"Bob <x>\" <sip:bob@127.0.0.1>")
            .header(HeaderName::From, "<sip:alice@127.0.0.1>;tag=9fxced76sl")
            .header(HeaderName::CSeq, "314159 INVITE")
            .header_raw("i", "3848276298220188511@127.0.0.1")
            .header(HeaderName::Timestamp, "54")
            .header(HeaderName::ContentType, "application/sdp")
            .body(&b"v=0\r\n"[..])
            .build()
            .unwrap()
    }

    #[test]
    fn reply_copies_via_from_to_call_id_cseq() {
        let r = ResponseBuilder::reply_to_owned(&invite(), 180)
            .to_tag("8321234356")
            .header(HeaderName::Contact, "<sip:bob@b.invalid;transport=ws>")
            .build()
            .unwrap();
        assert_eq!(
            String::from_utf8(r.to_bytes()).unwrap(),
            "SIP/2.0 180 Ringing\r\n\
             v: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
             Via: SIP/2.0/WS b.invalid;branch=z9hG4bK2\r\n\
             From: <sip:alice@127.0.0.1>;tag=9fxced76sl\r\n\
             To: \"Bob <x>\" <sip:bob@127.0.0.1>;tag=8321234356\r\n\
             i: 3848276298220188511@127.0.0.1\r\n\
             CSeq: 314159 INVITE\r\n\
             Contact: <sip:bob@b.invalid;transport=ws>\r\n\
             Content-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn trying_copies_timestamp_and_existing_tag_is_kept() {
        let r = ResponseBuilder::reply_to_owned(&invite(), 100)
            .build()
            .unwrap();
        assert_eq!(r.header(HeaderName::Timestamp), Some("54"));
        assert_eq!(
            r.header(HeaderName::To),
            Some("\"Bob <x>\" <sip:bob@127.0.0.1>")
        );
        let mut req = invite();
        req.set_header(HeaderName::To, "<sip:bob@127.0.0.1>;tag=abc")
            .unwrap();
        let r = ResponseBuilder::reply_to_owned(&req, 486)
            .to_tag("zzz")
            .build()
            .unwrap();
        assert_eq!(r.status(), Some(486));
        assert_eq!(r.header(HeaderName::Timestamp), None);
        assert_eq!(
            r.header(HeaderName::To),
            Some("<sip:bob@127.0.0.1>;tag=abc")
        );
        assert!(r.to_bytes().starts_with(b"SIP/2.0 486 Busy Here\r\n"));
    }

    #[test]
    fn reply_errors() {
        let resp = ResponseBuilder::new(200).build().unwrap();
        assert_eq!(
            ResponseBuilder::reply_to_owned(&resp, 200).build(),
            Err(BuildError::NotARequest)
        );
        assert_eq!(
            ResponseBuilder::reply_to_owned(&invite(), 200)
                .to_tag("a b")
                .build(),
            Err(BuildError::Tag)
        );
        assert_eq!(
            ResponseBuilder::new(200)
                .reason("OK")
                .header(HeaderName::Subject, "a\r\nVia: injected")
                .header(HeaderName::Other, "ignored: the first error is reported")
                .build(),
            Err(BuildError::HeaderValue {
                name: HeaderName::Subject,
                offset: 1
            })
        );
        assert_eq!(
            RequestBuilder::new("INVITE", "sip:x@127.0.0.1")
                .header_raw("Bad Name", "v")
                .build(),
            Err(BuildError::HeaderName { offset: 3 })
        );
    }

    #[test]
    fn write_to_appends() {
        let mut out = b"prefix|".to_vec();
        ResponseBuilder::new(599).write_to(&mut out).unwrap();
        assert_eq!(
            out,
            b"prefix|SIP/2.0 599 Server Internal Error\r\nContent-Length: 0\r\n\r\n"
        );
        out.clear();
        RequestBuilder::new("ACK", "sip:b@127.0.0.1")
            .header(HeaderName::ContentLength, "12")
            .header(HeaderName::CSeq, "1 ACK")
            .write_to(&mut out)
            .unwrap();
        assert_eq!(
            out,
            b"ACK sip:b@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\nCSeq: 1 ACK\r\n\r\n"
        );
    }

    #[test]
    fn tag_detection() {
        for (v, tagged) in [
            ("<sip:a@127.0.0.1>;tag=1", true),
            ("<sip:a@127.0.0.1> ; TAG = 1", true),
            ("sip:a@127.0.0.1;tag=1", true),
            ("<sip:a@127.0.0.1;tag=1>", false),
            ("\"x;tag=1 <y>\" <sip:a@127.0.0.1>", false),
            ("\"q\\\"<\" <sip:a@127.0.0.1>;tag=2", true),
            ("<sip:a@127.0.0.1>;tagx=1", false),
            ("<sip:a@127.0.0.1>;x=1;tag", true),
            ("sip:a@127.0.0.1", false),
            ("<sip:a@127.0.0.1", false),
            ("", false),
        ] {
            assert_eq!(has_tag_param(v), tagged, "{v}");
        }
    }
}
