//! Token lists: Allow (§20.5), Supported (§20.37), Require (§20.32),
//! Proxy-Require, Unsupported, Allow-Events (RFC 6665).

use super::error::ParseErrorKind;
use super::lex::is_token_str;
use super::{HeaderName, Message};

impl<'a> Message<'a> {
    /// The items of every header named `name`, comma lists split and
    /// trimmed; malformed items (not a token) are skipped here and reported
    /// by [`Message::validate`].
    pub fn tokens(&self, name: HeaderName) -> impl Iterator<Item = &'a str> + '_ {
        self.items(name, ParseErrorKind::TokenList)
            .filter_map(Result::ok)
            .filter(|t| is_token_str(t))
    }

    /// Methods in Allow.
    pub fn allow(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tokens(HeaderName::Allow)
    }

    /// Option tags in Supported (long or compact `k`).
    pub fn supported(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tokens(HeaderName::Supported)
    }

    /// Option tags in Require.
    pub fn require(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tokens(HeaderName::Require)
    }

    /// Option tags in Proxy-Require.
    pub fn proxy_require(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tokens(HeaderName::ProxyRequire)
    }

    /// Option tags in Unsupported.
    pub fn unsupported(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tokens(HeaderName::Unsupported)
    }

    /// Event packages in Allow-Events (long or compact `u`).
    pub fn allow_events(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tokens(HeaderName::AllowEvents)
    }
}

#[cfg(test)]
mod tests {
    use crate::message::{Limits, Message, ParseErrorKind};

    #[test]
    fn token_lists_across_headers() {
        let buf = b"OPTIONS sip:x SIP/2.0\r\nAllow: INVITE, ACK,CANCEL\r\nAllow: BYE\r\nk: path, gruu\r\nRequire: outbound\r\nSupported:\r\n\r\n";
        let m = Message::parse(buf, &Limits::default()).unwrap();
        assert_eq!(
            m.allow().collect::<Vec<_>>(),
            ["INVITE", "ACK", "CANCEL", "BYE"]
        );
        assert_eq!(m.supported().collect::<Vec<_>>(), ["path", "gruu"]);
        assert_eq!(m.require().collect::<Vec<_>>(), ["outbound"]);
        assert!(m.validate().is_ok());
        let bad = b"OPTIONS sip:x SIP/2.0\r\nAllow: INVITE, A C K\r\n\r\n";
        let m = Message::parse(bad, &Limits::default()).unwrap();
        assert_eq!(m.validate().unwrap_err().kind, ParseErrorKind::TokenList);
        assert_eq!(m.allow().collect::<Vec<_>>(), ["INVITE"]);
    }
}
