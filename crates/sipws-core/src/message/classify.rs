//! Fast classification of a frame: start line, CSeq, Call-ID and
//! Content-Length only (the router's hot path, DESIGN.md §5).

use super::cseq::CSeq;
use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, parse_u64};
use super::limits::{Limits, MAX_HEADERS};
use super::parser::{parse_start_line, utf8};
use super::start_line::StartLine;
use super::HeaderName;

/// What [`classify`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary<'a> {
    /// The start line.
    pub start: StartLine<'a>,
    /// The first CSeq; `None` when absent or malformed (as
    /// [`Message::cseq`](super::Message::cseq)).
    pub cseq: Option<CSeq<'a>>,
    /// The first Call-ID, if any.
    pub call_id: Option<&'a str>,
    /// The Content-Length, if any.
    pub content_length: Option<usize>,
}

/// Classify a frame without indexing every header: parses the start line
/// and the CSeq, Call-ID and Content-Length headers (long or compact names),
/// skips the others after finding their line end, and does not look at the
/// body. Applies the same [`Limits`] as [`Message::parse`](super::Message::parse).
///
/// Accepts everything [`Message::parse`](super::Message::parse) accepts and
/// reads the same values from it; it is more lenient only in lines it skips
/// (a bare CR there goes unnoticed).
///
/// # Errors
/// Start line errors, line/limit errors, a malformed or conflicting
/// Content-Length, or a header section without its closing empty line.
pub fn classify<'a>(buf: &'a [u8], limits: &Limits) -> Result<Summary<'a>, ParseError> {
    let (start, mut pos) = parse_start_line(buf, limits)?;
    let max_headers = limits.max_headers.min(MAX_HEADERS);
    let max_line = limits.max_line_bytes;
    let mut summary = Summary {
        start,
        cseq: None,
        call_id: None,
        content_length: None,
    };
    let mut count = 0usize;
    let (mut seen_cseq, mut seen_call_id) = (false, false);
    loop {
        let first = match buf.get(pos) {
            Some(&c) => c,
            None => return Err(ParseError::new(ParseErrorKind::Incomplete, buf.len())),
        };
        match first {
            b'\r' => {
                if buf.get(pos + 1) == Some(&b'\n') {
                    return Ok(summary);
                }
                let kind = if pos + 1 >= buf.len() {
                    ParseErrorKind::Incomplete
                } else {
                    ParseErrorKind::NewLine
                };
                return Err(ParseError::new(kind, pos));
            }
            b' ' | b'\t' if count == 0 => {
                return Err(ParseError::new(ParseErrorKind::HeaderName, pos));
            }
            b' ' | b'\t' => {
                // Continuation of a header we skip.
                pos = lf_line_end(buf, pos, max_line)?.1;
                continue;
            }
            _ => {}
        }
        if count >= max_headers {
            return Err(ParseError::new(ParseErrorKind::TooManyHeaders, pos));
        }
        count += 1;
        let (mut cr, mut next) = lf_line_end(buf, pos, max_line)?;
        if let Some((name, name_len)) = wanted(&buf[pos..cr], first) {
            while matches!(buf.get(next), Some(b' ' | b'\t')) {
                (cr, next) = lf_line_end(buf, next, max_line)?;
            }
            let mut i = pos + name_len;
            while i < cr && matches!(buf[i], b' ' | b'\t') {
                i += 1;
            }
            if i >= cr || buf[i] != b':' {
                return Err(ParseError::new(ParseErrorKind::HeaderName, i));
            }
            let (mut vs, mut ve) = (i + 1, cr);
            while vs < ve && is_lws(buf[vs]) {
                vs += 1;
            }
            while ve > vs && is_lws(buf[ve - 1]) {
                ve -= 1;
            }
            let value = utf8(buf, vs, ve)?;
            match name {
                // Like `Message::cseq` / `call_id`: the first header counts,
                // and a malformed CSeq or empty Call-ID reads as absent
                // (`Message::validate` reports them).
                HeaderName::CSeq if !seen_cseq => {
                    seen_cseq = true;
                    summary.cseq = CSeq::parse(value).ok();
                }
                HeaderName::CallId if !seen_call_id => {
                    seen_call_id = true;
                    summary.call_id = Some(value).filter(|v| !v.is_empty());
                }
                HeaderName::ContentLength => {
                    let n = parse_u64(value)
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or(ParseError::new(ParseErrorKind::ContentLength, vs))?;
                    if summary.content_length.is_some_and(|prev| prev != n) {
                        return Err(ParseError::new(ParseErrorKind::ContentLength, vs));
                    }
                    summary.content_length = Some(n);
                }
                _ => {}
            }
        }
        pos = next;
    }
}

