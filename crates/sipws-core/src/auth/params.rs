//! The auth-param list syntax shared by challenges and credentials
//! (RFC 3261 §25.1 `challenge` / `credentials`, RFC 7235 §2.1): a scheme,
//! then comma-separated `name=value` pairs whose value is a token or a
//! quoted-string. One header value may also carry several challenges
//! (`Digest realm="a", nonce="1", Digest realm="b", ...`): a token that is
//! not followed by `=` starts the next one.
//!
//! Also the quoting rules for what sipws writes (RFC 7616 §3.4).

use std::borrow::Cow;

/// One parameter: name, and its value as written (a quoted value without
/// its quotes, `\` escapes still inside — see [`unescape`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
}

/// One challenge (or credentials): a scheme and its parameters. A
/// `token68` (as in `Basic QWxh...=`) is kept as a parameter with an empty
/// name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawChallenge<'a> {
    pub(crate) scheme: &'a str,
    pub(crate) params: Vec<Param<'a>>,
}

impl<'a> RawChallenge<'a> {
    /// The first parameter called `name` (ASCII case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }
}

/// Where an auth header value stopped making sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
}

/// Linear whitespace, including the CRLF of a folded header line.
fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `token` characters (RFC 3261 §25.1).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Characters of an unquoted value: tokens, plus what real servers put in
/// unquoted nonces and `token68` (`/`, `=`, `:`, `@`...). Anything but
/// separators between parameters.
fn is_bare_value(b: u8) -> bool {
    b > b' ' && b != b',' && b != b'"' && b != 0x7f
}

struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn skip_lws(&mut self) {
        while self.i < self.b.len() && is_lws(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn skip_lws_and_commas(&mut self) {
        while self.i < self.b.len() && (is_lws(self.b[self.i]) || self.b[self.i] == b',') {
            self.i += 1;
        }
    }

    /// After a list element: whitespace, then a comma (and any empty
    /// elements) or the end.
    fn end_of_element(&mut self) -> Result<(), SyntaxError> {
        self.skip_lws();
        match self.peek() {
            None => Ok(()),
            Some(b',') => {
                self.skip_lws_and_commas();
                Ok(())
            }
            Some(_) => Err(SyntaxError { offset: self.i }),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.i;
        while self.i < self.b.len() && f(self.b[self.i]) {
            self.i += 1;
        }
        // Only ASCII bytes are accepted by every predicate used here,
        // so both ends are char boundaries.
        self.s.get(start..self.i).unwrap_or("")
    }

    /// A quoted-string starting at the opening quote; returns the content
    /// between the quotes, escapes kept.
    fn quoted(&mut self) -> Result<&'a str, SyntaxError> {
        let open = self.i;
        self.i += 1;
        let start = self.i;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'"' => {
                    let v = self
                        .s
                        .get(start..self.i)
                        .ok_or(SyntaxError { offset: start })?;
                    self.i += 1;
                    return Ok(v);
                }
                b'\\' => {
                    // quoted-pair: the next byte is taken literally, but
                    // never splits a UTF-8 sequence (only ASCII may follow).
                    match self.b.get(self.i + 1) {
                        Some(n) if n.is_ascii() => self.i += 2,
                        _ => return Err(SyntaxError { offset: self.i }),
                    }
                }
                _ => self.i += 1,
            }
        }
        Err(SyntaxError { offset: open })
    }
}

/// Parse a WWW-Authenticate / Proxy-Authenticate / Authorization value into
/// its challenges (credentials values yield exactly one). Lenient about
/// whitespace (folded lines included), empty list elements and unquoted
/// values; strict about unterminated quotes and junk between parameters.
pub(crate) fn parse_challenges(value: &str) -> Result<Vec<RawChallenge<'_>>, SyntaxError> {
    let mut c = Cursor {
        s: value,
        b: value.as_bytes(),
        i: 0,
    };
    let mut out: Vec<RawChallenge<'_>> = Vec::new();
    c.skip_lws_and_commas();
    while c.i < c.b.len() {
        let at = c.i;
        let name = c.take_while(is_token);
        if name.is_empty() {
            return Err(SyntaxError { offset: at });
        }
        let after_name = c.i;
        c.skip_lws();
        match c.peek() {
            Some(b'=') => {
                let current = out.last_mut().ok_or(SyntaxError { offset: at })?;
                c.i += 1;
                c.skip_lws();
                let v = match c.peek() {
                    Some(b'"') => c.quoted()?,
                    _ => c.take_while(is_bare_value),
                };
                current.params.push(Param { name, value: v });
                c.end_of_element()?;
            }
            None | Some(b',') => {
                // A scheme with no parameters.
                out.push(RawChallenge {
                    scheme: name,
                    params: Vec::new(),
                });
                c.skip_lws_and_commas();
            }
            Some(_) => {
                // `scheme SP ...`: a new challenge; junk glued to a token
                // (`Digest"x"`) is an error.
                if c.i == after_name {
                    return Err(SyntaxError { offset: c.i });
                }
                let mut current = RawChallenge {
                    scheme: name,
                    params: Vec::new(),
                };
                // Either parameters follow, or one token68.
                let save = c.i;
                let tok = c.take_while(is_token68);
                let core = tok.trim_end_matches('=');
                let mut probe = Cursor {
                    s: c.s,
                    b: c.b,
                    i: c.i,
                };
                probe.skip_lws();
                if !core.is_empty()
                    && !core.contains('=')
                    && matches!(probe.peek(), None | Some(b','))
                {
                    current.params.push(Param {
                        name: "",
                        value: tok,
                    });
                    c.end_of_element()?;
                } else {
                    c.i = save;
                }
                out.push(current);
            }
        }
    }
    Ok(out)
}

