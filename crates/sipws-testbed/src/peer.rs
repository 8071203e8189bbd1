//! The scripted peer: a built-in user (`sip:peer@domain`) that answers
//! calls (100, 180, 200 with an SDP answer, then waits for the ACK) and
//! in-dialog requests (BYE, INFO, NOTIFY, MESSAGE → 200), and, on command
//! through [`crate::TestbedHandle`], calls a registered client (INVITE with
//! SDP, ACK of its 200, later BYE) or sends it NOTIFY, INFO or MESSAGE.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use sipws_core::message::{HeaderName, Message, RequestBuilder, ResponseBuilder};
use sipws_core::sdp::{self, LocalMedia, OfferKind, SessionDescription};

use crate::sip::{tag_for, Outbox, SipContext};
use crate::{ConnId, TestbedEvent};

/// The prefix of the peer's branches.
const BRANCH_PREFIX: &str = "z9hG4bK-peer-";

/// Whether a Via branch is one the peer put.
pub(crate) fn is_peer_branch(branch: &str) -> bool {
    branch.starts_with(BRANCH_PREFIX)
}

/// Where a call of the scripted peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerCallState {
    /// The peer sent an INVITE and waits for answers.
    Calling,
    /// A provisional response (status) arrived for the peer's INVITE.
    Progress(u16),
    /// The peer answered an incoming INVITE with 200 and waits for ACK.
    Answered,
    /// The dialog is confirmed (ACK received, or ACK sent for a 200).
    Confirmed,
    /// The call was refused with this final status.
    Failed(u16),
    /// A BYE ended the call.
    Ended,
}

/// Why a peer command could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// No live binding for this address-of-record.
    NotRegistered(String),
    /// The binding's connection is gone.
    Gone(String),
    /// No such peer call.
    NoSuchCall(String),
    /// The request could not be built (bad method, header or target).
    Build(String),
}

impl std::fmt::Display for PeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerError::NotRegistered(a) => write!(f, "{a} is not registered"),
            PeerError::Gone(a) => write!(f, "the connection of {a} is gone"),
            PeerError::NoSuchCall(c) => write!(f, "no peer call {c}"),
            PeerError::Build(e) => write!(f, "cannot build the request: {e}"),
        }
    }
}

impl std::error::Error for PeerError {}

/// One dialog of the peer.
#[derive(Debug, Clone)]
struct Call {
    conn: ConnId,
    /// The peer's side of From/To, with its tag.
    local: String,
    /// The client's side, with its tag once known.
    remote: String,
    /// Where in-dialog requests go (the client's Contact).
    remote_target: String,
    /// The peer's next CSeq.
    cseq: u32,
    state: PeerCallState,
    /// The INVITE's branch (outgoing calls: for the ACK of a failure).
    invite_branch: String,
}

/// The peer's dialogs and counters.
#[derive(Debug, Default)]
pub(crate) struct Peer {
    calls: HashMap<String, Call>,
    next: u64,
}

impl Peer {
    fn fresh(&mut self) -> u64 {
        self.next = self.next.wrapping_add(1);
        self.next
    }

    fn set_state(&mut self, call_id: &str, state: PeerCallState, out: &mut Outbox) {
        if let Some(call) = self.calls.get_mut(call_id) {
            if call.state != state {
                call.state = state;
                out.event(TestbedEvent::PeerCall {
                    conn: call.conn,
                    call_id: call_id.to_owned(),
                    state,
                });
            }
        }
    }