/// Like the parser's line end, but looks for LF only (one-byte memchr) and
/// checks the CR before it: a bare CR inside a skipped line is not
/// noticed (classification is lenient there; [`Message::parse`] is not).
///
/// [`Message::parse`]: super::Message::parse
#[inline]
fn lf_line_end(buf: &[u8], from: usize, max_line: usize) -> Result<(usize, usize), ParseError> {
    let window_end = buf
        .len()
        .min(from.saturating_add(max_line).saturating_add(2));
    let window = buf.get(from..window_end).unwrap_or(&[]);
    match memchr::memchr(b'\n', window) {
        Some(p) if p > 0 && window[p - 1] == b'\r' => {
            if p - 1 > max_line {
                return Err(ParseError::new(
                    ParseErrorKind::LineTooLong,
                    from.saturating_add(max_line),
                ));
            }
            Ok((from + p - 1, from + p + 1))
        }
        Some(p) => Err(ParseError::new(ParseErrorKind::NewLine, from + p)),
        None if window_end < buf.len() || window.len() > max_line => Err(ParseError::new(
            ParseErrorKind::LineTooLong,
            from.saturating_add(max_line),
        )),
        None => Err(ParseError::new(ParseErrorKind::Incomplete, buf.len())),
    }
}

/// Which of CSeq, Call-ID and Content-Length (long or compact) the line's
/// header name is, and the name's length; decided before any other work
/// on the line.
#[inline]
fn wanted(line: &[u8], first: u8) -> Option<(HeaderName, usize)> {
    if !matches!(first | 0x20, b'c' | b'i' | b'l') {
        return None;
    }
    let n = line.iter().take_while(|&&c| is_token(c)).count();
    let name = &line[..n];
    let which = match n {
        1 if first | 0x20 == b'i' => HeaderName::CallId,
        1 if first | 0x20 == b'l' => HeaderName::ContentLength,
        4 if name.eq_ignore_ascii_case(b"cseq") => HeaderName::CSeq,
        7 if name.eq_ignore_ascii_case(b"call-id") => HeaderName::CallId,
        14 if name.eq_ignore_ascii_case(b"content-length") => HeaderName::ContentLength,
        _ => return None,
    };
    Some((which, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_four_fields() {
        let buf = b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WSS x;branch=z9hG4bK1\r\n\
c: text/plain\r\nCall-ID: abc\r\nX-Long: a\r\n b\r\nCSeq: 7\r\n REGISTER\r\nl: 2\r\n\r\nhi";
        let s = classify(buf, &Limits::default()).unwrap();
        assert!(matches!(s.start, StartLine::Response { status: 401, .. }));
        assert_eq!(
            s.cseq,
            Some(CSeq {
                seq: 7,
                method: "REGISTER"
            })
        );
        assert_eq!(s.call_id, Some("abc"));
        assert_eq!(s.content_length, Some(2));
    }

    #[test]
    fn errors() {
        let l = Limits::default();
        assert_eq!(classify(b"", &l).unwrap_err().kind, ParseErrorKind::Empty);
        assert_eq!(
            classify(
                b"OPTIONS sip:a SIP/2.0\r\nCSeq: x\r\nCSeq: 2 OPTIONS\r\n\r\n",
                &l
            )
            .unwrap()
            .cseq,
            None
        );
        assert_eq!(
            classify(b"OPTIONS sip:a SIP/2.0\r\nl: x\r\n\r\n", &l).unwrap_err(),
            ParseError::new(ParseErrorKind::ContentLength, 26)
        );
        assert_eq!(
            classify(b"OPTIONS sip:a SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\n", &l)
                .unwrap_err()
                .kind,
            ParseErrorKind::ContentLength
        );
        assert_eq!(
            classify(b"OPTIONS sip:a SIP/2.0\r\nA: 1\r\n", &l)
                .unwrap_err()
                .kind,
            ParseErrorKind::Incomplete
        );
    }
}
