//! Contact (RFC 3261 §20.10; RFC 5626 `+sip.instance` / `reg-id`):
//! `"*"` or a comma list of name-addr / addr-spec with contact params.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{parse_u32, trim_lws};
use super::name_addr::NameAddr;
use super::{HeaderName, Message};

/// One Contact value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *` (REGISTER: remove every binding).
    Wildcard,
    /// A contact address with its parameters.
    Address(NameAddr<'a>),
}

impl<'a> Contact<'a> {
    /// Parse one Contact list item.
    ///
    /// # Errors
    /// [`ParseErrorKind::Contact`] for an `expires`/`reg-id` out of range;
    /// otherwise the [`NameAddr::parse`] error kinds. Offsets inside `value`.
    pub fn parse(value: &'a str) -> Result<Contact<'a>, ParseError> {
        if trim_lws(value) == "*" {
            return Ok(Contact::Wildcard);
        }
        let addr = NameAddr::parse(value)?;
        for p in addr.params.iter() {
            let numeric =
                p.name.eq_ignore_ascii_case("expires") || p.name.eq_ignore_ascii_case("reg-id");
            if numeric && p.unquoted().and_then(parse_u32).is_none() {
                let at = super::lex::offset_in(value, p.name);
                return Err(ParseError::new(ParseErrorKind::Contact, at));
            }
        }
        Ok(Contact::Address(addr))
    }

    /// The address, `None` for the wildcard.
    #[must_use]
    pub fn address(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Wildcard => None,
            Contact::Address(a) => Some(a),
        }
    }
}

impl<'a> NameAddr<'a> {
    /// The `expires` contact parameter, in seconds.
    #[must_use]
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(parse_u32)
    }

    /// The `q` contact parameter as written (e.g. `"0.33"`).
    #[must_use]
    pub fn q(&self) -> Option<&'a str> {
        self.params.value("q")
    }

    /// The `+sip.instance` parameter without its quotes
    /// (e.g. `"<urn:uuid:…>"`, RFC 5626 §4.1).
    #[must_use]
    pub fn instance(&self) -> Option<&'a str> {
        self.params.value("+sip.instance")
    }

    /// The `reg-id` parameter (RFC 5626 §4.2).
    #[must_use]
    pub fn reg_id(&self) -> Option<u32> {
        self.params.value("reg-id").and_then(parse_u32)
    }
}

impl<'a> Message<'a> {
    /// Every Contact value (all Contact headers, comma lists split, commas
    /// inside quotes or `<>` respected), in order. Error offsets count from
    /// the start of the frame.
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'a>, ParseError>> + '_ {
        self.items(HeaderName::Contact, ParseErrorKind::Contact)
            .map(move |item| {
                let item = item?;
                Contact::parse(item).map_err(|e| e.shifted(self.offset_of(item)))
            })
    }

    /// The first Contact value; `None` when absent or malformed.
    #[must_use]
    pub fn contact(&self) -> Option<Contact<'a>> {
        self.contacts().next()?.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Limits;

    #[test]
    fn contact_list_with_quoted_commas() {
        let buf = b"REGISTER sip:x SIP/2.0\r\n\
Contact: \"Doe, John\" <sip:j@192.0.2.4;transport=ws>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1, sip:k@h;q=0.5\r\n\
m: *\r\n\
\r\n";
        let m = Message::parse(buf, &Limits::default()).unwrap();
        let all: Vec<_> = m.contacts().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 3);
        let a = all[0].address().unwrap();
        assert_eq!(a.display_name, Some("Doe, John"));
        assert_eq!(a.expires(), Some(3600));
        assert_eq!(
            a.instance(),
            Some("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>")
        );
        assert_eq!(a.reg_id(), Some(1));
        assert_eq!(a.sip_uri().unwrap().transport(), Some("ws"));
        assert_eq!(all[1].address().unwrap().q(), Some("0.5"));
        assert_eq!(all[2], Contact::Wildcard);
        assert_eq!(
            m.contact().unwrap().address().unwrap().uri,
            "sip:j@192.0.2.4;transport=ws"
        );
    }

    #[test]
    fn bad_contacts() {
        assert_eq!(
            Contact::parse("<sip:a@b>;expires=280297596632815")
                .unwrap_err()
                .kind,
            ParseErrorKind::Contact
        );
        assert_eq!(
            Contact::parse("<sip:a@b>;reg-id=x").unwrap_err().kind,
            ParseErrorKind::Contact
        );
        let buf = b"REGISTER sip:x SIP/2.0\r\nContact: <sip:a@b>,,<sip:c@d>\r\n\r\n";
        let m = Message::parse(buf, &Limits::default()).unwrap();
        let r: Vec<_> = m.contacts().collect();
        assert!(r[0].is_ok());
        assert_eq!(
            r[1].unwrap_err(),
            ParseError::new(ParseErrorKind::Contact, 43)
        );
    }
}
