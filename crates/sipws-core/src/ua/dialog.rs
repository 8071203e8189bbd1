//! Dialog state (RFC 3261 §12): Call-ID, local and remote tags, the local
//! and remote From/To values, the remote target and the route set, local
//! and remote CSeq; building requests inside the dialog (§12.2.1.1).
//!
//! The remote target is the peer's Contact URI kept **as written**: a
//! proxy such as Kamailio appends parameters to it (`;alias=…`) that must
//! come back in the Request-URI of every in-dialog request, so it is never
//! parsed apart and rebuilt.

use crate::message::{BuildError, HeaderName, Message, NameAddr, OwnedMessage, RequestBuilder};
use crate::router::DialogId;

/// One dialog, seen from this user agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
    /// Our From value in requests we send (with our tag).
    pub local: String,
    /// The peer's value (our To in requests we send, with its tag).
    pub remote: String,
    /// The peer's Contact URI exactly as written (RFC 3261 §12.1.1):
    /// the Request-URI of in-dialog requests.
    pub remote_target: String,
    /// The route set (§12.1.1 UAS: Record-Route in order; §12.1.2 UAC:
    /// reversed), each a name-addr as written.
    pub route_set: Vec<String>,
    /// The last CSeq number we used.
    pub local_cseq: u32,
    /// The last CSeq number the peer used, if it sent a request yet.
    pub remote_cseq: Option<u32>,
}

/// A name-addr (URI and params) as one Route value.
fn route_value(a: &NameAddr<'_>) -> String {
    format!("<{}>{}", a.uri, a.params.as_str())
}

/// The URI of the first Contact of `msg`, as written.
pub(crate) fn contact_target(msg: &Message<'_>) -> Option<String> {
    let c = msg.contact()?;
    c.address().map(|a| a.uri.to_owned())
}

impl Dialog {
    /// The dialog a 2xx (or 1xx with a To tag) to our `request` creates
    /// (§12.1.2). `None` when the response lacks a To tag or Contact.
    #[must_use]
    pub fn uac(request: &OwnedMessage, response: &Message<'_>) -> Option<Dialog> {
        let to = response.header(HeaderName::To)?;
        let remote_tag = response.to()?.tag()?.to_owned();
        let local = request.header(HeaderName::From)?.to_owned();
        let local_tag = NameAddr::parse(&local).ok()?.tag()?.to_owned();
        let mut route_set: Vec<String> = response
            .record_routes()
            .filter_map(Result::ok)
            .map(|a| route_value(&a))
            .collect();
        route_set.reverse();
        Some(Dialog {
            call_id: request.header(HeaderName::CallId)?.to_owned(),
            local_tag,
            remote_tag,
            local,
            remote: to.to_owned(),
            remote_target: contact_target(response)?,
            route_set,
            local_cseq: super::request::cseq_of(request),
            remote_cseq: None,
        })
    }

    /// The dialog our response with `local_tag` to `request` creates
    /// (§12.1.1). `None` when the request lacks a From tag or Contact.
    #[must_use]
    pub fn uas(request: &Message<'_>, local_tag: &str) -> Option<Dialog> {
        let from = request.header(HeaderName::From)?;
        let remote_tag = request.from()?.tag()?.to_owned();
        let to = request.header(HeaderName::To)?;
        Some(Dialog {
            call_id: request.call_id()?.to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag,
            local: format!("{};tag={local_tag}", to.trim_end()),
            remote: from.to_owned(),
            remote_target: contact_target(request)?,
            route_set: request
                .record_routes()
                .filter_map(Result::ok)
                .map(|a| route_value(&a))
                .collect(),
            local_cseq: 0,
            remote_cseq: request.cseq().map(|c| c.seq),
        })
    }

    /// The router's view of this dialog.
    #[must_use]
    pub fn id(&self) -> DialogId {
        DialogId::new(&self.call_id, &self.local_tag, &self.remote_tag)
    }

    /// Whether `msg` (a request from the peer, or a response to us)
    /// belongs to this dialog.
    #[must_use]
    pub fn matches(&self, msg: &Message<'_>) -> bool {
        let (Some(call_id), Some(from), Some(to)) = (msg.call_id(), msg.from(), msg.to()) else {
            return false;
        };
        let (ours, theirs) = if msg.is_request() {
            (to.tag(), from.tag())
        } else {
            (from.tag(), to.tag())
        };
        call_id == self.call_id
            && ours == Some(self.local_tag.as_str())
            && theirs == Some(self.remote_tag.as_str())
    }

    /// A target refresh (re-INVITE or its 2xx, §12.2): the peer's new
    /// Contact replaces the remote target.
    pub fn refresh_target(&mut self, msg: &Message<'_>) {
        if let Some(t) = contact_target(msg) {
            self.remote_target = t;
        }
    }

