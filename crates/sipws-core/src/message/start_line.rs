//! The start line (RFC 3261 §7.1 Request-Line, §7.2 Status-Line).

use super::error::{ParseError, ParseErrorKind};
use super::lex::{find_byte, is_token};

/// The first line of a SIP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        /// The method, e.g. `"INVITE"` (any token: extension methods kept).
        method: &'a str,
        /// The Request-URI as written.
        uri: &'a str,
        /// The version, e.g. `"SIP/2.0"`.
        version: &'a str,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        /// The version, e.g. `"SIP/2.0"`.
        version: &'a str,
        /// The status code, 100..=699.
        status: u16,
        /// The reason phrase (may be empty; UTF-8 allowed).
        reason: &'a str,
    },
}

impl<'a> StartLine<'a> {
    /// The version as written (`"SIP/2.0"`).
    #[must_use]
    pub fn version(&self) -> &'a str {
        match *self {
            StartLine::Request { version, .. } | StartLine::Response { version, .. } => version,
        }
    }

    /// Parse one start line, without its CR LF. `base` is the line's offset
    /// in the frame (added to error offsets).
    #[inline]
    pub(crate) fn parse(line: &'a str, base: usize) -> Result<StartLine<'a>, ParseError> {
        match Self::parse_common(line) {
            Some(start) => Ok(start),
            None => Self::parse_any(line, base),
        }
    }

    /// The common shapes, `SIP/2.0 NNN reason` and `METHOD uri SIP/2.0`,
    /// when well-formed; `None` for anything else (which
    /// [`StartLine::parse_any`] reads or rejects with the precise error).
    /// Accepts exactly what `parse_any` accepts on these shapes.
    #[inline]
    fn parse_common(line: &'a str) -> Option<StartLine<'a>> {
        let b = line.as_bytes();
        if let Some(rest) = b.strip_prefix(b"SIP/2.0 ") {
            // Three digits, then the end or SP + reason.
            let (&[d0, d1, d2], tail) = rest.split_first_chunk::<3>()?;
            if !(d0.is_ascii_digit() && d1.is_ascii_digit() && d2.is_ascii_digit()) {
                return None;
            }
            let status =
                u16::from(d0 - b'0') * 100 + u16::from(d1 - b'0') * 10 + u16::from(d2 - b'0');
            let reason = match tail.first() {
                None => "",
                Some(b' ') => line.get(12..)?,
                Some(_) => return None,
            };
            if !(100..=699).contains(&status)
                || reason.bytes().any(|c| REASON_CONTROL[usize::from(c)])
            {
                return None;
            }
            return Some(StartLine::Response {
                version: line.get(..7)?,
                status,
                reason,
            });
        }
        // METHOD SP uri SP SIP/2.0, the URI checked by `check_request_uri`
        // (which rejects SP, so the two SPs are the only ones).
        let head = b.strip_suffix(b" SIP/2.0")?;
        let sp1 = head.iter().position(|&c| !is_token(c))?;
        if sp1 == 0 || head[sp1] != b' ' {
            return None;
        }
        let uri_start = sp1 + 1;
        check_request_uri(head.get(uri_start..)?).ok()?;
        Some(StartLine::Request {
            method: line.get(..sp1)?,
            uri: line.get(uri_start..head.len())?,
            version: line.get(head.len() + 1..)?,
        })
    }

    /// [`StartLine::parse`] of any line, with the precise error.
    #[inline(never)]
    fn parse_any(line: &'a str, base: usize) -> Result<StartLine<'a>, ParseError> {
        let b = line.as_bytes();
        let err = |kind, at: usize| Err(ParseError::new(kind, base + at));
        if b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"SIP/") {
            // Status-Line.
            let sp = match find_byte(b' ', b) {
                Some(sp) => sp,
                None => return err(ParseErrorKind::StartLine, b.len()),
            };
            let version = &line[..sp];
            if !is_version(version.as_bytes()) {
                return err(ParseErrorKind::Version, 0);
            }
            let code_start = sp + 1;
            let mut code_end = code_start;
            while code_end < b.len() && b[code_end].is_ascii_digit() {
                code_end += 1;
            }
            if code_end - code_start != 3 || (code_end < b.len() && b[code_end] != b' ') {
                return err(ParseErrorKind::StatusCode, code_start);
            }
            let status = b[code_start..code_end]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
            if !(100..=699).contains(&status) {
                return err(ParseErrorKind::StatusCode, code_start);
            }
            // Lenient: "SIP/2.0 200" without SP + reason is read as an empty
            // reason phrase.
            let reason = line.get(code_end + 1..).unwrap_or("");
            if let Some(bad) = reason
                .bytes()
                .position(|c| (c < 0x20 && c != b'\t') || c == 0x7f)
            {
                return err(ParseErrorKind::ReasonPhrase, code_end + 1 + bad);
            }
            return Ok(StartLine::Response {
                version,
                status,
                reason,
            });
        }
        // Request-Line: exactly one SP between the three elements.
        let sp1 = match find_byte(b' ', b) {
            Some(sp) => sp,
            None => return err(ParseErrorKind::StartLine, b.len()),
        };
        let method = &line[..sp1];
        if method.is_empty() {
            return err(ParseErrorKind::StartLine, 0);
        }
        if let Some(bad) = method.bytes().position(|c| !is_token(c)) {
            return err(ParseErrorKind::Method, bad);
        }
        let uri_start = sp1 + 1;
        if b.get(uri_start) == Some(&b' ') {
            return err(ParseErrorKind::StartLine, uri_start);
        }
        let sp2 = match find_byte(b' ', &b[uri_start..]) {
            Some(p) => uri_start + p,
            None => return err(ParseErrorKind::StartLine, b.len()),
        };
        let uri = &line[uri_start..sp2];
        check_request_uri(uri.as_bytes())
            .map_err(|at| ParseError::new(ParseErrorKind::RequestUri, base + uri_start + at))?;
        let ver_start = sp2 + 1;
        let rest = &b[ver_start..];
        match find_byte(b' ', rest) {
            None => {}
            Some(0) => return err(ParseErrorKind::StartLine, ver_start),
            Some(p) => {
                // "SIP/2.0  " (trailing SP) vs "sip:a@b; lr SIP/2.0" (LWS in URI).
                if is_version(&rest[..p]) {
                    return err(ParseErrorKind::StartLine, ver_start + p);
                }
                return err(ParseErrorKind::RequestUri, ver_start);
            }
        }
        let version = &line[ver_start..];
        if !is_version(version.as_bytes()) {
            return err(ParseErrorKind::Version, ver_start);
        }
        Ok(StartLine::Request {
            method,
            uri,
            version,
        })
    }
}

/// `"SIP" "/" 1*DIGIT "." 1*DIGIT` ("SIP" case-insensitive).
pub(crate) fn is_version(v: &[u8]) -> bool {
    if v.len() < 7 || !v[..4].eq_ignore_ascii_case(b"SIP/") {
        return false;
    }
    let rest = &v[4..];
    let Some(dot) = rest.iter().position(|&c| c == b'.') else {
        return false;
    };
    let (major, minor) = (&rest[..dot], &rest[dot + 1..]);
    !major.is_empty()
        && !minor.is_empty()
        && major.iter().all(u8::is_ascii_digit)
        && minor.iter().all(u8::is_ascii_digit)
}

/// A Request-URI: `scheme ":" 1*visible` with no `<`, `>`, `"` or
/// whitespace. Returns the offending offset on error.
fn check_request_uri(u: &[u8]) -> Result<(), usize> {
    // The scheme: mostly `sip:` (letters in either case, then the colon).
    let sip = u
        .first_chunk::<4>()
        .is_some_and(|w| u32::from_le_bytes(*w) | 0x0020_2020 == u32::from_le_bytes(*b"sip:"));
    let mut i = 1;
    if sip {
        i = 3;
    } else {
        if u.first().is_none_or(|c| !c.is_ascii_alphabetic()) {
            return Err(0);
        }
        while i < u.len() && (u[i].is_ascii_alphanumeric() || matches!(u[i], b'+' | b'-' | b'.')) {
            i += 1;
        }
    }
    if u.get(i) != Some(&b':') || i + 1 >= u.len() {
        return Err(i);
    }
    // Eight bytes at a time while they are all fine, then byte by byte
    // from the first word that is not (or the tail).
    let rest = &u[i + 1..];
    let mut from = 0;
    for w in rest.chunks_exact(8) {
        let w = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
        if !uri_word_ok(w) {
            break;
        }
        from += 8;
    }
    match rest
        .get(from..)
        .unwrap_or(&[])
        .iter()
        .position(|&c| !URI_BYTE[usize::from(c)])
    {
        Some(p) => Err(i + 1 + from + p),
        None => Ok(()),
    }
}

/// Whether all eight bytes of the little-endian word `w` are
/// [`URI_BYTE`]s: visible ASCII (0x21..=0x7e) and none of `<`, `>`, `"`.
#[inline]
fn uri_word_ok(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Once no byte has its top bit, adding below 0x80 to each carries
    // into no other byte.
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    w & HIGHS == 0
        && (w + ONES * (0x80 - 0x21)) & HIGHS == HIGHS
        && (w + ONES) & HIGHS == 0
        // `<` (0x3c) and `>` (0x3e) differ in one bit only.
        && !has_zero((w ^ (ONES * 0x3c)) & (ONES * 0xfd))
        && !has_zero(w ^ (ONES * u64::from(b'"')))
}

/// The control bytes a reason phrase may not hold: CTLs but HTAB.
static REASON_CONTROL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c < 0x20 && c != 0x09) || c == 0x7f;
        c += 1;
    }
    t
};