    /// Whether `call_id` is one of the peer's dialogs.
    pub(crate) fn has_call(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id)
    }

    /// Every dialog: (Call-ID, state), sorted by Call-ID.
    pub(crate) fn calls(&self) -> Vec<(String, PeerCallState)> {
        let mut v: Vec<(String, PeerCallState)> = self
            .calls
            .iter()
            .map(|(id, c)| (id.clone(), c.state))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// A request addressed to the peer.
    pub(crate) fn on_request(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        req: &Message<'_>,
        out: &mut Outbox,
    ) {
        let method = req.method().unwrap_or("");
        let call_id = req.call_id().unwrap_or("").to_owned();
        let known = self.calls.contains_key(&call_id);
        match method {
            "INVITE" => self.answer_invite(cx, conn, req, out),
            "ACK" => {
                if known {
                    self.set_state(&call_id, PeerCallState::Confirmed, out);
                }
            }
            "BYE" => {
                if known {
                    self.answer(conn, req, 200, out);
                    self.set_state(&call_id, PeerCallState::Ended, out);
                    self.calls.remove(&call_id);
                } else {
                    self.answer(conn, req, 481, out);
                }
            }
            "CANCEL" | "INFO" | "NOTIFY" | "MESSAGE" | "OPTIONS" | "UPDATE" | "SUBSCRIBE"
            | "PRACK" => {
                let in_dialog = req.to().is_some_and(|t| t.tag().is_some());
                if in_dialog && !known && method != "CANCEL" && method != "OPTIONS" {
                    self.answer(conn, req, 481, out);
                } else {
                    self.answer(conn, req, 200, out);
                }
            }
            _ => self.answer(conn, req, 405, out),
        }
    }

    fn answer(&self, conn: ConnId, req: &Message<'_>, status: u16, out: &mut Outbox) {
        let mut b = ResponseBuilder::reply_to(req, status).to_tag(tag_for(req));
        if status == 405 || req.method() == Some("OPTIONS") {
            b = b.header(HeaderName::Allow, crate::sip::ALLOW);
        }
        if req.method() == Some("SUBSCRIBE") {
            b = b.header(
                HeaderName::Expires,
                req.expires().unwrap_or(600).to_string(),
            );
        }
        out.event(TestbedEvent::PeerRequest {
            conn,
            call_id: req.call_id().unwrap_or("").to_owned(),
            method: req.method().unwrap_or("").to_owned(),
            status,
        });
        out.send_built(conn, b.build());
    }

    fn answer_invite(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        req: &Message<'_>,
        out: &mut Outbox,
    ) {
        let call_id = req.call_id().unwrap_or("").to_owned();
        let tag = tag_for(req);
        let re_invite = req.to().is_some_and(|t| t.tag().is_some());
        if re_invite && !self.calls.contains_key(&call_id) {
            self.answer(conn, req, 481, out);
            return;
        }
        let contact = format!("<{}>", cx.peer_contact());
        let sdp = match answer_sdp(cx, req) {
            Ok(sdp) => sdp,
            Err(e) => {
                // RFC 3261 §21.4.26: nothing in the offer is acceptable.
                let r = ResponseBuilder::reply_to(req, 488)
                    .to_tag(&tag)
                    .header(HeaderName::Warning, format!("304 sipws-peer \"{e}\""));
                out.send_built(conn, r.build());
                return;
            }
        };
        if !re_invite {
            out.send_built(conn, ResponseBuilder::reply_to(req, 100).build());
            out.send_built(
                conn,
                ResponseBuilder::reply_to(req, 180)
                    .to_tag(&tag)
                    .header(HeaderName::Contact, &contact)
                    .build(),
            );
        }
        let ok = ResponseBuilder::reply_to(req, 200)
            .to_tag(&tag)
            .header(HeaderName::Contact, &contact)
            .header(HeaderName::Allow, crate::sip::ALLOW)
            .header(HeaderName::ContentType, "application/sdp")
            .body(sdp)
            .build();
        let local = ok
            .as_ref()
            .ok()
            .and_then(|m| m.header(HeaderName::To))
            .unwrap_or("")
            .to_owned();
        out.send_built(conn, ok);
        if !re_invite {
            let remote_target = req
                .contact()
                .and_then(|c| c.address().map(|a| a.uri.to_owned()))
                .unwrap_or_default();
            self.calls.insert(
                call_id.clone(),
                Call {
                    conn,
                    local,
                    remote: req.header(HeaderName::From).unwrap_or("").to_owned(),
                    remote_target,
                    cseq: 0,
                    state: PeerCallState::Calling,
                    invite_branch: String::new(),
                },
            );
        }
        self.set_state(&call_id, PeerCallState::Answered, out);
    }

    /// A response to a request the peer sent.
    pub(crate) fn on_response(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        resp: &Message<'_>,
        out: &mut Outbox,
    ) {
        let call_id = resp.call_id().unwrap_or("").to_owned();
        let status = resp.status().unwrap_or(0);
        let Some(cseq) = resp.cseq() else { return };
        out.event(TestbedEvent::PeerResponse {
            conn,
            call_id: call_id.clone(),
            method: cseq.method.to_owned(),
            status,
        });
        if cseq.method != "INVITE" {
            if cseq.method == "BYE" && status >= 200 {
                self.calls.remove(&call_id);
            }
            return;
        }
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        if status < 200 {
            if status > 100 {
                self.set_state(&call_id, PeerCallState::Progress(status), out);
            }
            return;
        }
        if let Some(to) = resp.header(HeaderName::To) {
            call.remote = to.to_owned();
        }
        if let Some(uri) = resp.contact().and_then(|c| c.address().map(|a| a.uri)) {
            call.remote_target = uri.to_owned();
        }
        // ACK: a new transaction for a 2xx, the INVITE's branch otherwise.
        let branch = if status < 300 {
            format!("{BRANCH_PREFIX}{}", self.next.wrapping_add(1))
        } else {
            call.invite_branch.clone()
        };
        let call = call.clone();
        if status < 300 {
            self.fresh();
        }
        let ack = RequestBuilder::new("ACK", &call.remote_target)
            .header(
                HeaderName::Via,
                format!("SIP/2.0/WS {};branch={branch}", cx.host),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(HeaderName::From, &call.local)
            .header(HeaderName::To, &call.remote)
            .header(HeaderName::CallId, &call_id)
            .header(HeaderName::CSeq, format!("{} ACK", cseq.seq))
            .build();
        out.send_built(call.conn, ack);
        if status < 300 {
            self.set_state(&call_id, PeerCallState::Confirmed, out);
        } else {
            self.set_state(&call_id, PeerCallState::Failed(status), out);
            self.calls.remove(&call_id);
        }
    }

    /// Calls `contact` (a live binding on `conn` of `aor`); returns the
    /// Call-ID.
    pub(crate) fn call(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        aor: &str,
        contact: &str,
        out: &mut Outbox,
    ) -> Result<String, PeerError> {
        let n = self.fresh();
        let call_id = format!("peer-{n}-{}", cx.host);
        let branch = format!("{BRANCH_PREFIX}{n}");
        let local = format!(
            "<sip:{}@{}>;tag=peer{n}",
            cx.config.peer_user, cx.config.domain
        );
        let remote = format!("<sip:{aor}>");
        let invite = RequestBuilder::new("INVITE", contact)
            .header(
                HeaderName::Via,
                format!("SIP/2.0/WS {};branch={branch}", cx.host),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(HeaderName::From, &local)
            .header(HeaderName::To, &remote)
            .header(HeaderName::CallId, &call_id)
            .header(HeaderName::CSeq, "1 INVITE")
            .header(HeaderName::Contact, format!("<{}>", cx.peer_contact()))
            .header(HeaderName::Allow, crate::sip::ALLOW)
            .header(HeaderName::ContentType, "application/sdp")
            .body(offer_sdp(cx))
            .build()
            .map_err(|e| PeerError::Build(e.to_string()))?;
        self.calls.insert(
            call_id.clone(),
            Call {
                conn,
                local,
                remote,
                remote_target: contact.to_owned(),
                cseq: 1,
                state: PeerCallState::Calling,
                invite_branch: branch,
            },
        );
        out.event(TestbedEvent::PeerCall {
            conn,
            call_id: call_id.clone(),
            state: PeerCallState::Calling,
        });
        out.send(conn, invite);
        Ok(call_id)
    }

    /// Sends `method` in the dialog `call_id`; returns the Call-ID.
    pub(crate) fn in_dialog(
        &mut self,
        cx: &SipContext<'_>,
        call_id: &str,
        method: &str,
        content_type: Option<&str>,
        body: &[u8],
        out: &mut Outbox,
    ) -> Result<(), PeerError> {
        let n = self.fresh();
        let Some(call) = self.calls.get_mut(call_id) else {
            return Err(PeerError::NoSuchCall(call_id.to_owned()));
        };
        call.cseq = call.cseq.saturating_add(1);
        let request = peer_request(
            cx,
            method,
            &call.remote_target,
            (&call.local, &call.remote, call_id, call.cseq),
            n,
            content_type,
            body,
        )?;
        let conn = call.conn;
        if method == "BYE" {
            self.set_state(call_id, PeerCallState::Ended, out);
        }
        out.send(conn, request);
        Ok(())
    }

    /// Sends `method` outside any dialog to `contact` on `conn`; returns
    /// the Call-ID.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn out_of_dialog(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        aor: &str,
        contact: &str,
        method: &str,
        content_type: Option<&str>,
        body: &[u8],
        out: &mut Outbox,
    ) -> Result<String, PeerError> {
        let n = self.fresh();
        let call_id = format!("peer-{n}-{}", cx.host);
        let local = format!(
            "<sip:{}@{}>;tag=peer{n}",
            cx.config.peer_user, cx.config.domain
        );
        let remote = format!("<sip:{aor}>");
        let request = peer_request(
            cx,
            method,
            contact,
            (&local, &remote, &call_id, 1),
            n,
            content_type,
            body,
        )?;
        out.send(conn, request);
        Ok(call_id)
    }
}

fn peer_request(
    cx: &SipContext<'_>,
    method: &str,
    target: &str,
    (from, to, call_id, cseq): (&str, &str, &str, u32),
    n: u64,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<sipws_core::message::OwnedMessage, PeerError> {
    let mut b = RequestBuilder::new(method, target)
        .header(
            HeaderName::Via,
            format!("SIP/2.0/WS {};branch={BRANCH_PREFIX}{n}", cx.host),
        )
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, from)
        .header(HeaderName::To, to)
        .header(HeaderName::CallId, call_id)
        .header(HeaderName::CSeq, format!("{cseq} {method}"));
    if method == "NOTIFY" {
        b = b
            .header(HeaderName::Event, "sipws")
            .header(HeaderName::SubscriptionState, "active;expires=3600");
    }
    if !body.is_empty() {
        b = b
            .header(
                HeaderName::ContentType,
                content_type.unwrap_or("text/plain"),
            )
            .body(body.to_vec());
    }
    b.build().map_err(|e| PeerError::Build(e.to_string()))
}

/// The peer's media description: fresh ICE credentials, fingerprint and
/// session id per call.
fn local_media() -> LocalMedia {
    // std's randomly keyed hasher: unique per call, which is all that is
    // needed (no media flows).
    let seed = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    LocalMedia::from_seed("sipws-peer", "127.0.0.1", seed)
}

/// The SDP of the peer's 200 to an INVITE: the configured one, the answer
/// to the INVITE's offer, or (no offer in the INVITE) an offer of its own.
fn answer_sdp(cx: &SipContext<'_>, req: &Message<'_>) -> Result<String, sdp::SdpError> {
    if let Some(fixed) = &cx.config.peer_sdp {
        return Ok(fixed.clone());
    }
    let body = req.body();
    if body.is_empty() {
        return Ok(offer_sdp(cx));
    }
    sdp::answer(&SessionDescription::parse(body)?, &local_media())
}

/// The SDP of the peer's INVITEs.
fn offer_sdp(cx: &SipContext<'_>) -> String {
    match &cx.config.peer_sdp {
        Some(fixed) => fixed.clone(),
        None => sdp::offer(&local_media(), OfferKind::WebRtc),
    }
}