    /// Check and record the CSeq of a request from the peer (§12.2.2):
    /// `false` (answer 500) when it is lower than the last one.
    pub fn accept_remote_cseq(&mut self, seq: u32) -> bool {
        match self.remote_cseq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_cseq = Some(seq);
                true
            }
        }
    }

    /// Request-URI and Route values (§12.2.1.1): loose routing when the
    /// first route has `lr` (or there is none), strict routing otherwise.
    fn target_and_routes(&self) -> (String, Vec<String>) {
        let strict = self.route_set.first().and_then(|r| {
            let a = NameAddr::parse(r).ok()?;
            let lr = a.sip_uri().is_some_and(|u| u.lr());
            (!lr).then(|| a.uri.to_owned())
        });
        match strict {
            None => (self.remote_target.clone(), self.route_set.clone()),
            Some(uri) => {
                let mut routes: Vec<String> = self.route_set.iter().skip(1).cloned().collect();
                routes.push(format!("<{}>", self.remote_target));
                (uri, routes)
            }
        }
    }

    /// Start a request inside the dialog with CSeq `seq`.
    pub(crate) fn builder(&self, method: &str, seq: u32, via: &str) -> RequestBuilder {
        let (uri, routes) = self.target_and_routes();
        let mut b = RequestBuilder::new(method, uri)
            .header(HeaderName::Via, via)
            .header(HeaderName::MaxForwards, "70");
        for r in routes {
            b = b.header(HeaderName::Route, r);
        }
        b.header(HeaderName::From, self.local.as_str())
            .header(HeaderName::To, self.remote.as_str())
            .header(HeaderName::CallId, self.call_id.as_str())
            .header(HeaderName::CSeq, format!("{seq} {method}"))
    }

    /// A new request inside the dialog: the local CSeq goes up by one.
    pub(crate) fn next_request(&mut self, method: &str, via: &str) -> RequestBuilder {
        self.local_cseq = self.local_cseq.wrapping_add(1).max(1);
        self.builder(method, self.local_cseq, via)
    }

    /// The ACK of a 2xx to the INVITE with CSeq `seq` (§13.2.2.4).
    pub(crate) fn ack(&self, seq: u32, via: &str) -> Result<OwnedMessage, BuildError> {
        self.builder("ACK", seq, via).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Limits;

    fn invite() -> OwnedMessage {
        RequestBuilder::new("INVITE", "sip:bob@example.test")
            .header(HeaderName::Via, "SIP/2.0/WS a.invalid;branch=z9hG4bK1")
            .header(HeaderName::From, "<sip:alice@example.test>;tag=at")
            .header(HeaderName::To, "<sip:bob@example.test>")
            .header(HeaderName::CallId, "c1")
            .header(HeaderName::CSeq, "7 INVITE")
            .build()
            .unwrap()
    }

    const OK: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
Record-Route: <sip:127.0.0.1:8443;transport=ws;r2=on;lr>, <sip:127.0.0.1:8080;transport=ws;r2=on;lr>\r\n\
From: <sip:alice@example.test>;tag=at\r\n\
To: <sip:bob@example.test>;tag=bt\r\n\
Call-ID: c1\r\nCSeq: 7 INVITE\r\n\
Contact: <sip:bob@x.invalid;alias=127.0.0.1~45294~5;transport=ws>\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn uac_dialog_keeps_alias_and_reverses_record_route() {
        let m = Message::parse(OK, &Limits::default()).unwrap();
        let mut d = Dialog::uac(&invite(), &m).unwrap();
        assert_eq!(
            d.remote_target,
            "sip:bob@x.invalid;alias=127.0.0.1~45294~5;transport=ws"
        );
        assert_eq!(
            d.route_set,
            [
                "<sip:127.0.0.1:8080;transport=ws;r2=on;lr>",
                "<sip:127.0.0.1:8443;transport=ws;r2=on;lr>"
            ]
        );
        assert_eq!((d.local_tag.as_str(), d.remote_tag.as_str()), ("at", "bt"));
        assert!(d.matches(&m));
        let ack = d.ack(7, "SIP/2.0/WS a.invalid;branch=z9hG4bK2").unwrap();
        assert_eq!(
            ack.uri(),
            Some("sip:bob@x.invalid;alias=127.0.0.1~45294~5;transport=ws")
        );
        assert_eq!(ack.header(HeaderName::CSeq), Some("7 ACK"));
        let routes: Vec<_> = ack.headers_named(HeaderName::Route).collect();
        assert_eq!(routes.len(), 2);
        let bye = d
            .next_request("BYE", "SIP/2.0/WS a.invalid;branch=z9hG4bK3")
            .build()
            .unwrap();
        assert_eq!(bye.header(HeaderName::CSeq), Some("8 BYE"));
        assert_eq!(
            bye.header(HeaderName::To),
            Some("<sip:bob@example.test>;tag=bt")
        );
    }

    #[test]
    fn uas_dialog_and_strict_route() {
        let req = b"INVITE sip:alice@a.invalid;transport=ws SIP/2.0\r\n\
Via: SIP/2.0/WS  127.0.0.1:8080;branch=z9hG4bKp\r\n\
Via: SIP/2.0/WS b.invalid;branch=z9hG4bKb\r\n\
Record-Route: <sip:127.0.0.1:8080;transport=ws>\r\n\
From: \"Bob\" <sip:bob@example.test>;tag=bt\r\n\
To: <sip:alice@example.test>\r\n\
Call-ID: c2\r\nCSeq: 3 INVITE\r\n\
Contact: <sip:bob@b.invalid;alias=127.0.0.1~1~5;transport=ws>\r\n\
Content-Length: 0\r\n\r\n";
        let m = Message::parse(req, &Limits::default()).unwrap();
        let mut d = Dialog::uas(&m, "lt").unwrap();
        assert_eq!(d.local, "<sip:alice@example.test>;tag=lt");
        assert_eq!(d.remote_cseq, Some(3));
        assert!(!d.accept_remote_cseq(2));
        assert!(d.accept_remote_cseq(4));
        // No `lr`: strict routing puts the route in the Request-URI.
        let bye = d
            .next_request("BYE", "SIP/2.0/WS a.invalid;branch=z9hG4bK9")
            .build()
            .unwrap();
        assert_eq!(bye.uri(), Some("sip:127.0.0.1:8080;transport=ws"));
        assert_eq!(
            bye.header(HeaderName::Route),
            Some("<sip:bob@b.invalid;alias=127.0.0.1~1~5;transport=ws>")
        );
        assert_eq!(bye.header(HeaderName::CSeq), Some("1 BYE"));
    }
}
