//! Expires (RFC 3261 §20.19) and Min-Expires (§20.23): delta-seconds,
//! at most 2^32-1.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{parse_u32, trim_lws};
use super::{HeaderName, Message};

/// Parse a delta-seconds value (Expires, Min-Expires).
///
/// # Errors
/// [`ParseErrorKind::Expires`] at offset 0 of `value` when it is not an
/// integer in 0..=2^32-1.
pub fn parse_delta_seconds(value: &str) -> Result<u32, ParseError> {
    parse_u32(trim_lws(value)).ok_or(ParseError::new(ParseErrorKind::Expires, 0))
}

impl Message<'_> {
    /// Expires, in seconds; `None` when absent or malformed.
    #[must_use]
    pub fn expires(&self) -> Option<u32> {
        parse_delta_seconds(self.header(HeaderName::Expires)?).ok()
    }

    /// Min-Expires, in seconds; `None` when absent or malformed.
    #[must_use]
    pub fn min_expires(&self) -> Option<u32> {
        parse_delta_seconds(self.header(HeaderName::MinExpires)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range() {
        assert_eq!(parse_delta_seconds("3600"), Ok(3600));
        assert_eq!(parse_delta_seconds("4294967295"), Ok(u32::MAX));
        assert!(parse_delta_seconds("4294967296").is_err());
        assert!(parse_delta_seconds("1e3").is_err());
    }
}
