//! Content-Type (RFC 3261 §20.15): `m-type SLASH m-subtype *(SEMI m-parameter)`.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_token, offset_in, skip_lws, trim_lws};
use super::params::{params_start, Mode, Params};
use super::{HeaderName, Message};

/// A parsed media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// Top-level type as written, e.g. `"application"`.
    pub media_type: &'a str,
    /// Subtype as written, e.g. `"sdp"`.
    pub subtype: &'a str,
    /// Parameters (`charset`, `boundary`, …).
    pub params: Params<'a>,
}

impl<'a> ContentType<'a> {
    /// Parse a Content-Type value.
    ///
    /// # Errors
    /// [`ParseErrorKind::ContentType`] with the offset inside `value`.
    pub fn parse(value: &'a str) -> Result<ContentType<'a>, ParseError> {
        let v = trim_lws(value);
        let base = offset_in(value, v);
        let err = |at| ParseError::new(ParseErrorKind::ContentType, base + at);
        let b = v.as_bytes();
        let t = b.iter().take_while(|&&c| is_token(c)).count();
        if t == 0 {
            return Err(err(0));
        }
        let slash = skip_lws(b, t);
        if b.get(slash) != Some(&b'/') {
            return Err(err(slash));
        }
        let s0 = skip_lws(b, slash + 1);
        let s1 = s0 + b[s0..].iter().take_while(|&&c| is_token(c)).count();
        if s1 == s0 {
            return Err(err(s0));
        }
        let ps = params_start(b, s1).map_err(err)?;
        let params = Params::parse(&v[ps..], Mode::Header).map_err(|e| err(ps + e.offset))?;
        Ok(ContentType {
            media_type: &v[..t],
            subtype: &v[s0..s1],
            params,
        })
    }

    /// Whether this is `ty/subtype` (ASCII case-insensitive).
    #[must_use]
    pub fn is(&self, ty: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(ty) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// The value of parameter `name` (quotes stripped).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.value(name)
    }
}

impl<'a> Message<'a> {
    /// The Content-Type; `None` when absent or malformed.
    #[must_use]
    pub fn content_type(&self) -> Option<ContentType<'a>> {
        ContentType::parse(self.header(HeaderName::ContentType)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let c = ContentType::parse("multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert!(c.is("Multipart", "MIXED"));
        assert_eq!(c.param("boundary"), Some("7a9cbec02ceef655"));
        let c = ContentType::parse("application / dialog-info+xml ; charset=\"utf-8\"").unwrap();
        assert_eq!(
            (c.media_type, c.subtype),
            ("application", "dialog-info+xml")
        );
        assert_eq!(c.param("charset"), Some("utf-8"));
        for bad in ["", "text", "text/", "/plain", "text/plain;", "text/plain x"] {
            assert_eq!(
                ContentType::parse(bad).unwrap_err().kind,
                ParseErrorKind::ContentType,
                "{bad:?}"
            );
        }
    }
}
