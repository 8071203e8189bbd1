//! Full validation of a parsed message: every header sipws knows is read
//! with its typed parser, singleton headers are checked for repetition, and
//! the start line is checked against the CSeq (RFC 3261 §8.1.1, §8.2,
//! §16.3; RFC 4475 §3.1.2).
//!
//! [`Message::parse`] only checks structure, so that the hot path stays
//! cheap and an element can still answer a malformed request (400, 505);
//! call [`Message::validate`] where strictness matters.

use super::auth_params::AuthParams;
use super::contact::Contact;
use super::content_type::ContentType;
use super::cseq::CSeq;
use super::date::check_date;
use super::error::{ParseError, ParseErrorKind};
use super::event::Event;
use super::expires::parse_delta_seconds;
use super::list::Items;
use super::max_forwards::parse_max_forwards;
use super::name_addr::{check_uri, NameAddr};
use super::parser::Header;
use super::uri::Uri;
use super::via::Via;
use super::{HeaderName, Message};

/// Headers that may appear at most once (RFC 3261 §7.3.1: not comma lists).
const SINGLETONS: [HeaderName; 10] = [
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::From,
    HeaderName::To,
    HeaderName::MaxForwards,
    HeaderName::ContentType,
    HeaderName::Expires,
    HeaderName::MinExpires,
    HeaderName::Date,
    HeaderName::Event,
];

impl<'a> Message<'a> {
    fn one_header_items(&self, h: &Header<'a>, kind: ParseErrorKind) -> Items<'a, 'static> {
        Items::single(h.value, kind, self.as_bytes())
    }

    fn check_header(&self, h: &Header<'a>) -> Result<(), ParseError> {
        let at = self.offset_of(h.value);
        let shift = |e: ParseError| e.shifted(at);
        let remap = |kind| move |e: ParseError| ParseError::new(kind, e.offset);
        match h.name {
            HeaderName::CSeq => CSeq::parse(h.value).map(drop).map_err(shift),
            HeaderName::MaxForwards => parse_max_forwards(h.value).map(drop).map_err(shift),
            HeaderName::Expires | HeaderName::MinExpires => {
                parse_delta_seconds(h.value).map(drop).map_err(shift)
            }
            HeaderName::Date => check_date(h.value).map_err(shift),
            HeaderName::ContentType => ContentType::parse(h.value).map(drop).map_err(shift),
            HeaderName::Event => Event::parse(h.value).map(drop).map_err(shift),
            HeaderName::From | HeaderName::To => NameAddr::parse(h.value)
                .map(drop)
                .map_err(|e| match e.kind {
                    ParseErrorKind::Param => ParseError::new(ParseErrorKind::NameAddr, e.offset),
                    _ => e,
                })
                .map_err(shift),
            HeaderName::Via => {
                for item in self.one_header_items(h, ParseErrorKind::Via) {
                    let item = item?;
                    Via::parse(item).map_err(|e| e.shifted(self.offset_of(item)))?;
                }
                Ok(())
            }
            HeaderName::Contact => {
                let mut count = 0;
                let mut wildcard = false;
                for item in self.one_header_items(h, ParseErrorKind::Contact) {
                    let item = item?;
                    let c = Contact::parse(item)
                        .map_err(remap(ParseErrorKind::Contact))
                        .map_err(|e| e.shifted(self.offset_of(item)))?;
                    wildcard |= c == Contact::Wildcard;
                    count += 1;
                }
                if wildcard && count > 1 {
                    return Err(ParseError::new(ParseErrorKind::Contact, at));
                }
                Ok(())
            }
            HeaderName::Route | HeaderName::RecordRoute | HeaderName::Path => {
                for item in self.one_header_items(h, ParseErrorKind::NameAddr) {
                    let item = item?;
                    NameAddr::parse(item)
                        .map_err(remap(ParseErrorKind::NameAddr))
                        .map_err(|e| e.shifted(self.offset_of(item)))?;
                }
                Ok(())
            }
            HeaderName::WwwAuthenticate
            | HeaderName::ProxyAuthenticate
            | HeaderName::Authorization
            | HeaderName::ProxyAuthorization => AuthParams::parse(h.value).map(drop).map_err(shift),
            HeaderName::AuthenticationInfo => {
                AuthParams::parse_list(h.value).map(drop).map_err(shift)
            }
            HeaderName::Allow
            | HeaderName::Supported
            | HeaderName::Require
            | HeaderName::ProxyRequire
            | HeaderName::Unsupported
            | HeaderName::AllowEvents => {
                for item in self.one_header_items(h, ParseErrorKind::TokenList) {
                    let item = item?;
                    if !super::lex::is_token_str(item) {
                        return Err(ParseError::new(
                            ParseErrorKind::TokenList,
                            self.offset_of(item),
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Check the whole message strictly, beyond what [`Message::parse`]
    /// checks: version `SIP/2.0`; the Request-URI (a SIP/SIPS one parsed
    /// fully and without a headers part, §19.1.5); every known header read
    /// with its typed parser, in wire order; no repeated singleton header
    /// (Call-ID, CSeq, From, To, Max-Forwards, Content-Type, Expires,
    /// Min-Expires, Date, Event); `Contact: *` alone; and a request's CSeq
    /// method equal to its method. Mandatory headers are *not* required
    /// (RFC 4475 §3.3.1 leaves that to the application).
    ///
    /// # Errors
    /// The first problem found, with its offset in the frame.
    pub fn validate(&self) -> Result<(), ParseError> {
        let version = self.start_line().version();
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err(ParseError::new(
                ParseErrorKind::Version,
                self.offset_of(version),
            ));
        }
        if let Some(uri) = self.request_uri() {
            let at = self.offset_of(uri);
            check_uri(uri)
                .map_err(|e| ParseError::new(ParseErrorKind::RequestUri, at + e.offset))?;
            if let Ok(Uri {
                headers: Some(h), ..
            }) = Uri::parse(uri)
            {
                return Err(ParseError::new(
                    ParseErrorKind::RequestUri,
                    self.offset_of(h),
                ));
            }
        }
        for h in self.headers() {
            self.check_header(&h)?;
        }
        for name in SINGLETONS {
            if let Some(second) = self.headers().iter().filter(|h| h.name == name).nth(1) {
                return Err(ParseError::new(
                    ParseErrorKind::Duplicate(name),
                    self.offset_of(second.raw_name),
                ));
            }
        }
        if let (Some(method), Some(cseq)) = (self.method(), self.cseq()) {
            if cseq.method != method {
                let value = self.header(HeaderName::CSeq).unwrap_or("");
                return Err(ParseError::new(
                    ParseErrorKind::CSeqMethod,
                    self.offset_of(cseq.method)
                        .min(self.offset_of(value) + value.len()),
                ));
            }
        }
        Ok(())
    }

    /// [`Message::parse`] followed by [`Message::validate`].
    ///
    /// # Errors
    /// The first structural or semantic error, with its offset.
    pub fn parse_strict(buf: &'a [u8], limits: &super::Limits) -> Result<Message<'a>, ParseError> {
        let m = Message::parse(buf, limits)?;
        m.validate()?;
        Ok(m)
    }
}
