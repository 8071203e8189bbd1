//! Owned SIP messages (RFC 3261 §7) for the layers above the parser, and
//! their serialisation into a caller-supplied buffer.
//!
//! An [`OwnedMessage`] is a start line, an ordered list of headers (each
//! keeping its name as written) and a body. Every constructor and mutator
//! validates what it is given, so serialising can never fail and can never
//! be tricked into writing an extra header line (header injection): CR and
//! LF are refused in names and values, except as RFC 3261 §7.3.1 line
//! folding (CRLF followed by SP or HT), which cannot end a header line.
//!
//! `Content-Length` is always derived from the body: a message holds at
//! most one `Content-Length` header, whose value is rewritten whenever the
//! body changes, and serialisation writes the computed length there (or as
//! the last header when the message has none), whatever was given.

use core::fmt;

use super::{HeaderName, Message, StartLine};

/// Why an owned message could not be built: some part would not serialise
/// to valid SIP (or would inject extra lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The method is empty or not an RFC 3261 `token`.
    Method,
    /// The Request-URI is empty or holds whitespace or a control character.
    RequestUri,
    /// The SIP version is not `SIP/` followed by token characters.
    Version,
    /// The status code is outside `100..=699`.
    StatusCode(u16),
    /// The reason phrase holds CR, LF or another control character.
    ReasonPhrase {
        /// Byte offset of the offending character in the phrase.
        offset: usize,
    },
    /// A header name is empty or not an RFC 3261 `token`.
    HeaderName {
        /// Byte offset of the offending character in the name (0 if empty).
        offset: usize,
    },
    /// A header value holds a control character, or CR/LF other than a
    /// fold (CRLF followed by SP or HT): refused to prevent header injection.
    HeaderValue {
        /// The header the value was meant for.
        name: HeaderName,
        /// Byte offset of the offending character in the value.
        offset: usize,
    },
    /// [`HeaderName::Other`] has no text of its own: use the `*_raw`
    /// variant with the name as it should be written.
    OtherWithoutName,
    /// A To tag is empty or not an RFC 3261 `token`.
    Tag,
    /// A response was asked to reply to a message that is not a request.
    NotARequest,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BuildError::Method => f.write_str("method is empty or not a token"),
            BuildError::RequestUri => {
                f.write_str("request-URI is empty or contains whitespace or a control character")
            }
            BuildError::Version => f.write_str("SIP version must be `SIP/` followed by a token"),
            BuildError::StatusCode(c) => write!(f, "status code {c} is outside 100..=699"),
            BuildError::ReasonPhrase { offset } => write!(
                f,
                "reason phrase contains CR, LF or a control character at byte {offset}"
            ),
            BuildError::HeaderName { offset } => {
                write!(f, "header name is empty or not a token (byte {offset})")
            }
            BuildError::HeaderValue { name, offset } => write!(
                f,
                "value of header {name} contains a control character at byte {offset} \
                 (CR/LF only allowed as a fold: CRLF followed by SP or HT); refused to \
                 prevent header injection"
            ),
            BuildError::OtherWithoutName => {
                f.write_str("HeaderName::Other needs the header name as written (use *_raw)")
            }
            BuildError::Tag => f.write_str("tag is empty or not a token"),
            BuildError::NotARequest => f.write_str("can only reply to a request"),
        }
    }
}

impl std::error::Error for BuildError {}

/// The start line of an owned message (RFC 3261 §7.1, §7.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OwnedStartLine {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        /// The method, e.g. `"INVITE"` (case-sensitive, RFC 3261 §7.1).
        method: String,
        /// The Request-URI as written.
        uri: String,
        /// The version, normally `"SIP/2.0"`.
        version: String,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        /// The version, normally `"SIP/2.0"`.
        version: String,
        /// The status code, `100..=699`.
        status: u16,
        /// The reason phrase (may be empty).
        reason: String,
    },
}

