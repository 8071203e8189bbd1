//! Event (RFC 6665 §8.2.1): `event-type *( SEMI event-param )`, with the
//! `id` parameter.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_token, offset_in, trim_lws};
use super::params::{params_start, Mode, Params};
use super::{HeaderName, Message};

/// A parsed Event header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event package (with template), e.g. `"dialog"`, `"message-summary"`.
    pub package: &'a str,
    /// The parameters.
    pub params: Params<'a>,
}

impl<'a> Event<'a> {
    /// Parse an Event value.
    ///
    /// # Errors
    /// [`ParseErrorKind::Event`] with the offset inside `value`.
    pub fn parse(value: &'a str) -> Result<Event<'a>, ParseError> {
        let v = trim_lws(value);
        let base = offset_in(value, v);
        let err = |at| ParseError::new(ParseErrorKind::Event, base + at);
        let b = v.as_bytes();
        let n = b.iter().take_while(|&&c| is_token(c)).count();
        if n == 0 {
            return Err(err(0));
        }
        let ps = params_start(b, n).map_err(err)?;
        let params = Params::parse(&v[ps..], Mode::Header).map_err(|e| err(ps + e.offset))?;
        Ok(Event {
            package: &v[..n],
            params,
        })
    }

    /// The `id` parameter.
    #[must_use]
    pub fn id(&self) -> Option<&'a str> {
        self.params.value("id")
    }
}

impl<'a> Message<'a> {
    /// The Event header (long or compact `o`); `None` when absent or malformed.
    #[must_use]
    pub fn event(&self) -> Option<Event<'a>> {
        Event::parse(self.header(HeaderName::Event)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_with_id() {
        let e = Event::parse("dialog;id=7;call-id=abc").unwrap();
        assert_eq!((e.package, e.id()), ("dialog", Some("7")));
        assert_eq!(e.params.value("call-id"), Some("abc"));
        assert_eq!(Event::parse("message-summary").unwrap().id(), None);
        for bad in ["", ";id=1", "dialog;", "dia log"] {
            assert_eq!(
                Event::parse(bad).unwrap_err().kind,
                ParseErrorKind::Event,
                "{bad:?}"
            );
        }
    }
}
