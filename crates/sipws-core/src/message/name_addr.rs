//! `name-addr` / `addr-spec` with header parameters (RFC 3261 §20.10,
//! §20.20, §20.39, §25.1): the shape of From, To, Contact, Route,
//! Record-Route, Path, Refer-To, ….

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, offset_in, skip_lws, skip_quoted, trim_lws};
use super::list::Items;
use super::params::{params_start, Mode, Params};
use super::uri::Uri;
use super::{HeaderName, Message};

/// One `name-addr` (`"Alice" <sip:a@b>;tag=x`) or `addr-spec`
/// (`sip:a@b;tag=x`) with its header parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name: inside the quotes for a quoted one (escapes as
    /// written), else the tokens as written; `None` when absent.
    pub display_name: Option<&'a str>,
    /// Whether the display name was a quoted string.
    pub quoted: bool,
    /// The URI as written (any scheme; see [`NameAddr::sip_uri`]).
    pub uri: &'a str,
    /// Whether the URI was enclosed in `<>`.
    pub angle: bool,
    /// The header parameters after the URI (`;tag=…`, `;expires=…`).
    pub params: Params<'a>,
}

/// Check `uri` is `scheme ":" something` (and a valid SIP/SIPS URI when
/// the scheme says so). Returns the error (offset in `uri`).
pub(crate) fn check_uri(uri: &str) -> Result<(), ParseError> {
    let b = uri.as_bytes();
    let bad = |at| Err(ParseError::new(ParseErrorKind::Uri, at));
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return bad(0);
    }
    let scheme_len = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        .count();
    if b.get(scheme_len) != Some(&b':') || scheme_len + 1 >= b.len() {
        return bad(scheme_len);
    }
    let scheme = &uri[..scheme_len];
    if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        return Uri::parse(uri).map(|_| ());
    }
    match b
        .iter()
        .position(|&c| !(0x21..=0x7e).contains(&c) || matches!(c, b'<' | b'>' | b'"'))
    {
        Some(p) => bad(p),
        None => Ok(()),
    }
}

impl<'a> NameAddr<'a> {
    /// Parse one `name-addr` or `addr-spec` followed by header params.
    ///
    /// Liberal where RFC 4475 §3.1.1.6 asks (no LWS needed between a token
    /// display name and `<`); strict otherwise: an unquoted display name
    /// must be tokens, no LWS just inside `<` `>`, an `addr-spec` may not
    /// contain `?` (such a URI must be in `<>`, RFC 3261 §20).
    ///
    /// # Errors
    /// [`ParseErrorKind::NameAddr`] (or [`ParseErrorKind::Uri`] for a bad
    /// SIP URI, [`ParseErrorKind::Param`] for bad params) with the offset
    /// inside `value`.
    pub fn parse(value: &'a str) -> Result<NameAddr<'a>, ParseError> {
        let v = trim_lws(value);
        let base = offset_in(value, v);
        let b = v.as_bytes();
        let err = |at| ParseError::new(ParseErrorKind::NameAddr, base + at);
        if b.is_empty() {
            return Err(err(0));
        }
        // Display name, and where `<` is (None: addr-spec form).
        let (display_name, quoted, lt) = if b[0] == b'"' {
            let end = skip_quoted(b, 0).ok_or(err(0))?;
            let j = skip_lws(b, end);
            if b.get(j) != Some(&b'<') {
                return Err(err(j));
            }
            (Some(&v[1..end - 1]), true, Some(j))
        } else {
            let i = b.iter().take_while(|&&c| is_token(c) || is_lws(c)).count();
            match b.get(i) {
                Some(b'<') => {
                    let name = trim_lws(&v[..i]);
                    ((!name.is_empty()).then_some(name), false, Some(i))
                }
                Some(b':') => (None, false, None),
                _ => return Err(err(i)),
            }
        };
        let (uri, angle, rest_at) = match lt {
            Some(lt) => {
                let close = b[lt..].iter().position(|&c| c == b'>').ok_or(err(lt))? + lt;
                let uri = &v[lt + 1..close];
                let ub = uri.as_bytes();
                if ub.is_empty() || is_lws(ub[0]) {
                    return Err(err(lt + 1));
                }
                if is_lws(ub[ub.len() - 1]) {
                    return Err(err(close - 1));
                }
                (uri, true, close + 1)
            }
            None => {
                let end = b
                    .iter()
                    .position(|&c| c == b';' || is_lws(c))
                    .unwrap_or(b.len());
                let uri = &v[..end];
                if let Some(q) = uri.find('?') {
                    return Err(err(q));
                }
                (uri, false, end)
            }
        };
        let uri_at = offset_in(v, uri);
        check_uri(uri).map_err(|e| e.shifted(base + uri_at))?;
        let ps = params_start(b, rest_at).map_err(err)?;
        let params = Params::parse(&v[ps..], Mode::Header).map_err(|e| e.shifted(base + ps))?;
        Ok(NameAddr {
            display_name,
            quoted,
            uri,
            angle,
            params,
        })
    }

    /// The URI parsed as SIP/SIPS; `None` for other schemes or a bad URI.
    #[must_use]
    pub fn sip_uri(&self) -> Option<Uri<'a>> {
        Uri::parse(self.uri).ok()
    }