impl OwnedStartLine {
    /// Borrow as the parser's [`StartLine`].
    #[must_use]
    pub fn as_ref(&self) -> StartLine<'_> {
        match self {
            OwnedStartLine::Request {
                method,
                uri,
                version,
            } => StartLine::Request {
                method,
                uri,
                version,
            },
            OwnedStartLine::Response {
                version,
                status,
                reason,
            } => StartLine::Response {
                version,
                status: *status,
                reason,
            },
        }
    }
}

impl From<StartLine<'_>> for OwnedStartLine {
    fn from(s: StartLine<'_>) -> Self {
        match s {
            StartLine::Request {
                method,
                uri,
                version,
            } => OwnedStartLine::Request {
                method: method.to_owned(),
                uri: uri.to_owned(),
                version: version.to_owned(),
            },
            StartLine::Response {
                version,
                status,
                reason,
            } => OwnedStartLine::Response {
                version: version.to_owned(),
                status,
                reason: reason.to_owned(),
            },
        }
    }
}

/// One header of an owned message: the folded name, the name as written
/// and the value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OwnedHeader {
    name: HeaderName,
    raw_name: String,
    value: String,
}

impl OwnedHeader {
    /// A header with a known name written in its canonical long form.
    pub fn new(name: HeaderName, value: impl Into<String>) -> Result<Self, BuildError> {
        let raw = name.as_str().ok_or(BuildError::OtherWithoutName)?;
        Self::raw(raw, value)
    }

    /// A header with the name exactly as it should be written (`"i"`,
    /// `"call-id"`, `"X-Foo"`); the folded [`HeaderName`] is derived from it.
    pub fn raw(raw_name: impl Into<String>, value: impl Into<String>) -> Result<Self, BuildError> {
        let raw_name = raw_name.into();
        check_token(&raw_name).map_err(|offset| BuildError::HeaderName { offset })?;
        let name = HeaderName::from_bytes(raw_name.as_bytes());
        let value = value.into();
        check_value(&value).map_err(|offset| BuildError::HeaderValue { name, offset })?;
        Ok(OwnedHeader {
            name,
            raw_name,
            value,
        })
    }

    /// A header whose folded name is already known (from the parser):
    /// same checks as [`raw`](Self::raw) without classifying the name again.
    fn classified(name: HeaderName, raw_name: &str, value: &str) -> Result<Self, BuildError> {
        check_token(raw_name).map_err(|offset| BuildError::HeaderName { offset })?;
        check_value(value).map_err(|offset| BuildError::HeaderValue { name, offset })?;
        Ok(OwnedHeader {
            name,
            raw_name: raw_name.to_owned(),
            value: value.to_owned(),
        })
    }

    /// The folded name (compact forms and case folded).
    #[must_use]
    pub fn name(&self) -> HeaderName {
        self.name
    }

    /// The name as it is written on output (unless a compact form is asked for).
    #[must_use]
    pub fn raw_name(&self) -> &str {
        &self.raw_name
    }

    /// The value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether this header's name matches `raw_name`: same folded name for
    /// known headers, ASCII-case-insensitive equality for extension headers.
    #[must_use]
    pub fn is_named(&self, raw_name: &str) -> bool {
        let n = HeaderName::from_bytes(raw_name.as_bytes());
        if n == HeaderName::Other {
            self.name == HeaderName::Other && self.raw_name.eq_ignore_ascii_case(raw_name)
        } else {
            self.name == n
        }
    }
}

/// How header names are written on output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NameForm {
    /// Exactly as held (as written in the input, or as given to the builder).
    #[default]
    AsWritten,
    /// The compact form (RFC 3261 §7.3.3) where one exists, else as written.
    Compact,
    /// The canonical long form for known names, else as written.
    Long,
}

/// An owned SIP request or response: a start line, an ordered list of
/// headers (each keeping its name as written) and a body.
///
/// Every constructor and mutator validates what it is given, so
/// serialising can never fail and can never be tricked into writing an
/// extra header line (header injection): CR and LF are refused in names and
/// values, except as RFC 3261 §7.3.1 line folding (CRLF followed by SP or
/// HT), which cannot end a header line. `Content-Length` is always derived
/// from the body: at most one such header is kept, its value follows the
/// body, and serialisation writes the computed length there (or as the last
/// header when there is none).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OwnedMessage {
    start: OwnedStartLine,
    headers: Vec<OwnedHeader>,
    body: Vec<u8>,
}

