//! CSeq (RFC 3261 §20.16): `1*DIGIT LWS Method`.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, parse_u32, trim_lws};
use super::{HeaderName, Message};

/// A parsed CSeq header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (at most 2^32-1).
    pub seq: u32,
    /// The method, e.g. `"INVITE"`.
    pub method: &'a str,
}

impl<'a> CSeq<'a> {
    /// Parse a CSeq value (LWS, incl. folding, allowed around the parts).
    ///
    /// # Errors
    /// [`ParseErrorKind::CSeq`] with the offset inside `value`.
    pub fn parse(value: &'a str) -> Result<CSeq<'a>, ParseError> {
        let v = trim_lws(value);
        let base = super::lex::offset_in(value, v);
        let b = v.as_bytes();
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let err = |at| ParseError::new(ParseErrorKind::CSeq, base + at);
        let seq = parse_u32(&v[..digits]).ok_or(err(0))?;
        let ws = b[digits..].iter().take_while(|&&c| is_lws(c)).count();
        if ws == 0 {
            return Err(err(digits));
        }
        let method = &v[digits + ws..];
        if let Some(bad) = method.bytes().position(|c| !is_token(c)) {
            return Err(err(digits + ws + bad));
        }
        if method.is_empty() {
            return Err(err(digits + ws));
        }
        Ok(CSeq { seq, method })
    }
}

impl<'a> Message<'a> {
    /// The CSeq (first one); `None` when absent or malformed.
    #[must_use]
    pub fn cseq(&self) -> Option<CSeq<'a>> {
        CSeq::parse(self.header(HeaderName::CSeq)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_lws_and_rejects_out_of_range() {
        assert_eq!(
            CSeq::parse("0009\r\n  INVITE"),
            Ok(CSeq {
                seq: 9,
                method: "INVITE"
            })
        );
        assert_eq!(CSeq::parse("4294967295 ACK").unwrap().seq, u32::MAX);
        for bad in [
            "36893488147419103232 REGISTER",
            "1",
            "INVITE",
            "1INVITE",
            "1 IN VITE",
            "-1 ACK",
            "",
        ] {
            assert_eq!(
                CSeq::parse(bad).unwrap_err().kind,
                ParseErrorKind::CSeq,
                "{bad}"
            );
        }
    }
}
