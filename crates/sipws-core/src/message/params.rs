//! Parameter lists: header parameters (`*( SEMI generic-param )`, RFC 3261
//! §25.1, LWS allowed around `;` and `=`, quoted values) and URI parameters
//! (`*( ";" uri-parameter )`, §19.1.1, no LWS, %-escapes).

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, skip_lws, skip_quoted, unquote};

/// One parameter: `name` or `name=value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name as written.
    pub name: &'a str,
    /// The value as written (a quoted value keeps its quotes; see
    /// [`Param::unquoted`]); `None` for a flag parameter such as `lr`.
    pub value: Option<&'a str>,
}

impl<'a> Param<'a> {
    /// The value without surrounding double quotes (escapes as written).
    #[must_use]
    pub fn unquoted(&self) -> Option<&'a str> {
        self.value.map(unquote)
    }
}

/// Which grammar a [`Params`] list follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Header parameters: LWS around `;`/`=`, token/host/quoted values.
    Header,
    /// URI parameters: `paramchar`s, no LWS.
    Uri,
}

/// A borrowed, validated parameter list (`;a=1;b;c="x"`). Lookups re-read
/// the text; nothing is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params<'a> {
    raw: &'a str,
    mode: Mode,
}

/// URI `paramchar` / `hnv` characters that are not %-escapes: unreserved
/// plus `[]/:&+$` (params) and `?` (header values).
#[inline]
pub(crate) fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'['
                | b']'
                | b'/'
                | b':'
                | b'&'
                | b'+'
                | b'$'
        )
}

/// Length of a run of URI characters (and valid `%HH` escapes) at `i`;
/// `Err(pos)` on a broken escape.
pub(crate) fn uri_run(b: &[u8], i: usize, extra: &[u8]) -> Result<usize, usize> {
    let mut j = i;
    while j < b.len() {
        let c = b[j];
        if c == b'%' {
            if j + 2 < b.len() && b[j + 1].is_ascii_hexdigit() && b[j + 2].is_ascii_hexdigit() {
                j += 3;
                continue;
            }
            return Err(j);
        }
        if is_uri_char(c) || extra.contains(&c) {
            j += 1;
        } else {
            break;
        }
    }
    Ok(j - i)
}

/// Header-param value characters: token plus the host characters `[]:`.
#[inline]
fn is_value_char(b: u8) -> bool {
    is_token(b) || matches!(b, b'[' | b']' | b':')
}

/// Read one parameter starting at `i` (which points at `;` or at LWS before
/// it). `Ok(None)` at the end of the list, `Err(pos)` on bad syntax.
fn next(raw: &str, i: usize, mode: Mode) -> Result<Option<(Param<'_>, usize)>, usize> {
    let b = raw.as_bytes();
    let i = if mode == Mode::Header {
        skip_lws(b, i)
    } else {
        i
    };
    if i >= b.len() {
        return Ok(None);
    }
    if b[i] != b';' {
        return Err(i);
    }
    let name_start = if mode == Mode::Header {
        skip_lws(b, i + 1)
    } else {
        i + 1
    };
    let name_len = match mode {
        Mode::Header => b[name_start..].iter().take_while(|&&c| is_token(c)).count(),
        Mode::Uri => uri_run(b, name_start, b"")?,
    };
    if name_len == 0 {
        return Err(name_start);
    }
    let name_end = name_start + name_len;
    let name = &raw[name_start..name_end];
    let j = if mode == Mode::Header {
        skip_lws(b, name_end)
    } else {
        name_end
    };
    if b.get(j) != Some(&b'=') {
        return Ok(Some((Param { name, value: None }, name_end)));
    }
    let v = if mode == Mode::Header {
        skip_lws(b, j + 1)
    } else {
        j + 1
    };
    let v_end = match mode {
        Mode::Header if b.get(v) == Some(&b'"') => skip_quoted(b, v).ok_or(v)?,
        Mode::Header => v + b[v..].iter().take_while(|&&c| is_value_char(c)).count(),
        Mode::Uri => v + uri_run(b, v, b"")?,
    };
    if v_end == v {
        return Err(v);
    }
    Ok(Some((
        Param {
            name,
            value: Some(&raw[v..v_end]),
        },
        v_end,
    )))
}

impl<'a> Params<'a> {
    /// Validate `raw` (empty, or starting with `;`) as a list in `mode`.
    /// Errors carry [`ParseErrorKind::Param`] and the offset in `raw`.
    pub(crate) fn parse(raw: &'a str, mode: Mode) -> Result<Params<'a>, ParseError> {
        let mut i = 0;
        loop {
            match next(raw, i, mode) {
                Ok(Some((_, n))) => i = n,
                Ok(None) => return Ok(Params { raw, mode }),
                Err(at) => return Err(ParseError::new(ParseErrorKind::Param, at)),
            }
        }
    }

    /// The list as written (starts with `;` unless empty).
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Whether the list has no parameter.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Every parameter in order.
    pub fn iter(&self) -> impl Iterator<Item = Param<'a>> + '_ {
        let (raw, mode) = (self.raw, self.mode);
        let mut i = 0;
        core::iter::from_fn(move || {
            let (p, n) = next(raw, i, mode).ok()??;
            i = n;
            Some(p)
        })
    }

    /// The first parameter named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Param<'a>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The value of `name` (quotes stripped); `None` if absent or a flag.
    #[must_use]
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|p| p.unquoted())
    }

    /// Whether a parameter named `name` is present (with or without value).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Split `s` after a header element: returns the index where the parameter
/// list starts (at `;` or LWS before it) or an error position if something
/// other than LWS + `;` follows.
pub(crate) fn params_start(b: &[u8], i: usize) -> Result<usize, usize> {
    let j = skip_lws(b, i);
    if j >= b.len() || b[j] == b';' {
        Ok(i)
    } else if j > i && is_lws(b[i]) {
        Err(j)
    } else {
        Err(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_with_lws() {
        let p = Params::parse(
            " ;\r\n  tag = 98asjd8 ; lr;q=0.33;+sip.instance=\"<urn:uuid:1>\";received=[::1]",
            Mode::Header,
        )
        .unwrap();
        let all: Vec<_> = p.iter().collect();
        assert_eq!(all.len(), 5);
        assert_eq!(p.value("TAG"), Some("98asjd8"));
        assert!(p.contains("lr"));
        assert_eq!(p.get("lr").unwrap().value, None);
        assert_eq!(p.value("q"), Some("0.33"));
        assert_eq!(p.value("+sip.instance"), Some("<urn:uuid:1>"));
        assert_eq!(
            p.get("+sip.instance").unwrap().value,
            Some("\"<urn:uuid:1>\"")
        );
        assert_eq!(p.value("received"), Some("[::1]"));
        assert!(Params::parse("", Mode::Header).unwrap().is_empty());
    }

    #[test]
    fn bad_params() {
        for bad in [";;", ";", "; a=", ";a=\"x", "x", ";a b"] {
            assert_eq!(
                Params::parse(bad, Mode::Header).unwrap_err().kind,
                ParseErrorKind::Param,
                "{bad:?}"
            );
        }
        for bad in [";a b", ";%zz", "; a", ";a=", ";a=%4"] {
            assert!(Params::parse(bad, Mode::Uri).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uri_params() {
        let p =
            Params::parse(";%6C%72;n%61me=v%61lue%25%34%31;transport=ws;lr", Mode::Uri).unwrap();
        assert_eq!(p.iter().count(), 4);
        assert_eq!(p.value("n%61me"), Some("v%61lue%25%34%31"));
        assert_eq!(p.value("transport"), Some("ws"));
    }
}