impl OwnedMessage {
    /// A request without headers, version `SIP/2.0`.
    pub fn request(method: &str, uri: &str) -> Result<Self, BuildError> {
        Self::from_parts(
            OwnedStartLine::Request {
                method: method.to_owned(),
                uri: uri.to_owned(),
                version: SIP_2_0.to_owned(),
            },
            Vec::new(),
            Vec::new(),
        )
    }

    /// A response without headers, version `SIP/2.0`.
    pub fn response(status: u16, reason: &str) -> Result<Self, BuildError> {
        Self::from_parts(
            OwnedStartLine::Response {
                version: SIP_2_0.to_owned(),
                status,
                reason: reason.to_owned(),
            },
            Vec::new(),
            Vec::new(),
        )
    }

    /// Assemble a message from validated headers, checking the start line.
    /// Extra `Content-Length` headers are dropped and the first one's value
    /// is set from the body.
    pub fn from_parts(
        start: OwnedStartLine,
        headers: Vec<OwnedHeader>,
        body: Vec<u8>,
    ) -> Result<Self, BuildError> {
        check_start_line(&start)?;
        let mut m = OwnedMessage {
            start,
            headers,
            body,
        };
        let mut seen = false;
        m.headers.retain(|h| {
            if h.name != HeaderName::ContentLength {
                return true;
            }
            let keep = !seen;
            seen = true;
            keep
        });
        m.sync_content_length();
        Ok(m)
    }

    /// The start line.
    #[must_use]
    pub fn start_line(&self) -> &OwnedStartLine {
        &self.start
    }

    /// Whether this is a request.
    #[must_use]
    pub fn is_request(&self) -> bool {
        matches!(self.start, OwnedStartLine::Request { .. })
    }

