//! Max-Forwards (RFC 3261 §20.22): `1*DIGIT`, 0..=255 (RFC 4475 §3.1.2.4).

use super::error::{ParseError, ParseErrorKind};
use super::lex::{parse_u64, trim_lws};
use super::{HeaderName, Message};

/// Parse a Max-Forwards value.
///
/// # Errors
/// [`ParseErrorKind::MaxForwards`] at offset 0 of `value` when it is not
/// an integer in 0..=255.
pub fn parse_max_forwards(value: &str) -> Result<u8, ParseError> {
    parse_u64(trim_lws(value))
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(ParseError::new(ParseErrorKind::MaxForwards, 0))
}

impl Message<'_> {
    /// Max-Forwards; `None` when absent or malformed.
    #[must_use]
    pub fn max_forwards(&self) -> Option<u8> {
        parse_max_forwards(self.header(HeaderName::MaxForwards)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range() {
        assert_eq!(parse_max_forwards("0068"), Ok(68));
        assert_eq!(parse_max_forwards("0"), Ok(0));
        assert!(parse_max_forwards("300").is_err());
        assert!(parse_max_forwards("-1").is_err());
        assert!(parse_max_forwards("").is_err());
    }
}
