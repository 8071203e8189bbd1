//! SIP and SIPS URIs (RFC 3261 §19.1, §25.1):
//! `sip:user:password@host:port;uri-parameters?headers`, with IPv6
//! references (`[::1]`) and %-escapes, plus an unescaping helper.

use std::borrow::Cow;

use super::error::{ParseError, ParseErrorKind};
use super::params::{is_uri_char, uri_run, Mode, Params};

/// A parsed SIP or SIPS URI, borrowed. Components stay %-escaped as
/// written; decode them with [`unescape`] / [`unescape_into`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    /// `"sip"` or `"sips"` as written (ASCII case-insensitive).
    pub scheme: &'a str,
    /// The user part, still escaped (may contain `;`, `?`, `/`, …).
    pub user: Option<&'a str>,
    /// The password, still escaped.
    pub password: Option<&'a str>,
    /// The host as written; an IPv6 reference keeps its brackets.
    pub host: &'a str,
    /// The port, if written.
    pub port: Option<u16>,
    /// The URI parameters (`;transport=ws;lr`).
    pub params: Params<'a>,
    /// The headers part after `?`, still escaped (`Route=%3Csip:x%3E`).
    pub headers: Option<&'a str>,
}

/// Whether `c` may appear unescaped in a user part (unreserved plus
/// user-unreserved `& = + $ , ; ? /`).
fn is_user_char(c: u8) -> bool {
    (is_uri_char(c) && !matches!(c, b'[' | b']' | b':')) || matches!(c, b'=' | b',' | b';' | b'?')
}

/// Whether `c` may appear unescaped in a password (`& = + $ ,` + unreserved).
fn is_password_char(c: u8) -> bool {
    (is_uri_char(c) && !matches!(c, b'[' | b']' | b':' | b'/')) || matches!(c, b'=' | b',')
}

/// Check every byte of `s` is `%HH` or satisfies `ok`; error position.
fn check(s: &[u8], ok: impl Fn(u8) -> bool) -> Result<(), usize> {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if s.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                i += 3;
                continue;
            }
            return Err(i);
        }
        if !ok(s[i]) {
            return Err(i);
        }
        i += 1;
    }
    Ok(())
}

/// Length of the host at the start of `b` (hostname, IPv4 or `[IPv6]`).
pub(crate) fn host_len(b: &[u8]) -> Result<usize, usize> {
    if b.first() == Some(&b'[') {
        let close = b.iter().position(|&c| c == b']').ok_or(b.len())?;
        let inner = &b[1..close];
        if inner.is_empty()
            || !inner
                .iter()
                .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            || !inner.contains(&b':')
        {
            return Err(1);
        }
        return Ok(close + 1);
    }
    let n = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
        .count();
    if n == 0 {
        return Err(0);
    }
    Ok(n)
}

/// Parse `:port` at `i` if present: returns `(port, index after it)`.
pub(crate) fn port_at(b: &[u8], i: usize) -> Result<(Option<u16>, usize), usize> {
    if b.get(i) != Some(&b':') {
        return Ok((None, i));
    }
    let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 5 {
        return Err(i + 1);
    }
    let port = b[i + 1..i + 1 + n]
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    let port = u16::try_from(port).map_err(|_| i + 1)?;
    Ok((Some(port), i + 1 + n))
}