/// The bytes a Request-URI may hold after its scheme: visible ASCII but
/// `<`, `>` and `"` (a table, one load per byte).
static URI_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c <= 0x7e {
        t[c] = !matches!(c as u8, b'<' | b'>' | b'"');
        c += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> ParseErrorKind {
        StartLine::parse(line, 0).unwrap_err().kind
    }

    #[test]
    fn request_and_response_lines() {
        assert_eq!(
            StartLine::parse("INVITE sip:a@b SIP/2.0", 0),
            Ok(StartLine::Request {
                method: "INVITE",
                uri: "sip:a@b",
                version: "SIP/2.0"
            })
        );
        assert_eq!(
            StartLine::parse("SIP/2.0 100 ", 0),
            Ok(StartLine::Response {
                version: "SIP/2.0",
                status: 100,
                reason: ""
            })
        );
        assert_eq!(
            StartLine::parse("SIP/2.0 180", 0),
            Ok(StartLine::Response {
                version: "SIP/2.0",
                status: 180,
                reason: ""
            })
        );
    }

    #[test]
    fn common_shapes_read_as_the_general_parser_reads_them() {
        for line in [
            "SIP/2.0 200 OK",
            "SIP/2.0 180",
            "SIP/2.0 100 ",
            "SIP/2.0 401 Unauthorized",
            "SIP/2.0 200 Ça va",
            "SIP/2.0 099 Low",
            "SIP/2.0 700 High",
            "SIP/2.0 2000 OK",
            "SIP/2.0 20 OK",
            "SIP/2.0 200 O\u{1}K",
            "SIP/2.0 200\tOK",
            "sip/2.0 200 OK",
            "INVITE sip:a@b SIP/2.0",
            "REGISTER sips:example.com;transport=ws SIP/2.0",
            "INV@TE sip:a@b SIP/2.0",
            "INVITE  sip:a@b SIP/2.0",
            "INVITE sip:a@b  SIP/2.0",
            "INVITE <sip:a@b> SIP/2.0",
            "INVITE sip:a@b; lr SIP/2.0",
            " sip:a@b SIP/2.0",
            "INVITE  SIP/2.0",
            "INVITE SIP/2.0",
            "INVITE sip: SIP/2.0",
            "X sip:x SIP/2.0",
        ] {
            let general = StartLine::parse_any(line, 0);
            if let Some(fast) = StartLine::parse_common(line) {
                assert_eq!(Ok(fast), general, "{line:?}");
            }
            assert_eq!(StartLine::parse(line, 0), general, "{line:?}");
        }
        assert!(StartLine::parse_common("SIP/2.0 200 OK").is_some());
        assert!(StartLine::parse_common("INVITE sip:a@b SIP/2.0").is_some());
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_with_the_general_parser(
            line in "(SIP/2\\.0 |sip/2\\.0 |INVITE |REGISTER |X@ | )?[0-9a-zA-Z:@;<> \t\u{1}.é]{0,24}( SIP/2\\.0|SIP/2\\.0| SIP/2\\.0 )?"
        ) {
            if let Some(fast) = StartLine::parse_common(&line) {
                proptest::prop_assert_eq!(Ok(fast), StartLine::parse_any(&line, 0));
            }
        }
    }

    #[test]
    fn uri_words_agree_with_the_byte_table() {
        // Every byte value in every position of a word of good bytes.
        for pos in 0..8 {
            for c in 0..=255u8 {
                let mut b = *b"sip:a@bc";
                b[pos] = c;
                assert_eq!(
                    uri_word_ok(u64::from_le_bytes(b)),
                    URI_BYTE[usize::from(c)],
                    "{c:#x} at {pos}"
                );
            }
        }
        assert_eq!(check_request_uri(b"sip:abcdefgh<ijklmnop"), Err(12));
        assert_eq!(check_request_uri(b"sip:abcdefghijklmnop qr"), Err(20));
        assert_eq!(check_request_uri(b"sip:abcdefghijklmnopq\x7f"), Err(21));
        assert_eq!(check_request_uri(b"sip:abcdefghijklmnopqr"), Ok(()));
        assert_eq!(check_request_uri(b"SiP:a"), Ok(()));
        assert_eq!(check_request_uri(b"sip:"), Err(3));
        assert_eq!(check_request_uri(b"sip\x1aa"), Err(3));
        assert_eq!(check_request_uri(b"sips:a"), Ok(()));
        assert_eq!(check_request_uri(b"s1p:a"), Ok(()));
        assert_eq!(check_request_uri(b"1ip:a"), Err(0));
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(kind("INVITE  sip:a@b SIP/2.0"), ParseErrorKind::StartLine);
        assert_eq!(kind("INVITE sip:a@b  SIP/2.0"), ParseErrorKind::StartLine);
        assert_eq!(kind("INVITE sip:a@b SIP/2.0  "), ParseErrorKind::StartLine);
        assert_eq!(
            kind("INVITE sip:a@b; lr SIP/2.0"),
            ParseErrorKind::RequestUri
        );
        assert_eq!(kind("INVITE <sip:a@b> SIP/2.0"), ParseErrorKind::RequestUri);
        assert_eq!(kind("INV@TE sip:a@b SIP/2.0"), ParseErrorKind::Method);
        assert_eq!(kind("INVITE sip:a@b SIP/2"), ParseErrorKind::Version);
        assert_eq!(kind("SIP/2.0 4294967301 Big"), ParseErrorKind::StatusCode);
        assert_eq!(kind("SIP/2.0 099 Low"), ParseErrorKind::StatusCode);
        assert_eq!(kind("SIP/2.0 20 OK"), ParseErrorKind::StatusCode);
        assert_eq!(kind("SIP/2.0 200 O\u{1}K"), ParseErrorKind::ReasonPhrase);
        assert_eq!(kind("INVITE"), ParseErrorKind::StartLine);
        assert_eq!(kind(""), ParseErrorKind::StartLine);
        assert_eq!(kind("SIP/x 200 OK"), ParseErrorKind::Version);
    }
}