    /// The request method; `None` for a response.
    #[must_use]
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            OwnedStartLine::Request { method, .. } => Some(method),
            OwnedStartLine::Response { .. } => None,
        }
    }

    /// The Request-URI; `None` for a response.
    #[must_use]
    pub fn uri(&self) -> Option<&str> {
        match &self.start {
            OwnedStartLine::Request { uri, .. } => Some(uri),
            OwnedStartLine::Response { .. } => None,
        }
    }

    /// The response status; `None` for a request.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self.start {
            OwnedStartLine::Response { status, .. } => Some(status),
            OwnedStartLine::Request { .. } => None,
        }
    }

    /// The SIP version of the start line.
    #[must_use]
    pub fn version(&self) -> &str {
        match &self.start {
            OwnedStartLine::Request { version, .. } | OwnedStartLine::Response { version, .. } => {
                version
            }
        }
    }

    /// All headers in output order. `Content-Length` is among them only
    /// when it was given (it is written last otherwise).
    #[must_use]
    pub fn headers(&self) -> &[OwnedHeader] {
        &self.headers
    }

    /// The first value of a known header.
    #[must_use]
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers_named(name).next()
    }

    /// Every value of a known header, in order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &str> + '_ {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| h.value.as_str())
    }

    /// The value of the first header whose name as written equals
    /// `raw_name` ignoring ASCII case (for extension headers; compact forms
    /// are not folded here, as in [`Message::header_raw`]).
    #[must_use]
    pub fn header_raw(&self, raw_name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.raw_name.eq_ignore_ascii_case(raw_name))
            .map(|h| h.value.as_str())
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Replace the body; `Content-Length` follows.
    pub fn set_body(&mut self, body: impl Into<Vec<u8>>) {
        self.body = body.into();
        self.sync_content_length();
    }

    /// Append a header with a known name (written in long form). A
    /// `Content-Length` is placed here only if the message has none yet; its
    /// value is always derived from the body.
    pub fn push_header(
        &mut self,
        name: HeaderName,
        value: impl Into<String>,
    ) -> Result<(), BuildError> {
        let h = OwnedHeader::new(name, value)?;
        self.push(h);
        Ok(())
    }

    /// Append a header with the name as written (`"X-Foo"`, `"i"`).
    pub fn push_header_raw(
        &mut self,
        raw_name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), BuildError> {
        let h = OwnedHeader::raw(raw_name, value)?;
        self.push(h);
        Ok(())
    }

    /// Append a validated header (same `Content-Length` rule as
    /// [`push_header`](Self::push_header)).
    pub fn push(&mut self, header: OwnedHeader) {
        self.insert(self.headers.len(), header);
    }

    /// Insert a validated header at `index` (clamped to the header count).
    pub fn insert(&mut self, index: usize, header: OwnedHeader) {
        let is_length = header.name == HeaderName::ContentLength;
        if is_length
            && self
                .headers
                .iter()
                .any(|h| h.name == HeaderName::ContentLength)
        {
            return;
        }
        let i = index.min(self.headers.len());
        self.headers.insert(i, header);
        if is_length {
            self.sync_content_length();
        }
    }

    /// Remove every header with this known name; returns how many went.
    /// (A message without `Content-Length` still gets one on output.)
    pub fn remove_headers(&mut self, name: HeaderName) -> usize {
        if name == HeaderName::Other {
            return 0;
        }
        let before = self.headers.len();
        self.headers.retain(|h| h.name != name);
        before - self.headers.len()
    }

    /// Set a known header to one value: the first occurrence is replaced in
    /// place (keeping its name as written), later ones are removed; appended
    /// when absent. For `Content-Length` the given value is ignored (it is
    /// derived from the body).
    pub fn set_header(
        &mut self,
        name: HeaderName,
        value: impl Into<String>,
    ) -> Result<(), BuildError> {
        let h = OwnedHeader::new(name, value)?;
        if name == HeaderName::ContentLength {
            self.push(h);
            return Ok(());
        }
        match self.headers.iter().position(|x| x.name == name) {
            Some(i) => {
                self.headers[i].value = h.value;
                let mut idx = 0;
                self.headers.retain(|x| {
                    let keep = idx <= i || x.name != name;
                    idx += 1;
                    keep
                });
            }
            None => self.headers.push(h),
        }
        Ok(())
    }

    /// Serialise as SIP text into `out` (appending), names as written.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        self.write_with(out, NameForm::AsWritten);
    }

    /// Serialise as SIP text into `out` (appending), names in `form`.
    pub fn write_with(&self, out: &mut Vec<u8>, form: NameForm) {
        out.reserve(self.encoded_len_hint());
        write_message(
            out,
            self.start.as_ref(),
            self.headers
                .iter()
                .map(|h| (h.name, h.raw_name.as_str(), h.value.as_str())),
            &self.body,
            form,
        );
    }

    /// The serialised SIP text, names as written (allocates; prefer
    /// [`write_to`](Self::write_to) with a reused buffer on hot paths).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }

    /// An upper-bound-ish size estimate used to reserve output space.
    fn encoded_len_hint(&self) -> usize {
        let start = match &self.start {
            OwnedStartLine::Request {
                method,
                uri,
                version,
            } => method.len() + uri.len() + version.len() + 4,
            OwnedStartLine::Response {
                version, reason, ..
            } => version.len() + reason.len() + 8,
        };
        let headers: usize = self
            .headers
            .iter()
            .map(|h| h.raw_name.len() + h.value.len() + 4)
            .sum();
        start + headers + 2 + self.body.len() + 24
    }

    fn sync_content_length(&mut self) {
        let len = self.body.len().to_string();
        if let Some(h) = self
            .headers
            .iter_mut()
            .find(|h| h.name == HeaderName::ContentLength)
        {
            h.value = len;
        }
    }
}

impl fmt::Display for OwnedMessage {
    /// The SIP text, with a non-UTF-8 body shown lossily.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl TryFrom<&Message<'_>> for OwnedMessage {
    type Error = BuildError;

