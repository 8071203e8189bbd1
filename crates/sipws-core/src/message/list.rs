//! Comma-separated header lists (RFC 3261 §7.3.1): the values of every
//! header of one name, split at top-level commas (not inside quotes or
//! `<...>`), in wire order.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{find_top_level, trim_lws};
use super::parser::{HeaderIter, Headers};
use super::HeaderName;

/// Iterator over list items of every header named `name`. Yields each item
/// trimmed, with its offset in the frame; an empty item or an unterminated
/// quoted string yields an error of `kind` and ends that header.
pub(crate) struct Items<'a, 'm> {
    headers: HeaderIter<'a, 'm>,
    name: HeaderName,
    kind: ParseErrorKind,
    frame: usize,
    rest: Option<&'a str>,
    /// A header value to read before `headers` (see [`Items::single`]).
    first: Option<&'a str>,
}

impl<'a, 'm> Items<'a, 'm> {
    pub(crate) fn new(
        headers: Headers<'a, 'm>,
        name: HeaderName,
        kind: ParseErrorKind,
        frame: &'a [u8],
    ) -> Self {
        Items {
            headers: headers.iter(),
            name,
            kind,
            frame: frame.as_ptr() as usize,
            rest: None,
            first: None,
        }
    }

    /// The items of one header value.
    pub(crate) fn single(value: &'a str, kind: ParseErrorKind, frame: &'a [u8]) -> Self {
        Items {
            headers: HeaderIter::empty(),
            name: HeaderName::Other,
            kind,
            frame: frame.as_ptr() as usize,
            rest: None,
            first: Some(value),
        }
    }

    /// Offset of `s` in the frame.
    pub(crate) fn offset(&self, s: &str) -> usize {
        (s.as_ptr() as usize).wrapping_sub(self.frame)
    }
}

impl<'a> Iterator for Items<'a, '_> {
    type Item = Result<&'a str, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (rest, fresh) = match self.rest.take() {
                Some(r) => (r, false),
                None => match self.first.take() {
                    Some(v) => (v, true),
                    None => (self.headers.next_named(self.name)?.value, true),
                },
            };
            let b = rest.as_bytes();
            let (item, tail) = match find_top_level(b, 0, b',') {
                Ok(Some(p)) => (&rest[..p], Some(&rest[p + 1..])),
                Ok(None) => (rest, None),
                Err(p) => {
                    let at = self.offset(rest) + p;
                    return Some(Err(ParseError::new(self.kind, at)));
                }
            };
            let item = trim_lws(item);
            if item.is_empty() {
                // An empty header value (no item at all) is skipped; an
                // empty element inside a list is an error.
                if fresh && tail.is_none() {
                    continue;
                }
                let at = self.offset(item);
                return Some(Err(ParseError::new(self.kind, at)));
            }
            self.rest = tail;
            return Some(Ok(item));
        }
    }
}