/// `token68` characters (RFC 7235 §2.1).
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// Remove quoted-pair escapes (`\"` → `"`, `\\` → `\`) and the CRLF of
/// folded lines (a fold is whitespace: the SP/HT after it stays); borrows
/// when there is nothing to remove.
pub(crate) fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['\\', '\r', '\n']) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some('\r' | '\n') | None => {}
                Some(next) => out.push(next),
            },
            '\r' | '\n' => {}
            _ => out.push(ch),
        }
    }
    Cow::Owned(out)
}

/// Append `value` as a quoted-string: `"` and `\` escaped, CR and LF
/// (which cannot appear in a header value) dropped.
pub(crate) fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' | '\n' => {}
            _ => out.push(ch),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs<'a>(c: &RawChallenge<'a>) -> Vec<(&'a str, &'a str)> {
        c.params.iter().map(|p| (p.name, p.value)).collect()
    }

    #[test]
    fn one_digest_challenge() {
        let v = r#"Digest realm="atlanta.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", qop="auth", algorithm=MD5, opaque="""#;
        let cs = parse_challenges(v).unwrap();
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].scheme, "Digest");
        assert_eq!(
            pairs(&cs[0]),
            vec![
                ("realm", "atlanta.com"),
                ("nonce", "ea9c8e88df84f1cec4341ae6cbe5a359"),
                ("qop", "auth"),
                ("algorithm", "MD5"),
                ("opaque", ""),
            ]
        );
    }

    #[test]
    fn odd_whitespace_folding_and_empty_elements() {
        let v = "Digest\t realm = \"r\" ,,\r\n nonce=\"n\\\"x\"  ,\tstale=TRUE ,";
        let cs = parse_challenges(v).unwrap();
        assert_eq!(cs.len(), 1);
        assert_eq!(
            pairs(&cs[0]),
            vec![("realm", "r"), ("nonce", "n\\\"x"), ("stale", "TRUE")]
        );
        assert_eq!(unescape(cs[0].get("NONCE").unwrap()), "n\"x");
    }

    #[test]
    fn several_challenges_in_one_value() {
        let v = r#"Basic realm="b", Digest realm="d1", nonce="1", algorithm=SHA-256, Newauth, Digest realm="d2",nonce=2"#;
        let cs = parse_challenges(v).unwrap();
        let schemes: Vec<_> = cs.iter().map(|c| c.scheme).collect();
        assert_eq!(schemes, vec!["Basic", "Digest", "Newauth", "Digest"]);
        assert_eq!(pairs(&cs[0]), vec![("realm", "b")]);
        assert_eq!(cs[1].get("algorithm"), Some("SHA-256"));
        assert!(cs[2].params.is_empty());
        assert_eq!(pairs(&cs[3]), vec![("realm", "d2"), ("nonce", "2")]);
    }

    #[test]
    fn token68_is_kept_as_unnamed_param() {
        let cs = parse_challenges("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert_eq!(pairs(&cs[0]), vec![("", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")]);
        let cs = parse_challenges("Negotiate abc, Digest realm=x").unwrap();
        assert_eq!(pairs(&cs[0]), vec![("", "abc")]);
        assert_eq!(pairs(&cs[1]), vec![("realm", "x")]);
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(
            parse_challenges(r#"Digest realm="open"#),
            Err(SyntaxError { offset: 13 })
        );
        assert!(parse_challenges(r#"realm="x""#).is_err());
        assert!(parse_challenges(r#"Digest realm="a" nonce="b""#).is_err());
        assert!(parse_challenges("Digest realm=\"a\\").is_err());
        assert!(parse_challenges("\"Digest\"").is_err());
        assert_eq!(parse_challenges("  ").unwrap(), vec![]);
    }

    #[test]
    fn quoting_escapes_and_drops_line_breaks() {
        let mut s = String::new();
        push_quoted(&mut s, "a\"b\\c\r\nd");
        assert_eq!(s, r#""a\"b\\cd""#);
        assert_eq!(unescape(&s[1..s.len() - 1]), "a\"b\\cd");
        assert_eq!(unescape("folded\r\n line"), "folded line");
    }
}
