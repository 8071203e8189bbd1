//! Date (RFC 3261 §20.17): `rfc1123-date`, which SIP restricts to GMT:
//! `Sat, 13 Nov 2010 23:29:00 GMT`.

use super::error::{ParseError, ParseErrorKind};
use super::lex::trim_lws;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Check a Date value is `wkday "," SP 2DIGIT SP month SP 4DIGIT SP
/// 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"`.
///
/// # Errors
/// [`ParseErrorKind::Date`] with the offset of the first bad character in
/// `value` (e.g. at `EST`, RFC 4475 §3.1.2.12).
pub fn check_date(value: &str) -> Result<(), ParseError> {
    let v = trim_lws(value);
    let base = super::lex::offset_in(value, v);
    let b = v.as_bytes();
    let err = |at| Err(ParseError::new(ParseErrorKind::Date, base + at));
    // "Fri, 01 Jan 2010 16:00:00 GMT" is 29 bytes.
    let shape = b"???, dd ??? yyyy hh:mm:ss GMT";
    for (i, &s) in shape.iter().enumerate() {
        let Some(&c) = b.get(i) else {
            return err(i);
        };
        let ok = match s {
            b'd' | b'y' | b'h' | b'm' | b's' => c.is_ascii_digit(),
            b'?' => true,
            other => c == other,
        };
        if !ok {
            return err(i);
        }
    }
    if b.len() != shape.len() {
        return err(shape.len());
    }
    if !DAYS.iter().any(|d| d.as_bytes() == &b[..3]) {
        return err(0);
    }
    if !MONTHS.iter().any(|m| m.as_bytes() == &b[8..11]) {
        return err(8);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmt_only() {
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert_eq!(
            check_date("Fri, 01 Jan 2010 16:00:00 EST")
                .unwrap_err()
                .offset,
            26
        );
        assert!(check_date("Fri, 01 Foo 2010 16:00:00 GMT").is_err());
        assert!(check_date("Fry, 01 Jan 2010 16:00:00 GMT").is_err());
        assert!(check_date("Fri, 1 Jan 2010 16:00:00 GMT").is_err());
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 GMTX").is_err());
        assert!(check_date("").is_err());
    }
}