impl<'a> Uri<'a> {
    /// Parse a SIP or SIPS URI (no surrounding `<>`, no LWS).
    ///
    /// # Errors
    /// [`ParseErrorKind::Uri`] with the offset inside `s`.
    pub fn parse(s: &'a str) -> Result<Uri<'a>, ParseError> {
        let err = |at| ParseError::new(ParseErrorKind::Uri, at);
        let b = s.as_bytes();
        let colon = b.iter().position(|&c| c == b':').ok_or(err(0))?;
        let scheme = &s[..colon];
        if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
            return Err(err(0));
        }
        let rest_start = colon + 1;
        let rest = &b[rest_start..];
        // The user part may hold `;` and `?`, never a raw `@`, and neither
        // may params or headers: the first `@` ends the userinfo.
        let (user, password, host_start) = match rest.iter().position(|&c| c == b'@') {
            Some(at) => {
                let userinfo = &s[rest_start..rest_start + at];
                let (user, password) = match userinfo.find(':') {
                    Some(p) => (&userinfo[..p], Some(&userinfo[p + 1..])),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(err(rest_start));
                }
                check(user.as_bytes(), is_user_char).map_err(|p| err(rest_start + p))?;
                if let Some(pw) = password {
                    check(pw.as_bytes(), is_password_char)
                        .map_err(|p| err(rest_start + user.len() + 1 + p))?;
                }
                (Some(user), password, rest_start + at + 1)
            }
            None => (None, None, rest_start),
        };
        let hl = host_len(&b[host_start..]).map_err(|p| err(host_start + p))?;
        let host = &s[host_start..host_start + hl];
        let (port, mut i) = port_at(b, host_start + hl).map_err(err)?;
        let params_start = i;
        while i < b.len() && b[i] == b';' {
            i += 1;
            i += uri_run(b, i, b"=").map_err(err)?;
        }
        let params = Params::parse(&s[params_start..i], Mode::Uri)
            .map_err(|e| err(params_start + e.offset))?;
        let headers = match b.get(i) {
            None => None,
            Some(b'?') => {
                let h = &s[i + 1..];
                let bad = check(h.as_bytes(), |c| {
                    is_uri_char(c) || matches!(c, b'?' | b'=' | b'&')
                });
                bad.map_err(|p| err(i + 1 + p))?;
                if h.is_empty()
                    || h.split('&')
                        .any(|kv| kv.split('=').next().is_none_or(str::is_empty))
                {
                    return Err(err(i + 1));
                }
                Some(h)
            }
            Some(_) => return Err(err(i)),
        };
        Ok(Uri {
            scheme,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// Whether the scheme is `sips`.
    #[must_use]
    pub fn is_sips(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("sips")
    }

    /// The host without IPv6 brackets (`::1` for `[::1]`).
    #[must_use]
    pub fn host_unbracketed(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }

    /// The `transport` URI parameter (`ws`, `wss`, `udp`, …).
    #[must_use]
    pub fn transport(&self) -> Option<&'a str> {
        self.params.value("transport")
    }

    /// Whether the `lr` parameter is present (loose routing).
    #[must_use]
    pub fn lr(&self) -> bool {
        self.params.contains("lr")
    }

    /// The `(name, value)` pairs of the headers part, still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.headers
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
    }
}

/// Decode `%HH` escapes once (never recursively: `%2541` gives `%41`).
/// Borrows when there is nothing to decode. A `%` not followed by two hex
/// digits is kept as is. The result may be any bytes (e.g. `%00`).
#[must_use]
pub fn unescape(s: &str) -> Cow<'_, [u8]> {
    if !s.as_bytes().contains(&b'%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = vec![0u8; s.len()];
    let n = unescape_into(s, &mut out).unwrap_or(0);
    out.truncate(n);
    Cow::Owned(out)
}

/// Decode `%HH` escapes of `s` once into `out`; returns the decoded length,
/// or `None` if `out` is too small (`s.len()` bytes always suffice).
/// Never allocates.
pub fn unescape_into(s: &str, out: &mut [u8]) -> Option<usize> {
    let b = s.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() {
        let byte = match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                i += 3;
                h << 4 | l
            }
            (c, _, _) => {
                i += 1;
                c
            }
        };
        *out.get_mut(n)? = byte;
        n += 1;
    }
    Some(n)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uri() {
        let u = Uri::parse(
            "sips:alice:secret@[2001:db8::1]:5061;transport=wss;lr?Subject=hi&Route=%3Csip:x%3E",
        )
        .unwrap();
        assert!(u.is_sips());
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, "[2001:db8::1]");
        assert_eq!(u.host_unbracketed(), "2001:db8::1");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.transport(), Some("wss"));
        assert!(u.lr());
        assert_eq!(u.headers, Some("Subject=hi&Route=%3Csip:x%3E"));
        assert_eq!(
            u.header_pairs().collect::<Vec<_>>(),
            vec![("Subject", "hi"), ("Route", "%3Csip:x%3E")]
        );
    }

    #[test]
    fn user_with_semicolon_and_escapes() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some("user;par=u%40example.net"));
        assert_eq!(u.host, "example.com");
        assert!(u.params.is_empty());
        assert_eq!(&*unescape(u.user.unwrap()), b"user;par=u@example.net");
        let u = Uri::parse("sip:sips%3Auser%40example.com@example.net").unwrap();
        assert_eq!(&*unescape(u.user.unwrap()), b"sips:user@example.com");
        let u = Uri::parse("SIP:127.0.0.1").unwrap();
        assert_eq!((u.user, u.host, u.port), (None, "127.0.0.1", None));
    }

    #[test]
    fn unescape_once() {
        assert_eq!(&*unescape("v%61lue%25%34%31"), b"value%41");
        assert_eq!(&*unescape("%00x%zz%4"), b"\0x%zz%4");
        assert!(matches!(unescape("plain"), Cow::Borrowed(_)));
        let mut buf = [0u8; 3];
        assert_eq!(unescape_into("%41%42%43", &mut buf), Some(3));
        assert_eq!(&buf, b"ABC");
        assert_eq!(unescape_into("abcd", &mut buf), None);
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "sip:",
            "tel:123",
            "sip:@host",
            "sip:a@",
            "sip:a b@host",
            "sip:host:",
            "sip:host:99999",
            "sip:host;;",
            "sip:host;lr x",
            "sip:host?",
            "sip:[zz]",
            "sip:us%zzer@host",
            "sip: host",
            "sip:host>",
        ] {
            assert_eq!(
                Uri::parse(bad).unwrap_err().kind,
                ParseErrorKind::Uri,
                "{bad:?}"
            );
        }
    }
}
