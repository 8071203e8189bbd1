//! The user agent (RFC 3261 §8, §10, §12–15): registration, calls and the
//! other requests, as one deterministic sans-IO state machine that owns the
//! [`Link`], a [`Router`] and the [`Transactions`].
//!
//! # Driving it
//!
//! The driver moves bytes and time, exactly as for a bare [`Link`]:
//! - socket news goes in with [`UserAgent::handle_open`],
//!   [`UserAgent::handle_frame`], [`UserAgent::handle_closed`],
//!   [`UserAgent::handle_connect_failed`], [`UserAgent::handle_ws_pong`],
//!   [`UserAgent::handle_network_change`]; time with
//!   [`UserAgent::handle_timeout`] (safe early or twice);
//! - after each input, drain [`UserAgent::poll_transmit`] (socket
//!   commands: connect, frame, ping, close) and [`UserAgent::poll_event`]
//!   (what the application sees), then sleep until
//!   [`UserAgent::poll_timeout`] (the minimum over the link, the
//!   transactions, the registration refresh and the calls' timers).
//!
//! ```
//! use sipws_core::link::{LinkConfig, Opcode, Transmit};
//! use sipws_core::time::Instant;
//! use sipws_core::ua::{RegistrationState, UaConfig, UserAgent};
//!
//! let config = UaConfig::new(
//!     "sip:alice@example.test",
//!     "sip:example.test",
//!     "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
//! )
//! .with_credentials("alice", "secret");
//! let link = LinkConfig::new(["ws://127.0.0.1:8080"]);
//! let mut ua = UserAgent::with_seed(config, link, 42)?;
//! ua.register(Instant::ZERO)?;
//! assert_eq!(ua.registration(), RegistrationState::Registering);
//! // The driver opens the socket the link asks for …
//! assert!(matches!(ua.poll_transmit(), Some(Transmit::Connect { .. })));
//! ua.handle_open(Instant::from_millis(15), Some("sip"));
//! // … and sends the REGISTER that waited for it.
//! let Some(Transmit::Frame { data, opcode: Opcode::Text }) = ua.poll_transmit() else {
//!     panic!("a frame")
//! };
//! assert!(data.starts_with(b"REGISTER sip:example.test SIP/2.0\r\n"));
//! // Inbound frames go to handle_frame, time to handle_timeout at poll_timeout.
//! assert!(ua.poll_timeout().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The application calls [`UserAgent::register`], [`UserAgent::call`],
//! [`UserAgent::answer`], [`UserAgent::hangup`], [`UserAgent::cancel`],
//! [`UserAgent::info`] / [`UserAgent::notify`] / [`UserAgent::message`] /
//! [`UserAgent::options`] (or the general [`UserAgent::request`]),
//! [`UserAgent::respond`], [`UserAgent::unregister`] /
//! [`UserAgent::shutdown`], each with the current time. Calls needing the
//! connection start it ([`UserAgent::connect`] does so explicitly).
//!
//! # Inbound frames
//!
//! Every SIP frame goes through the router. The default rules (at
//! [`Priority::LOWEST`]) send responses to the transactions and requests
//! to the user agent; the application's rules ([`UserAgent::add_rule`])
//! come first. A request an application rule takes is not answered
//! automatically: it arrives as [`UaEvent::IncomingRequest`] with
//! `answered: false` and waits for [`UserAgent::respond`]. Otherwise:
//! INFO / NOTIFY / MESSAGE / OPTIONS get `200 OK` (OPTIONS with `Allow`),
//! an unknown method `405` with `Allow`, a request inside a dialog we do
//! not know `481`, a BYE `200` (the call ends), a re-INVITE `200` with our
//! current SDP, a new INVITE `100 Trying` and an [`UaEvent::IncomingCall`].
//!
//! # Reconnects
//!
//! A new WebSocket is a new flow: after [`LinkEvent::Reconnected`] the
//! binding is registered again (same Call-ID, next CSeq, same instance id
//! and Contact), and every established call sends a re-INVITE carrying our
//! Contact, so the proxy records the new flow for in-dialog requests
//! (Kamailio's `alias` parameter) and the call survives. When the link
//! asks for a liveness probe ([`LinkEvent::ProbeRequested`], servers that
//! never answer CRLF pings) the user agent sends `OPTIONS` to the
//! registrar and reports any answer back to the link.
//!
//! # Call flow (caller A, proxy P, callee B)
//!
//! ```text
//! A → P  REGISTER (CSeq 1)            P → A  401 (Digest challenge)
//! A → P  REGISTER + Authorization (2) P → A  200 OK (Contact;expires)
//! A → B  INVITE (SDP offer)           B → A  100 Trying, 180, 200 (answer)
//! A → B  ACK (to B's Contact, via the Record-Route set)
//! A ↔ B  INFO / NOTIFY / MESSAGE → 200 OK
//! A → B  BYE                          B → A  200 OK
//! ```

mod call;
pub mod config;
pub mod dialog;
mod event;
mod registration;
mod request;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use call::{CallState, Direction};
pub use config::{random_instance_id, UaConfig, UaConfigError};
pub use dialog::Dialog;
pub use event::{CallEndReason, CallId, RequestId, Target, UaError, UaEvent};
pub use registration::RegistrationState;
pub use request::{is_allowed, ALLOW};

use call::{Call, Retransmit};
use registration::{Registration, Want};
use request::{cseq_of, name_addr, uri_of, Local, NewRequest};

use crate::auth::{AuthOutcome, CnonceSource, DigestClient, RandomCnonce};
use crate::link::{
    CloseInfo, ConnectError, Link, LinkConfig, LinkEvent, LinkState, Opcode, RandomSource,
    Transmit, XorShift64,
};
use crate::message::{HeaderName, Message, OwnedMessage, ParseError, ResponseBuilder, Uri};
use crate::router::{Priority, Route, Router, Rule, RuleId};
use crate::time::Instant;
use crate::txn::{Incoming, TerminationReason, Transactions, TxnEvent, TxnId};

/// Who handles a frame the router matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteKey {
    /// The transaction layer (default rule for responses).
    Transactions,
    /// The user agent core (default rule for requests).
    UserAgent,
    /// An application rule, with the key it was added with.
    App(u64),
}

/// What a client transaction of ours is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Register,
    Invite(CallId),
    Reinvite(CallId),
    Cancel(CallId),
    Bye(CallId),
    Request(RequestId),
    Probe,
}

/// A client transaction waiting for its final response.
#[derive(Debug)]
struct Sent {
    txn: TxnId,
    purpose: Purpose,
    /// The dialog it was sent in (in-dialog requests).
    call: Option<CallId>,
    request: OwnedMessage,
    branch: String,
}

/// The user agent; see the [module docs](self).
pub struct UserAgent<R: RandomSource = XorShift64> {
    config: UaConfig,
    link: Link<R>,
    rng: R,
    router: Router<RouteKey>,
    txn: Transactions,
    auth: Option<DigestClient>,
    local: Local,
    reg: Registration,
    calls: Vec<Call>,
    sent: Vec<Sent>,
    /// Requests an application rule took, waiting for `respond`.
    pending_in: Vec<(TxnId, OwnedMessage)>,
    events: VecDeque<UaEvent>,
    next_id: u64,
}

impl<R: RandomSource> core::fmt::Debug for UserAgent<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UserAgent")
            .field("aor", &self.config.aor)
            .field("registration", &self.reg.state())
            .field("calls", &self.calls.len())
            .field("transactions", &self.txn.len())
            .finish_non_exhaustive()
    }
}