    /// The `tag` parameter.
    #[must_use]
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag")
    }

    /// The value of header parameter `name` (quotes stripped).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.value(name)
    }
}

impl<'a> Message<'a> {
    /// Offset of `s` (a slice of this message) in the frame.
    pub(crate) fn offset_of(&self, s: &str) -> usize {
        (s.as_ptr() as usize).wrapping_sub(self.as_bytes().as_ptr() as usize)
    }

    pub(crate) fn items(&self, name: HeaderName, kind: ParseErrorKind) -> Items<'a, '_> {
        Items::new(self.headers(), name, kind, self.as_bytes())
    }

    fn name_addr(&self, name: HeaderName) -> Option<NameAddr<'a>> {
        NameAddr::parse(self.header(name)?).ok()
    }

    fn name_addrs(
        &self,
        name: HeaderName,
    ) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.items(name, ParseErrorKind::NameAddr).map(move |item| {
            let item = item?;
            NameAddr::parse(item).map_err(|e| e.shifted(self.offset_of(item)))
        })
    }

    /// The From header; `None` when absent or malformed.
    #[must_use]
    pub fn from(&self) -> Option<NameAddr<'a>> {
        self.name_addr(HeaderName::From)
    }

    /// The To header; `None` when absent or malformed.
    #[must_use]
    pub fn to(&self) -> Option<NameAddr<'a>> {
        self.name_addr(HeaderName::To)
    }

    /// Every Route entry (all Route headers, comma lists split), in order.
    /// Error offsets count from the start of the frame.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.name_addrs(HeaderName::Route)
    }

    /// Every Record-Route entry, in order.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.name_addrs(HeaderName::RecordRoute)
    }

    /// Every Path entry (RFC 3327), in order.
    pub fn paths(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.name_addrs(HeaderName::Path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddr::parse(
            "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .unwrap();
        assert_eq!(n.display_name, Some("J Rosenberg \\\\\\\""));
        assert!(n.quoted && n.angle);
        assert_eq!(n.uri, "sip:jdrosen@example.com");
        assert_eq!(n.tag(), Some("98asjd8"));
        let n =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!((n.display_name, n.angle), (None, false));
        assert_eq!(n.uri, "sip:vivekg@chair-dnrc.example.com");
        assert_eq!(n.tag(), Some("1918181833n"));
        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display_name, Some("caller"));
        let n = NameAddr::parse("Joe  Smith <sip:j@x>").unwrap();
        assert_eq!(n.display_name, Some("Joe  Smith"));
        assert_eq!(n.sip_uri().unwrap().host, "x");
        let n = NameAddr::parse("<http://www.example.com>;tag=3234233").unwrap();
        assert_eq!(n.uri, "http://www.example.com");
        assert!(n.sip_uri().is_none());
        let n = NameAddr::parse("isbn:2983792873").unwrap();
        assert_eq!(n.uri, "isbn:2983792873");
        let n = NameAddr::parse("<sip:user@example.com;unknownparam>").unwrap();
        assert!(n.params.is_empty());
        assert!(n.sip_uri().unwrap().params.contains("unknownparam"));
        let n = NameAddr::parse("sip:user@example.com;unknownparam").unwrap();
        assert!(n.params.contains("unknownparam"));
    }

    #[test]
    fn malformed() {
        for (bad, kind) in [
            (
                "\"Mr. J. User <sip:j.user@example.com>",
                ParseErrorKind::NameAddr,
            ),
            (
                "\"Watson, Thomas\" < sip:t.watson@example.org >",
                ParseErrorKind::NameAddr,
            ),
            (
                "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
                ParseErrorKind::NameAddr,
            ),
            (
                "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                ParseErrorKind::NameAddr,
            ),
            ("\"Joe\" <sip:joe@example.org>;;;;", ParseErrorKind::Param),
            ("<sip:a@b", ParseErrorKind::NameAddr),
            ("<sip:a@b> x", ParseErrorKind::NameAddr),
            ("<sip:a b>", ParseErrorKind::Uri),
            ("<>", ParseErrorKind::NameAddr),
            ("", ParseErrorKind::NameAddr),
            ("Bob", ParseErrorKind::NameAddr),
        ] {
            assert_eq!(NameAddr::parse(bad).unwrap_err().kind, kind, "{bad:?}");
        }
    }
}
