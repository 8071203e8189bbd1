//! Requests other than REGISTER and the INVITE family (RFC 3261 §8, §11;
//! RFC 6086 INFO, RFC 6665 NOTIFY, RFC 3428 MESSAGE): the local identity
//! every request carries (Via sent-by, Contact), building an
//! out-of-dialog request, resending a request with credentials, and the
//! default answers to incoming ones (200, 405 with `Allow`, 481).

use crate::auth::AuthorizationHeader;
use crate::link::RandomSource;
use crate::message::{
    BuildError, HeaderName, Message, OwnedMessage, RequestBuilder, ResponseBuilder,
};
use crate::txn::MAGIC_COOKIE;

/// The methods the user agent implements, for `Allow` (RFC 3261 §20.5).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, INFO, NOTIFY, MESSAGE, OPTIONS";

/// Whether the user agent implements `method` (the [`ALLOW`] list).
#[must_use]
pub fn is_allowed(method: &str) -> bool {
    ALLOW.split(", ").any(|m| m == method)
}

/// `len` random characters from `[0-9a-z]`.
pub(crate) fn token(rng: &mut impl RandomSource, len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(len);
    let mut bits = rng.next_u64();
    let mut left = 10;
    for _ in 0..len {
        if left == 0 {
            bits = rng.next_u64();
            left = 10;
        }
        let i = usize::try_from(bits % 36).unwrap_or(0);
        out.push(char::from(ALPHABET[i]));
        bits /= 36;
        left -= 1;
    }
    out
}

/// The local end of the flow: the random user and `.invalid` host of
/// `Contact` and `Via` (RFC 7118 §5: a WebSocket client has no reachable
/// address of its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Local {
    pub(crate) user: String,
    pub(crate) host: String,
    /// `WS` or `WSS` for Via (from the server URL).
    pub(crate) transport: &'static str,
}

impl Local {
    pub(crate) fn random(rng: &mut impl RandomSource) -> Local {
        Local {
            user: token(rng, 8),
            host: format!("{}.invalid", token(rng, 12)),
            transport: "WS",
        }
    }

    /// `sip:user@host.invalid;transport=ws`.
    pub(crate) fn contact_uri(&self) -> String {
        format!("sip:{}@{};transport=ws", self.user, self.host)
    }

    /// `<sip:user@host.invalid;transport=ws>` (Contact of dialogs).
    pub(crate) fn contact(&self) -> String {
        format!("<{}>", self.contact_uri())
    }

    /// A Via value with a fresh branch.
    pub(crate) fn via(&self, rng: &mut impl RandomSource) -> String {
        format!(
            "SIP/2.0/{} {};branch={MAGIC_COOKIE}{}",
            self.transport,
            self.host,
            token(rng, 16)
        )
    }
}

/// The parts of an out-of-dialog request (RFC 3261 §8.1.1).
pub(crate) struct NewRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) from: &'a str,
    pub(crate) from_tag: &'a str,
    pub(crate) to: &'a str,
    pub(crate) call_id: &'a str,
    pub(crate) cseq: u32,
    pub(crate) via: String,
    pub(crate) contact: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) extra: &'a [(HeaderName, String)],
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

impl NewRequest<'_> {
    pub(crate) fn build(&self) -> Result<OwnedMessage, BuildError> {
        let mut b = RequestBuilder::new(self.method, self.uri)
            .header(HeaderName::Via, self.via.as_str())
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format!("{};tag={}", self.from, self.from_tag),
            )
            .header(HeaderName::To, self.to)
            .header(HeaderName::CallId, self.call_id)
            .header(HeaderName::CSeq, format!("{} {}", self.cseq, self.method));
        if let Some(c) = self.contact {
            b = b.header(HeaderName::Contact, c);
        }
        for (name, value) in self.extra {
            b = b.header(*name, value.as_str());
        }
        if let Some(ua) = self.user_agent {
            b = b.header(HeaderName::UserAgent, ua);
        }
        if let Some(ct) = self.content_type {
            b = b.header(HeaderName::ContentType, ct);
        }
        b.body(self.body.to_vec()).build()
    }
}

/// `<uri>` unless `target` already is a name-addr.
pub(crate) fn name_addr(target: &str) -> String {
    if target.contains('<') {
        target.to_owned()
    } else {
        format!("<{target}>")
    }
}

/// The URI inside a name-addr (or the addr-spec itself).
pub(crate) fn uri_of(target: &str) -> &str {
    match (target.find('<'), target.find('>')) {
        (Some(a), Some(b)) if a < b => &target[a + 1..b],
        _ => target.trim(),
    }
}

/// The same request sent again after a 401/407 (RFC 3261 §22.2): a new
/// branch, CSeq `seq`, and the credentials in place of any earlier ones.
pub(crate) fn with_credentials(
    request: &OwnedMessage,
    via: String,
    seq: u32,
    credentials: &[AuthorizationHeader],
) -> Result<OwnedMessage, BuildError> {
    let method = request.method().unwrap_or("").to_owned();
    let mut r = request.clone();
    r.set_header(HeaderName::Via, via)?;
    r.set_header(HeaderName::CSeq, format!("{seq} {method}"))?;
    r.remove_headers(HeaderName::Authorization);
    r.remove_headers(HeaderName::ProxyAuthorization);
    for c in credentials {
        r.push_header(c.name, c.value.as_str())?;
    }
    Ok(r)
}

/// The CSeq number of an owned message.
pub(crate) fn cseq_of(m: &OwnedMessage) -> u32 {
    m.header(HeaderName::CSeq)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The top Via branch of an owned message.
pub(crate) fn branch_of(m: &OwnedMessage) -> Option<String> {
    let via = crate::txn::top_via(m.header(HeaderName::Via)?)?;
    via.branch.map(str::to_owned)
}

/// A response to `request` with `status`, our To tag (not on 100) and the
/// given extra headers.
pub(crate) fn reply(
    request: &Message<'_>,
    status: u16,
    to_tag: Option<&str>,
    extra: &[(HeaderName, &str)],
) -> Result<OwnedMessage, BuildError> {
    let mut b = ResponseBuilder::reply_to(request, status);
    if let (Some(tag), true) = (to_tag, status != 100) {
        b = b.to_tag(tag);
    }
    for (name, value) in extra {
        b = b.header(*name, *value);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::XorShift64;

    #[test]
    fn tokens_and_local_identity() {
        let mut rng = XorShift64::new(1);
        let t = token(&mut rng, 24);
        assert_eq!(t.len(), 24);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        let local = Local::random(&mut rng);
        assert!(local.host.ends_with(".invalid"));
        assert!(local.contact().starts_with("<sip:"));
        let via = local.via(&mut rng);
        assert!(via.starts_with("SIP/2.0/WS "), "{via}");
        assert!(via.contains(";branch=z9hG4bK"));
    }

    #[test]
    fn name_addr_helpers() {
        assert_eq!(name_addr("sip:bob@h"), "<sip:bob@h>");
        assert_eq!(name_addr("\"Bob\" <sip:bob@h>"), "\"Bob\" <sip:bob@h>");
        assert_eq!(
            uri_of("\"Bob\" <sip:bob@h;alias=x>;tag=1"),
            "sip:bob@h;alias=x"
        );
        assert_eq!(uri_of(" sip:bob@h "), "sip:bob@h");
        assert!(is_allowed("INFO") && !is_allowed("SUBSCRIBE"));
    }
}