/// Why a user agent could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewUaError {
    /// The identity is unusable.
    Config(UaConfigError),
    /// The link settings are unusable.
    Link(crate::link::ConfigError),
}

impl core::fmt::Display for NewUaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NewUaError::Config(e) => write!(f, "user agent config: {e}"),
            NewUaError::Link(e) => write!(f, "link config: {e}"),
        }
    }
}

impl std::error::Error for NewUaError {}

impl UserAgent<XorShift64> {
    /// A user agent whose randomness (tags, branches, Call-IDs, the
    /// Contact's random user and host, jitter, client nonces) all derives
    /// from `seed`. Drivers pass a seed from the platform's secure
    /// generator; tests pass a constant.
    pub fn with_seed(
        config: UaConfig,
        link_config: LinkConfig,
        seed: u64,
    ) -> Result<Self, NewUaError> {
        let mut root = XorShift64::new(seed);
        let link_rng = XorShift64::new(root.next_u64());
        let cnonce = RandomCnonce(XorShift64::new(root.next_u64()));
        UserAgent::new(config, link_config, link_rng, root, cnonce)
    }
}

impl<R: RandomSource> UserAgent<R> {
    /// A user agent that is not connected yet. `link_rng` drives the
    /// link's jitter, `rng` the user agent's tags, branches and refresh
    /// jitter, `cnonces` the digest client nonces.
    pub fn new(
        config: UaConfig,
        link_config: LinkConfig,
        link_rng: R,
        mut rng: R,
        cnonces: impl CnonceSource + Send + 'static,
    ) -> Result<Self, NewUaError> {
        config.validate().map_err(NewUaError::Config)?;
        let wss = link_config
            .urls
            .first()
            .is_some_and(|u| u.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("wss:")));
        let link = Link::new(link_config, link_rng).map_err(NewUaError::Link)?;
        let mut local = Local::random(&mut rng);
        if wss {
            local.transport = "WSS";
        }
        let reg = Registration::new(&mut rng, &local, &config);
        let auth = config
            .credentials
            .clone()
            .map(|c| DigestClient::new(c, config.digest, cnonces));
        let mut router = Router::new();
        router.add(Rule::response(), RouteKey::Transactions, Priority::LOWEST);
        router.add(Rule::request(), RouteKey::UserAgent, Priority::LOWEST);
        // The core retransmits its own 2xx (call.rs); never both.
        let mut txn_config = config.txn;
        txn_config.retransmit_2xx = false;
        let txn = Transactions::new(txn_config);
        Ok(UserAgent {
            config,
            link,
            rng,
            router,
            txn,
            auth,
            local,
            reg,
            calls: Vec::new(),
            sent: Vec::new(),
            pending_in: Vec::new(),
            events: VecDeque::new(),
            next_id: 1,
        })
    }

    // ----- accessors -----

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// The link (state, health records, queue).
    #[must_use]
    pub fn link(&self) -> &Link<R> {
        &self.link
    }

    /// The router (rules, counters, registered dialogs).
    #[must_use]
    pub fn router(&self) -> &Router<RouteKey> {
        &self.router
    }

    /// Where the registration stands.
    #[must_use]
    pub fn registration(&self) -> RegistrationState {
        self.reg.state()
    }

    /// Our Contact URI (`sip:RANDOM@RANDOM.invalid;transport=ws`).
    #[must_use]
    pub fn contact_uri(&self) -> String {
        self.local.contact_uri()
    }

    /// The live calls.
    pub fn calls(&self) -> impl Iterator<Item = CallId> + '_ {
        self.calls.iter().map(|c| c.id)
    }

    /// A call's state; `None` once it ended.
    #[must_use]
    pub fn call_state(&self, call: CallId) -> Option<CallState> {
        self.find_call(call).map(|c| c.state)
    }

    /// A call's direction.
    #[must_use]
    pub fn call_direction(&self, call: CallId) -> Option<Direction> {
        self.find_call(call).map(|c| c.direction)
    }

    /// A call's dialog, once it exists.
    #[must_use]
    pub fn dialog(&self, call: CallId) -> Option<&Dialog> {
        self.find_call(call).and_then(|c| c.dialog.as_ref())
    }

    fn find_call(&self, call: CallId) -> Option<&Call> {
        self.calls.iter().find(|c| c.id == call)
    }

    fn call_mut(&mut self, call: CallId) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| c.id == call)
    }

    // ----- application rules -----

    /// Add an application routing rule in front of the defaults; frames it
    /// takes are reported with `key` (see the [module docs](self)).
    pub fn add_rule(&mut self, rule: Rule, key: u64, priority: Priority) -> RuleId {
        self.router.add(rule, RouteKey::App(key), priority)
    }

    /// Remove an application rule (the default rules cannot be removed).
    pub fn remove_rule(&mut self, id: RuleId) -> bool {
        let is_app = self
            .router
            .rules()
            .any(|r| r.id == id && matches!(r.key, RouteKey::App(_)));
        is_app && self.router.remove(id).is_some()
    }

    // ----- connection -----

    /// Start connecting (a no-op when connecting or connected).
    pub fn connect(&mut self, now: Instant) {
        self.link.connect(now);
        self.pump(now);
    }

    /// Close the link at once (no un-REGISTER; see [`UserAgent::shutdown`]).
    pub fn close(&mut self, now: Instant) {
        self.link.close(now);
        self.pump(now);
    }

    // ----- registration -----

    /// Register (or refresh) our binding now. A REGISTER already in flight
    /// is not doubled: this one goes out after it (merged when it
    /// registers anyway). Registrations are refreshed and redone after
    /// reconnects until [`UserAgent::unregister`].
    pub fn register(&mut self, now: Instant) -> Result<(), UaError> {
        self.reg.want = Some(Want::Register);
        self.reg.close_after = false;
        let r = self.send_register(now);
        self.pump(now);
        r
    }

    /// Remove our binding (`Expires: 0`); [`UaEvent::Unregistered`] follows.
    pub fn unregister(&mut self, now: Instant) -> Result<(), UaError> {
        self.reg.want = Some(Want::Unregister);
        let r = self.send_register(now);
        self.pump(now);
        r
    }

    /// Leave cleanly: hang up every call, remove the binding if we hold
    /// (or are getting) one, then close the link once that is answered
    /// (or at once when there is nothing to remove).
    pub fn shutdown(&mut self, now: Instant) -> Result<(), UaError> {
        let ids: Vec<CallId> = self.calls.iter().map(|c| c.id).collect();
        for id in ids {
            let _ = self.hangup(now, id);
        }
        let holds =
            self.reg.bound.is_some() || matches!(self.reg.in_flight, Some((_, Want::Register)));
        if holds && self.link.state() != LinkState::Idle {
            self.reg.close_after = true;
            self.unregister(now)
        } else {
            self.reg.want = Some(Want::Unregister);
            self.link.close(now);
            self.pump(now);
            Ok(())
        }
    }

    fn send_register(&mut self, now: Instant) -> Result<(), UaError> {
        if self.reg.in_flight.is_some() {
            self.reg.pending = true;
            return Ok(());
        }
        self.reg.pending = false;
        let want = self.reg.want.unwrap_or(Want::Register);
        let via = self.local.via(&mut self.rng);
        let mut req = self.reg.build(&self.config, &self.local, via, want)?;
        if let Some(auth) = &mut self.auth {
            for h in auth.authorize("REGISTER", &self.config.registrar, b"") {
                req.push_header(h.name, h.value)?;
            }
        }
        let id = self.start_client(now, req, Purpose::Register, None)?;
        self.reg.in_flight = Some((id, want));
        Ok(())
    }

    // ----- calls -----

    fn alloc_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Call `target` (a SIP URI or name-addr) with our SDP offer. Events
    /// follow: [`UaEvent::CallProgress`], [`UaEvent::CallAnswered`] or
    /// [`UaEvent::CallEnded`].
    pub fn call(&mut self, now: Instant, target: &str, sdp: &[u8]) -> Result<CallId, UaError> {
        let uri = uri_of(target);
        if Uri::parse(uri).is_err() {
            return Err(UaError::BadTarget(target.to_owned()));
        }
        let id = CallId(self.alloc_id());
        let tag = request::token(&mut self.rng, 10);
        let call_id = format!("{}@{}", request::token(&mut self.rng, 20), self.local.host);
        let via = self.local.via(&mut self.rng);
        let contact = self.local.contact();
        let extra = [
            (HeaderName::Allow, ALLOW.to_owned()),
            (HeaderName::Supported, "outbound".to_owned()),
        ];
        let invite = NewRequest {
            method: "INVITE",
            uri,
            from: &self.config.local_identity(),
            from_tag: &tag,
            to: &name_addr(target),
            call_id: &call_id,
            cseq: 1,
            via,
            contact: Some(&contact),
            user_agent: self.config.user_agent.as_deref(),
            extra: &extra,
            content_type: (!sdp.is_empty()).then_some("application/sdp"),
            body: sdp,
        }
        .build()?;
        let txn = self.start_client(now, invite.clone(), Purpose::Invite(id), None)?;
        let mut call = Call::new(id, Direction::Outgoing, tag, sdp.to_vec());
        call.invite = Some(invite);
        call.invite_txn = Some(txn);
        self.calls.push(call);
        self.pump(now);
        Ok(id)
    }

    /// Answer an incoming call: a provisional status (180, 183; `sdp` as
    /// early media), a 2xx with our SDP answer (retransmitted until the
    /// ACK), or a final error (486, 603, …) that rejects it.
    pub fn answer(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        sdp: Option<&[u8]>,
    ) -> Result<(), UaError> {
        if !(101..=699).contains(&status) {
            return Err(UaError::BadStatus(status));
        }
        let contact = self.local.contact();
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        if c.direction != Direction::Incoming
            || !matches!(c.state, CallState::Calling | CallState::Ringing)
        {
            return Err(UaError::InvalidState(
                "answer needs an unanswered incoming call",
            ));
        }
        let (Some(request), Some(txn)) = (c.request.clone(), c.invite_txn) else {
            return Err(UaError::InvalidState("no INVITE to answer"));
        };
        let mut b = ResponseBuilder::reply_to_owned(&request, status).to_tag(c.local_tag.as_str());
        if status < 300 {
            // RFC 3261 §12.1.1: Record-Route copied into dialog-creating
            // responses.
            for rr in request.headers_named(HeaderName::RecordRoute) {
                b = b.header(HeaderName::RecordRoute, rr);
            }
            b = b.header(HeaderName::Contact, contact.as_str());
        }
        if (200..300).contains(&status) {
            b = b
                .header(HeaderName::Allow, ALLOW)
                .header(HeaderName::Supported, "outbound");
        }
        if let Some(sdp) = sdp.filter(|s| !s.is_empty()) {
            b = b
                .header(HeaderName::ContentType, "application/sdp")
                .body(sdp.to_vec());
        }
        let response = b.build()?;
        self.txn.send_response(now, txn, &response)?;
        let t1 = self.config.txn.timers.t1;
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        match status {
            101..=199 => c.state = CallState::Ringing,
            200..=299 => {
                let parsed = request.to_bytes();
                let dialog = Message::parse(&parsed, &crate::message::Limits::default())
                    .ok()
                    .and_then(|m| Dialog::uas(&m, &c.local_tag));
                c.local_sdp = sdp.unwrap_or_default().to_vec();
                c.state = CallState::Answered;
                c.ok = Some(response);
                c.retransmit = Some(Retransmit::start(now, t1));
                if let Some(d) = &dialog {
                    self.router.register_dialog(d.id());
                }
                if let Some(c) = self.call_mut(call) {
                    c.dialog = dialog;
                }
            }
            _ => self.end_call(call, CallEndReason::Declined { status }),
        }
        self.pump(now);
        Ok(())
    }

    /// Hang up: CANCEL (or decline) a call not answered yet, BYE an
    /// answered one. [`UaEvent::CallEnded`] follows.
    pub fn hangup(&mut self, now: Instant, call: CallId) -> Result<(), UaError> {
        let c = self.find_call(call).ok_or(UaError::UnknownCall(call))?;
        match (c.direction, c.state) {
            (_, CallState::Ending) => Ok(()),
            (Direction::Outgoing, CallState::Calling | CallState::Ringing) => {
                self.cancel(now, call)
            }
            (Direction::Incoming, CallState::Calling | CallState::Ringing) => {
                self.answer(now, call, 603, None)
            }
            (_, CallState::Answered | CallState::Confirmed) => {
                let r = self.send_bye(now, call);
                self.pump(now);
                r
            }
        }
    }

    /// Cancel our unanswered INVITE (RFC 3261 §9.1): the CANCEL goes out
    /// once a provisional response has arrived; if a 2xx wins the race the
    /// call is ACKed and ended with BYE.
    pub fn cancel(&mut self, now: Instant, call: CallId) -> Result<(), UaError> {
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        if c.direction != Direction::Outgoing
            || !matches!(c.state, CallState::Calling | CallState::Ringing)
        {
            return Err(UaError::InvalidState(
                "cancel needs an unanswered outgoing call",
            ));
        }
        c.cancel_pending = true;
        if c.provisional {
            self.send_cancel(now, call)?;
        }
        self.pump(now);
        Ok(())
    }

    /// Send a re-INVITE in an established call with our Contact and `sdp`
    /// (or the last SDP we sent).
    pub fn reinvite(
        &mut self,
        now: Instant,
        call: CallId,
        sdp: Option<&[u8]>,
    ) -> Result<(), UaError> {
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        if c.state != CallState::Confirmed || c.dialog.is_none() {
            return Err(UaError::InvalidState("re-INVITE needs a confirmed call"));
        }
        if let Some(sdp) = sdp {
            c.local_sdp = sdp.to_vec();
        }
        if c.reinvite.is_some() {
            c.reinvite_pending = true;
            return Ok(());
        }
        let r = self.send_reinvite(now, call);
        self.pump(now);
        r
    }

    fn send_reinvite(&mut self, now: Instant, call: CallId) -> Result<(), UaError> {
        let via = self.local.via(&mut self.rng);
        let contact = self.local.contact();
        let ua = self.config.user_agent.clone();
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        let d = c
            .dialog
            .as_mut()
            .ok_or(UaError::InvalidState("no dialog"))?;
        let mut b = d
            .next_request("INVITE", &via)
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Allow, ALLOW);
        if let Some(ua) = ua {
            b = b.header(HeaderName::UserAgent, ua);
        }
        if !c.local_sdp.is_empty() {
            b = b
                .header(HeaderName::ContentType, "application/sdp")
                .body(c.local_sdp.clone());
        }
        let req = b.build()?;
        c.reinvite_pending = false;
        c.reinvite_at = None;
        let txn = self.start_client(now, req.clone(), Purpose::Reinvite(call), Some(call))?;
        if let Some(c) = self.call_mut(call) {
            c.reinvite = Some((txn, req));
        }
        Ok(())
    }

    fn send_bye(&mut self, now: Instant, call: CallId) -> Result<(), UaError> {
        let via = self.local.via(&mut self.rng);
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        let d = c
            .dialog
            .as_mut()
            .ok_or(UaError::InvalidState("no dialog"))?;
        let bye = d.next_request("BYE", &via).build()?;
        c.state = CallState::Ending;
        c.retransmit = None;
        self.start_client(now, bye, Purpose::Bye(call), Some(call))?;
        Ok(())
    }

    fn send_cancel(&mut self, now: Instant, call: CallId) -> Result<(), UaError> {
        let c = self.call_mut(call).ok_or(UaError::UnknownCall(call))?;
        let invite = c
            .invite
            .as_ref()
            .ok_or(UaError::InvalidState("no INVITE"))?;
        let cancel = crate::txn::cancel::build_cancel(invite)?;
        c.cancelled = true;
        c.cancel_pending = false;
        c.state = CallState::Ending;
        self.start_client(now, cancel, Purpose::Cancel(call), None)?;
        Ok(())
    }

    // ----- other requests -----

    /// Send `method` to `target` (in a call's dialog or out of dialog to a
    /// URI) with extra headers and a body; the final response comes as
    /// [`UaEvent::ResponseReceived`].
    pub fn request(
        &mut self,
        now: Instant,
        target: &Target,
        method: &str,
        headers: &[(HeaderName, String)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<RequestId, UaError> {
        if matches!(method, "INVITE" | "ACK" | "CANCEL" | "BYE" | "REGISTER") {
            return Err(UaError::InvalidState(
                "use call/answer/hangup/register for this method",
            ));
        }
        let rid = RequestId(self.alloc_id());
        let via = self.local.via(&mut self.rng);
        let (req, call) = match target {
            Target::Call(call) => {
                let ua = self.config.user_agent.clone();
                let c = self.call_mut(*call).ok_or(UaError::UnknownCall(*call))?;
                let d = c
                    .dialog
                    .as_mut()
                    .ok_or(UaError::InvalidState("the call has no dialog yet"))?;
                let mut b = d.next_request(method, &via);
                for (n, v) in headers {
                    b = b.header(*n, v.as_str());
                }
                if let Some(ua) = ua {
                    b = b.header(HeaderName::UserAgent, ua);
                }
                if let Some(ct) = content_type {
                    b = b.header(HeaderName::ContentType, ct);
                }
                (b.body(body.to_vec()).build()?, Some(*call))
            }
            Target::Uri(target) => {
                let uri = uri_of(target);
                if Uri::parse(uri).is_err() {
                    return Err(UaError::BadTarget(target.clone()));
                }
                let tag = request::token(&mut self.rng, 10);
                let call_id = format!("{}@{}", request::token(&mut self.rng, 20), self.local.host);
                let req = NewRequest {
                    method,
                    uri,
                    from: &self.config.local_identity(),
                    from_tag: &tag,
                    to: &name_addr(target),
                    call_id: &call_id,
                    cseq: 1,
                    via,
                    contact: None,
                    user_agent: self.config.user_agent.as_deref(),
                    extra: headers,
                    content_type,
                    body,
                }
                .build()?;
                (req, None)
            }
        };
        self.start_client(now, req, Purpose::Request(rid), call)?;
        self.pump(now);
        Ok(rid)
    }

    /// INFO (RFC 6086) to `target`.
    pub fn info(
        &mut self,
        now: Instant,
        target: &Target,
        content_type: &str,
        body: &[u8],
    ) -> Result<RequestId, UaError> {
        self.request(now, target, "INFO", &[], Some(content_type), body)
    }

    /// NOTIFY (RFC 6665) for `event` (the `Event` value) with
    /// `Subscription-State: active`.
    pub fn notify(
        &mut self,
        now: Instant,
        target: &Target,
        event: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<RequestId, UaError> {
        let headers = [
            (HeaderName::Event, event.to_owned()),
            (HeaderName::SubscriptionState, "active".to_owned()),
        ];
        self.request(now, target, "NOTIFY", &headers, Some(content_type), body)
    }

    /// MESSAGE (RFC 3428) to `target`.
    pub fn message(
        &mut self,
        now: Instant,
        target: &Target,
        content_type: &str,
        body: &[u8],
    ) -> Result<RequestId, UaError> {
        self.request(now, target, "MESSAGE", &[], Some(content_type), body)
    }

    /// OPTIONS to `target`.
    pub fn options(&mut self, now: Instant, target: &Target) -> Result<RequestId, UaError> {
        let headers = [(HeaderName::Accept, "application/sdp".to_owned())];
        self.request(now, target, "OPTIONS", &headers, None, b"")
    }

    /// Answer a request an application rule took ([`UaEvent::IncomingRequest`]
    /// with `answered: false`): a final status with optional body.
    pub fn respond(
        &mut self,
        now: Instant,
        txn: TxnId,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), UaError> {
        if !(200..=699).contains(&status) {
            return Err(UaError::BadStatus(status));
        }
        let at = self
            .pending_in
            .iter()
            .position(|(id, _)| *id == txn)
            .ok_or(UaError::Txn(crate::txn::TxnError::UnknownTransaction))?;
        let (_, request) = self.pending_in.remove(at);
        let tag = request::token(&mut self.rng, 10);
        let mut b = ResponseBuilder::reply_to_owned(&request, status).to_tag(tag);
        if status == 405 {
            b = b.header(HeaderName::Allow, ALLOW);
        }
        if let Some(ct) = content_type {
            b = b.header(HeaderName::ContentType, ct).body(body.to_vec());
        }
        let response = b.build()?;
        self.txn.send_response(now, txn, &response)?;
        self.pump(now);
        Ok(())
    }

    // ----- driver inputs -----

    /// The WebSocket opened with `negotiated_protocol` (see
    /// [`Link::handle_open`]).
    pub fn handle_open(&mut self, now: Instant, negotiated_protocol: Option<&str>) {
        self.link.handle_open(now, negotiated_protocol);
        self.pump(now);
    }

    /// An inbound WebSocket message (see [`Link::handle_frame`]).
    pub fn handle_frame(&mut self, now: Instant, data: &[u8], opcode: Opcode) {
        self.link.handle_frame(now, data, opcode);
        self.pump(now);
    }

    /// A WebSocket Pong arrived (see [`Link::handle_ws_pong`]).
    pub fn handle_ws_pong(&mut self, now: Instant) {
        self.link.handle_ws_pong(now);
        self.pump(now);
    }

    /// The connection ended (see [`Link::handle_closed`]).
    pub fn handle_closed(&mut self, now: Instant, info: CloseInfo) {
        self.link.handle_closed(now, info);
        self.pump(now);
    }

    /// A connection attempt failed (see [`Link::handle_connect_failed`]).
    pub fn handle_connect_failed(&mut self, now: Instant, why: ConnectError) {
        self.link.handle_connect_failed(now, why);
        self.pump(now);
    }

    /// The network changed (see [`Link::handle_network_change`]).
    pub fn handle_network_change(&mut self, now: Instant) {
        self.link.handle_network_change(now);
        self.pump(now);
    }

    /// Fire every timer due at `now`; safe to call early or twice.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.link.handle_timeout(now);
        self.txn.handle_timeout(now);
        if self.reg.timeout().is_some_and(|t| t <= now) {
            let _ = self.send_register(now);
        }
        self.call_timers(now);
        self.pump(now);
    }

    // ----- outputs -----

    /// The next command for the socket.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.link.poll_transmit()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<UaEvent> {
        self.events.pop_front()
    }

    /// The earliest deadline: link, transactions, registration refresh,
    /// 2xx retransmissions.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.link.poll_timeout(),
            self.txn.poll_timeout(),
            self.reg.timeout(),
        ]
        .into_iter()
        .chain(self.calls.iter().map(Call::timeout))
        .flatten()
        .min()
    }

    // ----- internals -----

    /// Move transaction output to the link and link news to the core until
    /// both are quiet.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut busy = false;
            while let Some(t) = self.txn.poll_transmit() {
                busy = true;
                self.send_frame(now, t.data, Some(t.txn));
            }
            while let Some(e) = self.txn.poll_event() {
                busy = true;
                self.on_txn_event(now, e);
            }
            while let Some(e) = self.link.poll_event() {
                busy = true;
                self.on_link_event(now, e);
            }
            if !busy {
                break;
            }
        }
    }

    fn send_frame(&mut self, now: Instant, data: Vec<u8>, txn: Option<TxnId>) {
        if self.link.state() == LinkState::Idle {
            self.link.connect(now);
        }
        if let Err(e) = self.link.send(now, data, Opcode::Text) {
            if let Some(id) = txn {
                self.txn.handle_send_failure(now, id, &e.to_string());
            }
        }
    }

    fn start_client(
        &mut self,
        now: Instant,
        request: OwnedMessage,
        purpose: Purpose,
        call: Option<CallId>,
    ) -> Result<TxnId, UaError> {
        let branch = request::branch_of(&request).unwrap_or_default();
        let txn = self.txn.send_request(now, request.clone())?;
        self.sent.push(Sent {
            txn,
            purpose,
            call,
            request,
            branch,
        });
        // Hand the bytes to the link now, so a send failure is seen here.
        while let Some(t) = self.txn.poll_transmit() {
            self.send_frame(now, t.data, Some(t.txn));
        }
        Ok(txn)
    }

    fn on_link_event(&mut self, now: Instant, e: LinkEvent) {
        match e {
            LinkEvent::Frame { data, .. } => {
                self.on_frame(now, &data);
                return;
            }
            LinkEvent::Disconnected { ref reason } => {
                self.txn.handle_link_down(now, &reason.to_string());
                // The binding lived on that flow.
                self.reg.bound = None;
            }
            LinkEvent::Failed { ref reason } => {
                self.txn.handle_link_down(now, &reason.to_string());
                self.reg.bound = None;
            }
            LinkEvent::SendFailed {
                ref data,
                ref reason,
                ..
            } => {
                let branch = Message::parse(data, self.router.limits())
                    .ok()
                    .and_then(|m| {
                        m.header(HeaderName::Via)
                            .and_then(crate::txn::top_via)
                            .and_then(|v| v.branch.map(str::to_owned))
                    });
                if let Some(s) = branch.and_then(|b| self.sent.iter().find(|s| s.branch == b)) {
                    let id = s.txn;
                    self.txn.handle_send_failure(now, id, &reason.to_string());
                }
            }
            _ => {}
        }
        let reconnected = matches!(e, LinkEvent::Reconnected { .. });
        let connected = matches!(e, LinkEvent::Connected { .. });
        let probe = matches!(e, LinkEvent::ProbeRequested);
        self.events.push_back(UaEvent::Link(e));
        if reconnected || connected {
            self.on_new_flow(now, reconnected);
        }
        if probe {
            self.send_probe(now);
        }
    }

    /// A connection opened: re-register if we want a binding and none is
    /// on its way; after a reconnect, re-INVITE established calls.
    fn on_new_flow(&mut self, now: Instant, reconnected: bool) {
        if self.reg.want == Some(Want::Register) && self.reg.in_flight.is_none() {
            let _ = self.send_register(now);
        }
        if !reconnected {
            return;
        }
        let ids: Vec<CallId> = self
            .calls
            .iter()
            .filter(|c| c.state == CallState::Confirmed && c.dialog.is_some())
            .map(|c| c.id)
            .collect();
        for id in ids {
            let busy = self.find_call(id).is_some_and(|c| c.reinvite.is_some());
            if busy {
                if let Some(c) = self.call_mut(id) {
                    c.reinvite_pending = true;
                }
            } else {
                let _ = self.send_reinvite(now, id);
            }
        }
    }

    fn send_probe(&mut self, now: Instant) {
        if self.sent.iter().any(|s| s.purpose == Purpose::Probe) {
            return;
        }
        let tag = request::token(&mut self.rng, 10);
        let call_id = format!("{}@{}", request::token(&mut self.rng, 20), self.local.host);
        let via = self.local.via(&mut self.rng);
        let registrar = self.config.registrar.clone();
        let req = NewRequest {
            method: "OPTIONS",
            uri: &registrar,
            from: &self.config.local_identity(),
            from_tag: &tag,
            to: &name_addr(&registrar),
            call_id: &call_id,
            cseq: 1,
            via,
            contact: None,
            user_agent: self.config.user_agent.as_deref(),
            extra: &[],
            content_type: None,
            body: &[],
        }
        .build();
        if let Ok(req) = req {
            let _ = self.start_client(now, req, Purpose::Probe, None);
        }
    }

    fn on_txn_event(&mut self, now: Instant, e: TxnEvent) {
        let TxnEvent::Terminated { id, reason, .. } = e;
        self.pending_in.retain(|(t, _)| *t != id);
        if let Some(at) = self.sent.iter().position(|s| s.txn == id) {
            let sent = self.sent.remove(at);
            let (status, phrase) = match &reason {
                TerminationReason::Timeout(_) => (408, "Request Timeout".to_owned()),
                other => (503, format!("Service Unavailable ({other})")),
            };
            let transport = !matches!(reason, TerminationReason::Timeout(_));
            self.on_final(now, sent, status, &phrase, None, None, transport);
            return;
        }
        // No 2xx goes out without its transaction.
        for c in &mut self.calls {
            if c.invite_txn == Some(id) {
                c.retransmit = None;
            }
        }
        // Our 2xx was never ACKed (Timer L): end the dialog with BYE.
        if reason == TerminationReason::Timeout(crate::txn::Timer::L) {
            let unacked = self
                .calls
                .iter()
                .find(|c| c.invite_txn == Some(id) && c.state == CallState::Answered)
                .map(|c| c.id);
            if let Some(call) = unacked {
                let _ = self.send_bye(now, call);
                self.end_call(call, CallEndReason::NoAck);
            }
            return;
        }
        // An incoming INVITE we had not answered lost its transaction.
        if let TerminationReason::Transport(r) = &reason {
            let lost: Vec<CallId> = self
                .calls
                .iter()
                .filter(|c| {
                    c.invite_txn == Some(id)
                        && c.direction == Direction::Incoming
                        && matches!(c.state, CallState::Calling | CallState::Ringing)
                })
                .map(|c| c.id)
                .collect();
            for c in lost {
                self.end_call(c, CallEndReason::Transport(r.clone()));
            }
        }
    }

    fn on_frame(&mut self, now: Instant, data: &[u8]) {
        let (key, malformed) = match self.router.route(data) {
            Route::Handled { key, .. } => (Some(*key), None),
            Route::Malformed { error, .. } => (None, Some(error)),
            _ => (None, None),
        };
        if let Some(error) = malformed {
            self.events.push_back(UaEvent::Discarded {
                reason: format!("malformed frame: {error}"),
                error: Some(error),
            });
            return;
        }
        let limits = *self.router.limits();
        let msg = match Message::parse(data, &limits) {
            Ok(m) => m,
            Err(error) => {
                self.events.push_back(UaEvent::Discarded {
                    reason: format!("unparsable message: {error}"),
                    error: Some(error),
                });
                return;
            }
        };
        let app = match key {
            Some(RouteKey::App(k)) => {
                if !msg.is_request() {
                    self.events.push_back(UaEvent::Routed {
                        rule: k,
                        data: data.to_vec(),
                    });
                }
                Some(k)
            }
            _ => None,
        };
        match self.txn.handle_message(now, &msg) {
            Ok(Incoming::Request { id }) => self.on_request(now, id, &msg, app),
            Ok(Incoming::Ack { .. }) => self.on_ack(now, &msg),
            Ok(Incoming::Response { id, status }) => self.on_response(now, id, status, &msg),
            Ok(Incoming::StrayResponse) => {
                self.reack(now, &msg);
            }
            Ok(_) => {}
            Err(e) => self.events.push_back(UaEvent::Discarded {
                reason: format!("no transaction for it: {e}"),
                error: None::<ParseError>,
            }),
        }
    }

    /// A 2xx to an INVITE we already ACKed came again: ACK it again.
    /// Returns whether it was one.
    fn reack(&mut self, now: Instant, msg: &Message<'_>) -> bool {
        let is_2xx_invite = msg.status().is_some_and(|s| (200..300).contains(&s))
            && msg.cseq().is_some_and(|c| c.method == "INVITE");
        if !is_2xx_invite {
            return false;
        }
        let seq = msg.cseq().map_or(0, |c| c.seq);
        let limits = *self.router.limits();
        let ack = self.calls.iter().find_map(|c| {
            let d = c.dialog.as_ref()?;
            let ack = c.ack.as_ref()?;
            let ack_seq = Message::parse(ack, &limits).ok()?.cseq()?.seq;
            (d.matches(msg) && ack_seq == seq).then(|| ack.clone())
        });
        if let Some(ack) = ack {
            self.send_frame(now, ack, None);
            return true;
        }
        self.end_fork(now, msg, seq)
    }

    /// A 2xx from another fork of our INVITE (RFC 3261 §13.2.2.4): that
    /// dialog is ACKed and ended with BYE at once; its retransmissions are
    /// ACKed again.
    fn end_fork(&mut self, now: Instant, msg: &Message<'_>, seq: u32) -> bool {
        let (Some(call_id), Some(from_tag), Some(to_tag)) = (
            msg.call_id(),
            msg.from().and_then(|f| f.tag()),
            msg.to().and_then(|t| t.tag()),
        ) else {
            return false;
        };
        let via = self.local.via(&mut self.rng);
        let bye_via = self.local.via(&mut self.rng);
        let Some(c) = self.calls.iter_mut().find(|c| {
            c.direction == Direction::Outgoing
                && c.invite.as_ref().is_some_and(|i| {
                    i.header(HeaderName::CallId) == Some(call_id) && cseq_of(i) == seq
                })
                && c.dialog
                    .as_ref()
                    .is_some_and(|d| d.local_tag == from_tag && d.remote_tag != to_tag)
        }) else {
            return false;
        };
        if let Some((_, ack)) = c.forks.iter().find(|(tag, _)| tag == to_tag) {
            let ack = ack.clone();
            self.send_frame(now, ack, None);
            return true;
        }
        let Some(mut fork) = c.invite.as_ref().and_then(|i| Dialog::uac(i, msg)) else {
            return false;
        };
        let Ok(ack) = fork.ack(seq, &via).map(|a| a.to_bytes()) else {
            return false;
        };
        c.forks.push((to_tag.to_owned(), ack.clone()));
        let bye = fork.next_request("BYE", &bye_via).build();
        self.send_frame(now, ack, None);
        if let Ok(bye) = bye {
            let _ = self.txn.send_request(now, bye);
        }
        true
    }

    fn on_response(&mut self, now: Instant, id: TxnId, status: u16, msg: &Message<'_>) {
        let Some(at) = self.sent.iter().position(|s| s.txn == id) else {
            self.reack(now, msg);
            return;
        };
        if status < 200 {
            if let Purpose::Invite(call) = self.sent[at].purpose {
                self.on_invite_provisional(now, call, status, msg);
            }
            return;
        }
        let sent = self.sent.remove(at);
        let challenge = matches!(status, 401 | 407)
            && !matches!(sent.purpose, Purpose::Cancel(_) | Purpose::Probe);
        let mut auth_error = None;
        if challenge {
            match self.auth.as_mut().map(|a| a.handle_message(msg)) {
                Some(Ok(AuthOutcome::Retry)) => {
                    if self.retry_with_credentials(now, &sent).is_ok() {
                        return;
                    }
                }
                Some(Ok(AuthOutcome::NotChallenged)) => {}
                Some(Err(e)) => auth_error = Some(e.to_string()),
                None => auth_error = Some("no credentials configured".to_owned()),
            }
        } else if let Some(a) = self.auth.as_mut() {
            // Ends the chain; adopts an Authentication-Info nextnonce.
            let _ = a.handle_message(msg);
        }
        let phrase = msg.reason().unwrap_or("").to_owned();
        self.on_final(now, sent, status, &phrase, Some(msg), auth_error, false);
    }

    /// Send `sent` again with credentials (RFC 3261 §22.2): new branch,
    /// CSeq + 1.
    fn retry_with_credentials(&mut self, now: Instant, sent: &Sent) -> Result<(), UaError> {
        let method = sent.request.method().unwrap_or("").to_owned();
        let uri = sent.request.uri().unwrap_or("").to_owned();
        let creds = match self.auth.as_mut() {
            Some(a) => a.authorize(&method, &uri, sent.request.body()),
            None => return Err(UaError::InvalidState("no credentials")),
        };
        let seq = match (sent.purpose, sent.call) {
            (Purpose::Register, _) => {
                self.reg.cseq = self.reg.cseq.wrapping_add(1).max(1);
                self.reg.cseq
            }
            (_, Some(call)) => {
                let d = self
                    .call_mut(call)
                    .and_then(|c| c.dialog.as_mut())
                    .ok_or(UaError::UnknownCall(call))?;
                d.local_cseq = d.local_cseq.wrapping_add(1).max(1);
                d.local_cseq
            }
            _ => cseq_of(&sent.request).wrapping_add(1),
        };
        let via = self.local.via(&mut self.rng);
        let req = request::with_credentials(&sent.request, via, seq, &creds)?;
        let txn = self.start_client(now, req.clone(), sent.purpose, sent.call)?;
        match sent.purpose {
            Purpose::Register => {
                if let Some((_, want)) = self.reg.in_flight {
                    self.reg.in_flight = Some((txn, want));
                }
            }
            Purpose::Invite(call) => {
                if let Some(c) = self.call_mut(call) {
                    c.invite = Some(req);
                    c.invite_txn = Some(txn);
                    c.provisional = false;
                }
            }
            Purpose::Reinvite(call) => {
                if let Some(c) = self.call_mut(call) {
                    c.reinvite = Some((txn, req));
                }
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn on_final(
        &mut self,
        now: Instant,
        sent: Sent,
        status: u16,
        phrase: &str,
        msg: Option<&Message<'_>>,
        auth_error: Option<String>,
        transport: bool,
    ) {
        let reason = auth_error.clone().unwrap_or_else(|| phrase.to_owned());
        match sent.purpose {
            Purpose::Register => self.on_register_final(now, sent.txn, status, reason, msg),
            Purpose::Invite(call) => {
                self.on_invite_final(now, call, status, phrase, msg, auth_error, transport);
            }
            Purpose::Reinvite(call) => self.on_reinvite_final(now, call, status, phrase, msg),
            Purpose::Cancel(_) => {}
            Purpose::Bye(call) => self.end_call(call, CallEndReason::LocalHangup),
            Purpose::Request(request) => self.events.push_back(UaEvent::ResponseReceived {
                request,
                status,
                reason,
                message: msg.and_then(|m| OwnedMessage::try_from(m).ok()),
            }),
            Purpose::Probe => {
                if msg.is_some() {
                    self.link.handle_probe_answered(now);
                }
            }
        }
    }

    fn on_register_final(
        &mut self,
        now: Instant,
        txn: TxnId,
        status: u16,
        reason: String,
        msg: Option<&Message<'_>>,
    ) {
        let Some((id, kind)) = self.reg.in_flight else {
            return;
        };
        if id != txn {
            return;
        }
        self.reg.in_flight = None;
        let mut succeeded = false;
        match (status, kind, msg) {
            (200..=299, Want::Unregister, _) => {
                self.reg.bound = None;
                succeeded = true;
                self.events.push_back(UaEvent::Unregistered);
            }
            (200..=299, Want::Register, Some(m)) => {
                let (expires, bindings) = registration::granted(m, &self.local, self.reg.expires);
                if expires == 0 {
                    self.reg.bound = None;
                    self.events.push_back(UaEvent::RegistrationFailed {
                        status,
                        reason: "registrar kept no binding for our Contact".to_owned(),
                    });
                } else {
                    let delay = registration::refresh_delay(
                        expires,
                        self.config.refresh_margin,
                        self.config.refresh_jitter_permille,
                        &mut self.rng,
                    );
                    let life = core::time::Duration::from_secs(u64::from(expires));
                    self.reg.bound = Some((now + life, now + delay));
                    succeeded = true;
                    self.events.push_back(UaEvent::Registered {
                        expires: life,
                        bindings,
                    });
                }
            }
            (423, Want::Register, Some(m))
                if m.min_expires().is_some_and(|e| e > self.reg.expires) =>
            {
                self.reg.expires = m.min_expires().unwrap_or(self.reg.expires);
                self.reg.pending = true;
            }
            _ => {
                self.reg.bound = None;
                self.events
                    .push_back(UaEvent::RegistrationFailed { status, reason });
            }
        }
        let closing = kind == Want::Unregister && self.reg.close_after;
        if succeeded && self.reg.pending && self.reg.want == Some(kind) {
            self.reg.pending = false;
        }
        if closing && !self.reg.pending {
            self.reg.close_after = false;
            self.link.close(now);
            return;
        }
        if self.reg.pending {
            let _ = self.send_register(now);
        }
    }

    fn on_invite_provisional(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        msg: &Message<'_>,
    ) {
        let Some(c) = self.call_mut(call) else {
            return;
        };
        c.provisional = true;
        if c.state == CallState::Calling {
            c.state = CallState::Ringing;
        }
        let cancel = c.cancel_pending && !c.cancelled;
        self.events.push_back(UaEvent::CallProgress {
            call,
            status,
            reason: msg.reason().unwrap_or("").to_owned(),
            sdp: msg.body().to_vec(),
        });
        if cancel {
            let _ = self.send_cancel(now, call);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_invite_final(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        phrase: &str,
        msg: Option<&Message<'_>>,
        auth_error: Option<String>,
        transport: bool,
    ) {
        let Some(c) = self.find_call(call) else {
            return;
        };
        let cancelled = c.cancelled || c.cancel_pending;
        if let (200..=299, Some(m)) = (status, msg) {
            let Some(dialog) = c.invite.as_ref().and_then(|i| Dialog::uac(i, m)) else {
                self.end_call(
                    call,
                    CallEndReason::Rejected {
                        status,
                        reason: "2xx without To tag or Contact".to_owned(),
                    },
                );
                return;
            };
            let seq = m.cseq().map_or(1, |c| c.seq);
            let via = self.local.via(&mut self.rng);
            let ack = dialog
                .ack(seq, &via)
                .map(|a| a.to_bytes())
                .unwrap_or_default();
            self.router.register_dialog(dialog.id());
            let sdp = m.body().to_vec();
            if let Some(c) = self.call_mut(call) {
                c.dialog = Some(dialog);
                c.ack = Some(ack.clone());
                c.state = CallState::Confirmed;
            }
            self.send_frame(now, ack, None);
            if cancelled {
                // The 2xx won the race with our CANCEL: end it with BYE.
                let _ = self.send_bye(now, call);
            } else {
                self.events.push_back(UaEvent::CallAnswered { call, sdp });
            }
            return;
        }
        let reason = if let Some(e) = auth_error {
            CallEndReason::Auth(e)
        } else if cancelled && (status == 487 || msg.is_none()) {
            CallEndReason::Cancelled
        } else if msg.is_none() && transport {
            CallEndReason::Transport(phrase.to_owned())
        } else if msg.is_none() {
            CallEndReason::Timeout
        } else {
            CallEndReason::Rejected {
                status,
                reason: phrase.to_owned(),
            }
        };
        self.end_call(call, reason);
    }

    fn on_reinvite_final(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        phrase: &str,
        msg: Option<&Message<'_>>,
    ) {
        let via = self.local.via(&mut self.rng);
        let Some(c) = self.call_mut(call) else {
            return;
        };
        let seq = c.reinvite.take().map_or(0, |(_, r)| cseq_of(&r));
        match (status, msg) {
            (200..=299, Some(m)) => {
                let Some(d) = c.dialog.as_mut() else {
                    return;
                };
                d.refresh_target(m);
                let ack = d.ack(seq, &via).map(|a| a.to_bytes()).unwrap_or_default();
                c.ack = Some(ack.clone());
                let pending = c.reinvite_pending;
                self.send_frame(now, ack, None);
                self.events.push_back(UaEvent::CallUpdated {
                    call,
                    sdp: m.body().to_vec(),
                });
                if pending {
                    let _ = self.send_reinvite(now, call);
                }
            }
            (408 | 481, _) => self.end_call(
                call,
                CallEndReason::Rejected {
                    status,
                    reason: phrase.to_owned(),
                },
            ),
            (491, _) => {
                // RFC 3261 §14.1: try again after 2.1–4 s when we own the
                // Call-ID (we placed the call), else after 0–2 s.
                let outgoing = c.direction == Direction::Outgoing;
                let (base, span) = if outgoing { (2_100, 1_900) } else { (0, 2_000) };
                let jitter = self.rng.next_u64() % (span + 1);
                if let Some(c) = self.call_mut(call) {
                    c.reinvite_at = Some(now + core::time::Duration::from_millis(base + jitter));
                }
            }
            _ => {
                if c.reinvite_pending {
                    let _ = self.send_reinvite(now, call);
                }
            }
        }
    }

    fn end_call(&mut self, call: CallId, reason: CallEndReason) {
        let Some(at) = self.calls.iter().position(|c| c.id == call) else {
            return;
        };
        let c = self.calls.remove(at);
        if let Some(d) = &c.dialog {
            self.router.unregister_dialog(&d.id());
        }
        self.events.push_back(UaEvent::CallEnded { call, reason });
    }

    /// Send due 2xx retransmissions (T1, 2·T1, … ≤ T2) through the INVITE
    /// server transaction; its Timer L bounds them.
    fn call_timers(&mut self, now: Instant) {
        let t2 = self.config.txn.timers.t2;
        let mut due = Vec::new();
        let mut retry = Vec::new();
        for c in &mut self.calls {
            if c.reinvite_at.is_some_and(|t| t <= now) {
                c.reinvite_at = None;
                retry.push(c.id);
            }
        }
        for call in retry {
            if self.find_call(call).is_some_and(|c| c.reinvite.is_none()) {
                let _ = self.send_reinvite(now, call);
            }
        }
        for c in &mut self.calls {
            let Some(r) = &mut c.retransmit else { continue };
            if r.next <= now {
                r.advance(now, t2);
                if let (Some(txn), Some(ok)) = (c.invite_txn, &c.ok) {
                    due.push((txn, ok.clone()));
                }
            }
        }
        for (txn, ok) in due {
            let _ = self.txn.send_response(now, txn, &ok);
        }
    }

    fn on_ack(&mut self, _now: Instant, msg: &Message<'_>) {
        let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.dialog.as_ref().is_some_and(|d| d.matches(msg)))
        else {
            return;
        };
        if c.state == CallState::Answered {
            c.state = CallState::Confirmed;
            c.retransmit = None;
            c.ok = None;
            let call = c.id;
            self.events.push_back(UaEvent::CallConfirmed { call });
        }
    }

    fn respond_to(
        &mut self,
        now: Instant,
        id: TxnId,
        msg: &Message<'_>,
        status: u16,
        extra: &[(HeaderName, &str)],
    ) {
        let tag = request::token(&mut self.rng, 10);
        if let Ok(r) = request::reply(msg, status, Some(&tag), extra) {
            let _ = self.txn.send_response(now, id, &r);
        }
    }

    fn on_request(&mut self, now: Instant, id: TxnId, msg: &Message<'_>, app: Option<u64>) {
        let method = msg.method().unwrap_or("");
        if method == "CANCEL" {
            self.on_cancel(now, id, msg);
            return;
        }
        let in_dialog = msg.to().and_then(|t| t.tag()).is_some();
        let call = self
            .calls
            .iter()
            .find(|c| c.dialog.as_ref().is_some_and(|d| d.matches(msg)))
            .map(|c| c.id);
        let app_takes = app.is_some() && !matches!(method, "INVITE" | "BYE");
        if !app_takes && !request::is_allowed(method) {
            self.respond_to(now, id, msg, 405, &[(HeaderName::Allow, ALLOW)]);
            return;
        }
        if in_dialog && call.is_none() && !app_takes {
            self.respond_to(now, id, msg, 481, &[]);
            return;
        }
        if let Some(call) = call {
            let seq = msg.cseq().map_or(0, |c| c.seq);
            let ok = self
                .call_mut(call)
                .and_then(|c| c.dialog.as_mut())
                .is_some_and(|d| d.accept_remote_cseq(seq));
            if !ok {
                self.respond_to(now, id, msg, 500, &[]);
                return;
            }
        }
        match (method, call) {
            ("INVITE", None) => self.on_invite(now, id, msg),
            ("INVITE", Some(call)) => self.on_reinvite(now, id, call, msg),
            ("BYE", Some(call)) => {
                self.respond_to(now, id, msg, 200, &[]);
                self.end_call(call, CallEndReason::RemoteHangup);
            }
            ("BYE", None) => self.respond_to(now, id, msg, 481, &[]),
            _ => {
                let Ok(message) = OwnedMessage::try_from(msg) else {
                    self.respond_to(now, id, msg, 400, &[]);
                    return;
                };
                let answered = app.is_none();
                if answered {
                    let extra: &[(HeaderName, &str)] = if method == "OPTIONS" {
                        &[
                            (HeaderName::Allow, ALLOW),
                            (HeaderName::Accept, "application/sdp"),
                        ]
                    } else {
                        &[]
                    };
                    self.respond_to(now, id, msg, 200, extra);
                } else {
                    self.pending_in.push((id, message.clone()));
                }
                self.events.push_back(UaEvent::IncomingRequest {
                    txn: id,
                    call,
                    rule: app,
                    answered,
                    message,
                });
            }
        }
    }

    fn on_invite(&mut self, now: Instant, id: TxnId, msg: &Message<'_>) {
        // Without a Contact and a From tag no dialog can be made (RFC 3261
        // §8.1.1.8, §12.1.1).
        let usable =
            dialog::contact_target(msg).is_some() && msg.from().and_then(|f| f.tag()).is_some();
        let request = match OwnedMessage::try_from(msg) {
            Ok(r) if usable => r,
            _ => {
                self.respond_to(now, id, msg, 400, &[]);
                return;
            }
        };
        let call = CallId(self.alloc_id());
        let tag = request::token(&mut self.rng, 10);
        let mut c = Call::new(call, Direction::Incoming, tag, Vec::new());
        c.invite_txn = Some(id);
        c.request = Some(request);
        self.calls.push(c);
        self.events.push_back(UaEvent::IncomingCall {
            call,
            from: msg.header(HeaderName::From).unwrap_or("").to_owned(),
            to: msg.header(HeaderName::To).unwrap_or("").to_owned(),
            sdp: msg.body().to_vec(),
        });
    }

    /// A re-INVITE from the peer: its Contact becomes the remote target and
    /// it gets `200 OK` with our current SDP.
    fn on_reinvite(&mut self, now: Instant, id: TxnId, call: CallId, msg: &Message<'_>) {
        let contact = self.local.contact();
        let glare = self
            .find_call(call)
            .is_some_and(|c| c.reinvite.is_some() || c.state == CallState::Answered);
        if glare {
            // RFC 3261 §14.2: our own offer is pending.
            self.respond_to(now, id, msg, 491, &[]);
            return;
        }
        let Some(c) = self.call_mut(call) else {
            return;
        };
        if let Some(d) = c.dialog.as_mut() {
            d.refresh_target(msg);
        }
        let mut b = ResponseBuilder::reply_to(msg, 200);
        for rr in msg.headers_named(HeaderName::RecordRoute) {
            b = b.header(HeaderName::RecordRoute, rr);
        }
        let mut b = b
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Allow, ALLOW);
        if !c.local_sdp.is_empty() {
            b = b
                .header(HeaderName::ContentType, "application/sdp")
                .body(c.local_sdp.clone());
        }
        if let Ok(r) = b.build() {
            let _ = self.txn.send_response(now, id, &r);
        }
        self.events.push_back(UaEvent::CallUpdated {
            call,
            sdp: msg.body().to_vec(),
        });
    }

    fn on_cancel(&mut self, now: Instant, id: TxnId, msg: &Message<'_>) {
        let invite = self.txn.invite_for_cancel(id);
        let found = self.calls.iter().find(|c| {
            c.direction == Direction::Incoming
                && invite.is_some()
                && c.invite_txn == invite
                && matches!(c.state, CallState::Calling | CallState::Ringing)
        });
        let Some(c) = found else {
            // RFC 3261 §9.2: a CANCEL for an INVITE already answered is
            // accepted and changes nothing; one matching no INVITE is 481.
            let status = if invite.is_some() { 200 } else { 481 };
            self.respond_to(now, id, msg, status, &[]);
            return;
        };
        let call = c.id;
        let terminated = c.request.as_ref().and_then(|r| {
            ResponseBuilder::reply_to_owned(r, 487)
                .to_tag(c.local_tag.as_str())
                .build()
                .ok()
        });
        let invite_txn = c.invite_txn;
        self.respond_to(now, id, msg, 200, &[]);
        if let (Some(r), Some(t)) = (terminated, invite_txn) {
            let _ = self.txn.send_response(now, t, &r);
        }
        self.end_call(call, CallEndReason::RemoteCancelled);
    }
}
