//! Authentication parameters (RFC 3261 §25.1 `challenge` / `credentials`,
//! RFC 7616): `scheme LWS auth-param *(COMMA auth-param)` as found in
//! WWW-Authenticate, Proxy-Authenticate, Authorization and
//! Proxy-Authorization; and the bare param list of Authentication-Info.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, skip_lws, skip_quoted, trim_lws, unquote};
use super::{HeaderName, Message};

/// A parsed challenge or credentials value. Borrowed; iterating re-reads
/// the (already validated) text, so nothing is stored or allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthParams<'a> {
    /// The auth scheme as written, e.g. `"Digest"` (empty for
    /// [`AuthParams::parse_list`]).
    pub scheme: &'a str,
    params: &'a str,
}

/// Read one `name = value` item at `i` (LWS allowed around `=`), followed
/// by LWS and a `,` or the end. Returns the item and the index after the
/// comma, or the offset of the error.
fn next_param(s: &str, i: usize) -> Result<Option<(&str, &str, usize)>, usize> {
    let b = s.as_bytes();
    let i = skip_lws(b, i);
    if i >= b.len() {
        return Ok(None);
    }
    let name_end = i + b[i..].iter().take_while(|&&c| is_token(c)).count();
    if name_end == i {
        return Err(i);
    }
    let j = skip_lws(b, name_end);
    if b.get(j) != Some(&b'=') {
        return Err(j);
    }
    let v = skip_lws(b, j + 1);
    let v_end = if b.get(v) == Some(&b'"') {
        skip_quoted(b, v).ok_or(v)?
    } else {
        // Token, leniently any run without separators that matter here
        // (some servers send e.g. `uri=sip:x` unquoted).
        v + b[v..]
            .iter()
            .take_while(|&&c| c != b',' && c != b'"' && !is_lws(c))
            .count()
    };
    if v_end == v {
        return Err(v);
    }
    let k = skip_lws(b, v_end);
    let next = match b.get(k) {
        None => k,
        Some(b',') => {
            let after = skip_lws(b, k + 1);
            if after >= b.len() {
                return Err(k);
            }
            k + 1
        }
        Some(_) => return Err(k),
    };
    Ok(Some((&s[i..name_end], unquote(&s[v..v_end]), next)))
}

fn validate(params: &str) -> Result<(), usize> {
    let mut i = 0;
    while let Some((_, _, next)) = next_param(params, i)? {
        i = next;
    }
    Ok(())
}

impl<'a> AuthParams<'a> {
    /// Parse `scheme LWS name=value, name="value", …`.
    ///
    /// # Errors
    /// [`ParseErrorKind::AuthParams`] with the offset inside `value`.
    pub fn parse(value: &'a str) -> Result<AuthParams<'a>, ParseError> {
        let v = trim_lws(value);
        let base = super::lex::offset_in(value, v);
        let b = v.as_bytes();
        let scheme_end = b.iter().take_while(|&&c| is_token(c)).count();
        let err = |at| ParseError::new(ParseErrorKind::AuthParams, base + at);
        if scheme_end == 0 {
            return Err(err(0));
        }
        if scheme_end < b.len() && !is_lws(b[scheme_end]) {
            return Err(err(scheme_end));
        }
        let params = &v[scheme_end..];
        validate(params).map_err(|at| err(scheme_end + at))?;
        Ok(AuthParams {
            scheme: &v[..scheme_end],
            params,
        })
    }

    /// Parse a bare `name=value, …` list without scheme (Authentication-Info,
    /// RFC 3261 §20.6); [`AuthParams::scheme`] is empty.
    ///
    /// # Errors
    /// [`ParseErrorKind::AuthParams`] with the offset inside `value`.
    pub fn parse_list(value: &'a str) -> Result<AuthParams<'a>, ParseError> {
        validate(value).map_err(|at| ParseError::new(ParseErrorKind::AuthParams, at))?;
        Ok(AuthParams {
            scheme: "",
            params: value,
        })
    }

    /// The value of the first parameter named `name` (ASCII case-insensitive);
    /// a quoted value is returned without its quotes, escapes as written.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every `(name, value)` in order (quoted values without quotes).
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        let params = self.params;
        let mut i = 0;
        core::iter::from_fn(move || {
            let (name, value, next) = next_param(params, i).ok()??;
            i = next;
            Some((name, value))
        })
    }

    /// Whether the scheme is `scheme` (ASCII case-insensitive).
    #[must_use]
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

impl<'a> Message<'a> {
    fn auth(&self, name: HeaderName) -> impl Iterator<Item = AuthParams<'a>> + '_ {
        self.headers_named(name)
            .filter_map(|v| AuthParams::parse(v).ok())
    }

    /// Every well-formed WWW-Authenticate challenge, in order.
    pub fn www_authenticate(&self) -> impl Iterator<Item = AuthParams<'a>> + '_ {
        self.auth(HeaderName::WwwAuthenticate)
    }

    /// Every well-formed Proxy-Authenticate challenge, in order.
    pub fn proxy_authenticate(&self) -> impl Iterator<Item = AuthParams<'a>> + '_ {
        self.auth(HeaderName::ProxyAuthenticate)
    }

    /// Every well-formed Authorization credentials value, in order.
    pub fn authorization(&self) -> impl Iterator<Item = AuthParams<'a>> + '_ {
        self.auth(HeaderName::Authorization)
    }

    /// Every well-formed Proxy-Authorization credentials value, in order.
    pub fn proxy_authorization(&self) -> impl Iterator<Item = AuthParams<'a>> + '_ {
        self.auth(HeaderName::ProxyAuthorization)
    }

    /// The Authentication-Info parameters, if present and well-formed.
    #[must_use]
    pub fn authentication_info(&self) -> Option<AuthParams<'a>> {
        AuthParams::parse_list(self.header(HeaderName::AuthenticationInfo)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_challenge() {
        let a = AuthParams::parse(
            "Digest realm=\"sip.example.com\", nonce = \"a\\\"b,c\",\r\n qop=\"auth,auth-int\",algorithm=MD5, stale=FALSE",
        )
        .unwrap();
        assert_eq!(a.scheme, "Digest");
        assert!(a.is_scheme("digest"));
        assert_eq!(a.get("REALM"), Some("sip.example.com"));
        assert_eq!(a.get("nonce"), Some("a\\\"b,c"));
        assert_eq!(a.get("qop"), Some("auth,auth-int"));
        assert_eq!(a.get("algorithm"), Some("MD5"));
        assert_eq!(a.get("stale"), Some("FALSE"));
        assert_eq!(a.get("opaque"), None);
        assert_eq!(a.iter().count(), 5);
    }

    #[test]
    fn unknown_scheme_and_lists() {
        let a = AuthParams::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![("opaque-data", "here")]);
        assert_eq!(AuthParams::parse("Digest").unwrap().iter().count(), 0);
        let l = AuthParams::parse_list("nextnonce=\"abc\", qop=auth").unwrap();
        assert_eq!(l.get("nextnonce"), Some("abc"));
        assert_eq!(l.scheme, "");
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "Digest realm",
            "Digest realm=",
            "Digest realm=\"x",
            "Digest realm=x,",
            "Digest realm=x,,nonce=y",
            "Digest realm=x nonce=y",
            "Digest=x",
            "\"Digest\" a=b",
        ] {
            let e = AuthParams::parse(bad).unwrap_err();
            assert_eq!(e.kind, ParseErrorKind::AuthParams, "{bad}");
        }
        assert_eq!(
            AuthParams::parse("Digest realm=x nonce=y")
                .unwrap_err()
                .offset,
            15
        );
    }
}