    /// Copy a parsed message: start line, every header in order with its
    /// name as written and its value (folds included), and the body. Fails
    /// only on what the parser accepts but the builder refuses (a control
    /// character in a value, a name that is not a token).
    fn try_from(m: &Message<'_>) -> Result<Self, BuildError> {
        let headers = m
            .headers()
            .iter()
            .map(|h| OwnedHeader::classified(h.name, h.raw_name, h.value))
            .collect::<Result<Vec<_>, _>>()?;
        OwnedMessage::from_parts(m.start_line().into(), headers, m.body().to_vec())
    }
}

impl Message<'_> {
    /// Re-serialise this parsed message as SIP text, appending to `out`,
    /// with names in `form`, each header as `name: value` and
    /// `Content-Length` computed from the body (as
    /// [`OwnedMessage::write_with`] does). For the exact input bytes use
    /// [`as_bytes`](Self::as_bytes).
    pub fn write_with(&self, out: &mut Vec<u8>, form: NameForm) {
        write_message(
            out,
            self.start_line(),
            self.headers().iter().map(|h| (h.name, h.raw_name, h.value)),
            self.body(),
            form,
        );
    }
}

/// Serialise a message as SIP text, appending to `out`: the start line,
/// each header as `name: value` (names chosen by `form`) with the
/// `Content-Length` value replaced by the body length (later ones dropped,
/// one appended when there is none), a blank line and the body.
pub(crate) fn write_message<'h>(
    out: &mut Vec<u8>,
    start: StartLine<'_>,
    headers: impl Iterator<Item = (HeaderName, &'h str, &'h str)>,
    body: &[u8],
    form: NameForm,
) {
    match start {
        StartLine::Request {
            method,
            uri,
            version,
        } => {
            push_all(out, &[method, " ", uri, " ", version, "\r\n"]);
        }
        StartLine::Response {
            version,
            status,
            reason,
        } => {
            out.extend_from_slice(version.as_bytes());
            out.push(b' ');
            push_status(out, status);
            out.push(b' ');
            out.extend_from_slice(reason.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    let mut wrote_length = false;
    for (folded, raw, value) in headers {
        let name = match form {
            NameForm::AsWritten => raw,
            NameForm::Compact => folded.compact().unwrap_or(raw),
            NameForm::Long => folded.as_str().unwrap_or(raw),
        };
        if folded == HeaderName::ContentLength {
            if wrote_length {
                continue;
            }
            wrote_length = true;
            push_all(out, &[name, ": "]);
            push_len(out, body.len());
            out.extend_from_slice(b"\r\n");
        } else {
            push_all(out, &[name, ": ", value, "\r\n"]);
        }
    }
    if !wrote_length {
        let name = match form {
            NameForm::Compact => "l",
            _ => "Content-Length",
        };
        push_all(out, &[name, ": "]);
        push_len(out, body.len());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// The only SIP version in use.
pub(crate) const SIP_2_0: &str = "SIP/2.0";

fn push_all(out: &mut Vec<u8>, parts: &[&str]) {
    for p in parts {
        out.extend_from_slice(p.as_bytes());
    }
}

fn push_status(out: &mut Vec<u8>, status: u16) {
    // Validated 100..=699: exactly three digits.
    let s = status.min(999);
    out.extend_from_slice(&[
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]);
}

fn push_len(out: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// RFC 3261 §25.1 `token` characters.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// `Ok` for a non-empty token, else the offset of the first bad byte.
pub(crate) fn check_token(s: &str) -> Result<(), usize> {
    if s.is_empty() {
        return Err(0);
    }
    match s.bytes().position(|b| !is_token_byte(b)) {
        Some(i) => Err(i),
        None => Ok(()),
    }
}

/// A header value: UTF-8 text without control characters other than HT,
/// where CR and LF may only appear as a fold `CRLF 1*(SP / HT)`.
pub(crate) fn check_value(s: &str) -> Result<(), usize> {
    let b = s.as_bytes();
    // Fast path (branch-free, vectorisable): no control character at all.
    if !b.iter().any(|&c| is_forbidden_control(c)) {
        return Ok(());
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\r' {
            let folded = b.get(i + 1) == Some(&b'\n') && matches!(b.get(i + 2), Some(b' ' | b'\t'));
            if !folded {
                return Err(i);
            }
            i += 3;
            continue;
        }
        if is_forbidden_control(c) {
            return Err(i);
        }
        i += 1;
    }
    Ok(())
}

/// Text without any CR, LF or other control character (HT allowed).
fn check_text_line(s: &str) -> Result<(), usize> {
    match s
        .bytes()
        .position(|c| c == b'\r' || is_forbidden_control(c))
    {
        Some(i) => Err(i),
        None => Ok(()),
    }
}

fn is_forbidden_control(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

pub(crate) fn check_start_line(start: &OwnedStartLine) -> Result<(), BuildError> {
    match start {
        OwnedStartLine::Request {
            method,
            uri,
            version,
        } => {
            check_token(method).map_err(|_| BuildError::Method)?;
            if uri.is_empty() || uri.bytes().any(|c| c <= b' ' || c == 0x7f) {
                return Err(BuildError::RequestUri);
            }
            check_version(version)
        }
        OwnedStartLine::Response {
            version,
            status,
            reason,
        } => {
            check_version(version)?;
            if !(100..=699).contains(status) {
                return Err(BuildError::StatusCode(*status));
            }
            check_text_line(reason).map_err(|offset| BuildError::ReasonPhrase { offset })
        }
    }
}

fn check_version(v: &str) -> Result<(), BuildError> {
    let ok = v.len() > 4
        && v.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/")
        && v.bytes().skip(4).all(is_token_byte);
    if ok {
        Ok(())
    } else {
        Err(BuildError::Version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &OwnedMessage) -> String {
        String::from_utf8(m.to_bytes()).unwrap()
    }

    #[test]
    fn request_serialises_with_computed_length() {
        let mut m = OwnedMessage::request("OPTIONS", "sip:alice@127.0.0.1").unwrap();
        m.push_header(
            HeaderName::Via,
            "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1",
        )
        .unwrap();
        m.push_header_raw("i", "abc@127.0.0.1").unwrap();
        m.push_header(HeaderName::ContentLength, "999").unwrap();
        m.set_body(&b"hello"[..]);
        assert_eq!(
            text(&m),
            "OPTIONS sip:alice@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n\
             i: abc@127.0.0.1\r\n\
             Content-Length: 5\r\n\
             \r\nhello"
        );
        assert_eq!(m.header(HeaderName::ContentLength), Some("5"));
        assert_eq!(m.header(HeaderName::CallId), Some("abc@127.0.0.1"));
        assert_eq!(m.header_raw("I"), Some("abc@127.0.0.1"));
        assert_eq!(m.header_raw("call-id"), None);
        assert!(m.headers()[1].is_named("call-id"));
    }

    #[test]
    fn from_parts_keeps_first_length_position_and_drops_others() {
        let hs = vec![
            OwnedHeader::raw("l", "77").unwrap(),
            OwnedHeader::new(HeaderName::CSeq, "1 MESSAGE").unwrap(),
            OwnedHeader::raw("Content-Length", "3").unwrap(),
        ];
        let m = OwnedMessage::from_parts(
            OwnedStartLine::Request {
                method: "MESSAGE".into(),
                uri: "sip:bob@127.0.0.1".into(),
                version: "SIP/2.0".into(),
            },
            hs,
            b"hi!!".to_vec(),
        )
        .unwrap();
        assert_eq!(
            text(&m),
            "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\nl: 4\r\nCSeq: 1 MESSAGE\r\n\r\nhi!!"
        );
    }

    #[test]
    fn name_forms() {
        let mut m = OwnedMessage::response(200, "OK").unwrap();
        m.push_header_raw("call-id", "x").unwrap();
        m.push_header_raw("X-Custom", "y").unwrap();
        m.push_header(HeaderName::CSeq, "1 INFO").unwrap();
        let mut out = Vec::new();
        m.write_with(&mut out, NameForm::Compact);
        assert_eq!(
            out,
            b"SIP/2.0 200 OK\r\ni: x\r\nX-Custom: y\r\nCSeq: 1 INFO\r\nl: 0\r\n\r\n"
        );
        out.clear();
        m.write_with(&mut out, NameForm::Long);
        assert_eq!(
            out,
            &b"SIP/2.0 200 OK\r\nCall-ID: x\r\nX-Custom: y\r\nCSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n"[..]
        );
    }

    #[test]
    fn header_injection_is_refused() {
        let mut m = OwnedMessage::request("INVITE", "sip:bob@127.0.0.1").unwrap();
        for bad in [
            "x\r\nVia: evil",
            "x\nVia: evil",
            "x\rVia: evil",
            "x\r\n",
            "x\r\n\r\n",
            "x\0y",
            "x\x1by",
        ] {
            let e = m.push_header(HeaderName::Subject, bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    BuildError::HeaderValue {
                        name: HeaderName::Subject,
                        offset: 1
                    }
                ),
                "{bad:?}: {e:?}"
            );
            assert!(e.to_string().contains("header injection"));
        }
        for bad in ["X-A\r\nVia", "X A", "", "X:A", "X-\u{e9}"] {
            assert!(
                matches!(
                    m.push_header_raw(bad, "v"),
                    Err(BuildError::HeaderName { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            m.push_header(HeaderName::Other, "v"),
            Err(BuildError::OtherWithoutName)
        );
        // A fold is legal SIP and cannot end the header line.
        m.push_header(HeaderName::Subject, "first\r\n second\r\n\tthird")
            .unwrap();
        assert_eq!(m.headers().len(), 1);
    }

    #[test]
    fn start_line_is_validated() {
        assert_eq!(
            OwnedMessage::request("INV ITE", "sip:a@127.0.0.1"),
            Err(BuildError::Method)
        );
        assert_eq!(
            OwnedMessage::request("INVITE", "sip:a@127.0.0.1 SIP/2.0\r\nVia: x"),
            Err(BuildError::RequestUri)
        );
        assert_eq!(
            OwnedMessage::request("INVITE", ""),
            Err(BuildError::RequestUri)
        );
        assert_eq!(
            OwnedMessage::response(99, "x"),
            Err(BuildError::StatusCode(99))
        );
        assert_eq!(
            OwnedMessage::response(700, "x"),
            Err(BuildError::StatusCode(700))
        );
        assert_eq!(
            OwnedMessage::response(200, "OK\r\nVia: x"),
            Err(BuildError::ReasonPhrase { offset: 2 })
        );
        let mut r = OwnedMessage::response(200, "").unwrap();
        assert_eq!(r.to_bytes(), b"SIP/2.0 200 \r\nContent-Length: 0\r\n\r\n");
        r.set_body(vec![0xff, 0x00]);
        assert!(r.to_bytes().ends_with(b"Content-Length: 2\r\n\r\n\xff\x00"));
        let bad_version = OwnedStartLine::Response {
            version: "HTTP/1.1".into(),
            status: 200,
            reason: "OK".into(),
        };
        assert_eq!(
            OwnedMessage::from_parts(bad_version, vec![], vec![]),
            Err(BuildError::Version)
        );
    }

    #[test]
    fn set_header_replaces_first_and_removes_rest() {
        let mut m = OwnedMessage::request("REGISTER", "sip:127.0.0.1").unwrap();
        m.push_header_raw("v", "a").unwrap();
        m.push_header(HeaderName::CSeq, "1 REGISTER").unwrap();
        m.push_header(HeaderName::Via, "b").unwrap();
        m.set_header(HeaderName::Via, "c").unwrap();
        let names: Vec<_> = m.headers().iter().map(|h| h.raw_name()).collect();
        assert_eq!(names, ["v", "CSeq"]);
        assert_eq!(m.header(HeaderName::Via), Some("c"));
        assert_eq!(m.remove_headers(HeaderName::Via), 1);
        m.set_header(HeaderName::Expires, "600").unwrap();
        assert_eq!(m.headers().last().unwrap().value(), "600");
    }

    #[test]
    fn big_lengths_are_written_in_decimal() {
        let mut out = Vec::new();
        push_len(&mut out, 0);
        out.push(b' ');
        push_len(&mut out, 1234567);
        out.push(b' ');
        push_len(&mut out, usize::MAX);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("0 1234567 {}", usize::MAX)
        );
    }
}
