//! Lexical helpers shared by the parser and the typed accessors
//! (RFC 3261 §25.1 basic rules: token, LWS, quoted-string, separators).
//!
//! Everything here works on bytes of an already UTF-8-checked `&str`, only
//! ever splits at ASCII positions (so every slice is on a char boundary),
//! never allocates and never panics.

/// `token` characters (RFC 3261 §25.1): alphanum and `-.!%*_+`'~`.
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN_TABLE[usize::from(b)]
}

/// [`is_token`] as a 256-entry table, built at compile time.
static TOKEN_TABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = is_token_const(i as u8);
        i += 1;
    }
    t
};

const fn is_token_const(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~')
}

/// Index of the first `needle` in `haystack`: memchr, on x86-64 in its
/// SSE2 flavour (part of the base instruction set), which inlines into the
/// caller; the runtime-dispatched [`memchr::memchr`] pays a call and a
/// set-up that dominate on the short haystacks of a SIP message.
#[inline]
pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(one) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        return one.find(haystack);
    }
    memchr::memchr(needle, haystack)
}

/// Linear white space inside a header value: SP, HTAB and the CR LF of a
/// folded line (the parser has already checked each CR LF is followed by
/// SP/HTAB).
#[inline]
pub(crate) const fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether a non-empty string is all token characters.
pub(crate) fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// Skip LWS starting at `i`; returns the first non-LWS index (or `len`).
#[inline]
pub(crate) fn skip_lws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_lws(b[i]) {
        i += 1;
    }
    i
}

/// Trim LWS (incl. folding) from both ends.
pub(crate) fn trim_lws(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n')
}

/// Given `b[i] == b'"'`, return the index just past the closing quote,
/// honouring `\` quoted-pairs; `None` if the string is not terminated.
pub(crate) fn skip_quoted(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Find the first `sep` at top level (outside quoted strings and outside
/// `<...>`), starting at `from`. `Err(pos)` on an unterminated quote.
pub(crate) fn find_top_level(b: &[u8], from: usize, sep: u8) -> Result<Option<usize>, usize> {
    let mut i = from;
    let mut in_angle = false;
    while i < b.len() {
        let c = b[i];
        if c == b'"' && !in_angle {
            i = skip_quoted(b, i).ok_or(i)?;
            continue;
        }
        if c == b'<' {
            in_angle = true;
        } else if c == b'>' {
            in_angle = false;
        } else if c == sep && !in_angle {
            return Ok(Some(i));
        }
        i += 1;
    }
    Ok(None)
}

/// Byte offset of `inner` inside `outer` (both from the same buffer);
/// 0 if `inner` does not point into `outer`.
pub(crate) fn offset_in(outer: &str, inner: &str) -> usize {
    let o = outer.as_ptr() as usize;
    let p = inner.as_ptr() as usize;
    if p >= o && p <= o + outer.len() {
        p - o
    } else {
        0
    }
}

/// Strip one pair of surrounding double quotes, if present (escapes are
/// kept as written).
pub(crate) fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        s.get(1..s.len() - 1).unwrap_or(s)
    } else {
        s
    }
}

/// Parse a decimal number made of ASCII digits only (no sign, no spaces);
/// `None` on overflow, empty input or any other character.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    parse_u64_bytes(s.as_bytes())
}

/// [`parse_u64`] on bytes.
pub(crate) fn parse_u64_bytes(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// [`parse_u64`] narrowed to `u32`.
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_top_level() {
        let s = br#""a,\"b" <sip:x,y>, c"#;
        assert_eq!(skip_quoted(s, 0), Some(7));
        assert_eq!(find_top_level(s, 0, b','), Ok(Some(17)));
        assert_eq!(find_top_level(b"\"abc", 0, b','), Err(0));
        assert_eq!(skip_quoted(b"\"abc\\", 0), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u32("0009"), Some(9));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("99999999999999999999999"), None);
    }

    #[test]
    fn trims_and_unquotes() {
        assert_eq!(trim_lws(" \r\n a b\t"), "a b");
        assert_eq!(unquote("\"x\""), "x");
        assert_eq!(unquote("\""), "\"");
        assert!(is_token_str("RE%47IST%45R"));
        assert!(!is_token_str("a b"));
    }
}
