//! Building a CANCEL (RFC 3261 §9.1).

use super::client::first_number;
use crate::message::{BuildError, HeaderName, OwnedMessage, RequestBuilder};

/// The CANCEL of `invite`: the same Request-URI, Call-ID, From, To and
/// CSeq number (method CANCEL), only its top Via (so the same branch),
/// the same Route headers, `Max-Forwards: 70`, no body.
pub fn build_cancel(invite: &OwnedMessage) -> Result<OwnedMessage, BuildError> {
    let uri = invite.uri().ok_or(BuildError::NotARequest)?;
    let header = |name: HeaderName| invite.header(name).unwrap_or("");
    let seq = first_number(header(HeaderName::CSeq)).unwrap_or("0");
    let mut b = RequestBuilder::new("CANCEL", uri)
        .header(HeaderName::Via, header(HeaderName::Via))
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, header(HeaderName::From))
        .header(HeaderName::To, header(HeaderName::To))
        .header(HeaderName::CallId, header(HeaderName::CallId))
        .header(HeaderName::CSeq, format!("{seq} CANCEL"));
    for route in invite.headers_named(HeaderName::Route) {
        b = b.header(HeaderName::Route, route);
    }
    b.build()
}
