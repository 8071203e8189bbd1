//! Parse errors: a small `Copy` kind plus the byte offset where it was found.

use core::fmt;

use super::HeaderName;

/// Why a message (or a header value) could not be parsed, and where.
///
/// `offset` counts bytes from the start of the frame given to
/// [`Message::parse`](super::Message::parse) (or, for the `parse` functions
/// of the typed headers, from the start of the header value they were given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// Byte offset of the offending input.
    pub offset: usize,
}

impl ParseError {
    /// A new error of `kind` at `offset`.
    #[must_use]
    pub const fn new(kind: ParseErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The same error with `base` added to its offset (used to turn an
    /// offset inside a header value into an offset inside the frame).
    #[must_use]
    pub const fn shifted(self, base: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

/// The kinds of [`ParseError`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// The frame is empty.
    Empty,
    /// The frame is larger than [`Limits::max_message_bytes`](super::Limits).
    TooLarge,
    /// A line is longer than [`Limits::max_line_bytes`](super::Limits).
    LineTooLong,
    /// More headers than [`Limits::max_headers`](super::Limits).
    TooManyHeaders,
    /// The header section does not end with an empty line.
    Incomplete,
    /// Malformed start line (e.g. extra or missing spaces).
    StartLine,
    /// The request method is not a token.
    Method,
    /// Malformed Request-URI (LWS inside, `<...>`, no scheme, headers in a
    /// SIP Request-URI, …).
    RequestUri,
    /// Malformed or unsupported `SIP/x.y` version.
    Version,
    /// Status code not made of exactly three digits, or outside 100..=699.
    StatusCode,
    /// Reason phrase contains a control character.
    ReasonPhrase,
    /// Header name missing, not a token, or no `:` after it.
    HeaderName,
    /// A line does not end with CR LF (bare CR or bare LF).
    NewLine,
    /// The start line or the header section is not valid UTF-8.
    Utf8,
    /// Content-Length is not a non-negative integer, or two differ.
    ContentLength,
    /// Content-Length says more bytes than the frame holds.
    BodyLength,
    /// A header that may appear once appears more than once.
    Duplicate(HeaderName),
    /// Malformed CSeq (`1*DIGIT LWS Method`, number at most 2^32-1).
    CSeq,
    /// The CSeq method differs from the request method.
    CSeqMethod,
    /// Malformed Via.
    Via,
    /// Malformed name-addr / addr-spec (From, To, Route, Record-Route, …).
    NameAddr,
    /// Malformed Contact.
    Contact,
    /// Malformed SIP/SIPS URI.
    Uri,
    /// Malformed header or URI parameter list (e.g. empty parameter).
    Param,
    /// Max-Forwards not an integer in 0..=255.
    MaxForwards,
    /// Expires (or Min-Expires) not an integer in 0..=2^32-1.
    Expires,
    /// Date not an RFC 1123 date in GMT.
    Date,
    /// Malformed Content-Type.
    ContentType,
    /// Malformed WWW-/Proxy-Authenticate or (Proxy-)Authorization.
    AuthParams,
    /// Malformed Event.
    Event,
    /// Malformed token list (Allow, Supported, Require, …).
    TokenList,
}

impl ParseErrorKind {
    /// A short human description.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::Empty => "empty message",
            Self::TooLarge => "message larger than the configured limit",
            Self::LineTooLong => "line longer than the configured limit",
            Self::TooManyHeaders => "more headers than the configured limit",
            Self::Incomplete => "header section does not end with an empty line",
            Self::StartLine => "malformed start line",
            Self::Method => "malformed request method",
            Self::RequestUri => "malformed Request-URI",
            Self::Version => "malformed or unsupported SIP version",
            Self::StatusCode => "malformed status code",
            Self::ReasonPhrase => "malformed reason phrase",
            Self::HeaderName => "malformed header name",
            Self::NewLine => "line not terminated by CR LF",
            Self::Utf8 => "invalid UTF-8 in start line or headers",
            Self::ContentLength => "malformed or conflicting Content-Length",
            Self::BodyLength => "Content-Length larger than the body",
            Self::Duplicate(_) => "header appears more than once",
            Self::CSeq => "malformed CSeq",
            Self::CSeqMethod => "CSeq method differs from the request method",
            Self::Via => "malformed Via",
            Self::NameAddr => "malformed name-addr",
            Self::Contact => "malformed Contact",
            Self::Uri => "malformed SIP URI",
            Self::Param => "malformed parameter",
            Self::MaxForwards => "malformed Max-Forwards",
            Self::Expires => "malformed Expires",
            Self::Date => "malformed Date",
            Self::ContentType => "malformed Content-Type",
            Self::AuthParams => "malformed authentication parameters",
            Self::Event => "malformed Event",
            Self::TokenList => "malformed token list",
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate(name) => write!(f, "{name} appears more than once"),
            other => f.write_str(other.description()),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_mentions_offset_and_header() {
        let e = ParseError::new(ParseErrorKind::Duplicate(HeaderName::CallId), 7);
        assert_eq!(e.to_string(), "Call-ID appears more than once at byte 7");
        assert_eq!(e.shifted(3).offset, 10);
        assert_eq!(
            ParseError::new(ParseErrorKind::Via, 1).to_string(),
            "malformed Via at byte 1"
        );
    }
}
