//! The tokio user agent: the sans-IO [`sipws_core::ua::UserAgent`]
//! (registration, calls, dialogs, INFO/NOTIFY/MESSAGE/OPTIONS) run by the
//! same task loop as a bare link, behind async methods.
//!
//! One task owns the core user agent, its socket and its one timer. The
//! [`UserAgent`] handle sends it commands; results come back through
//! per-request waiters (a `register()` resolves with the registrar's
//! answer, `message()` with the final response), per-call event channels
//! ([`Call`]) and one stream of every event with its time ([`UaEvents`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sipws::ua::{UserAgent, UserAgentConfig};
//!
//! let config = UserAgentConfig::new("ws://127.0.0.1:15080", "sip:alice@sipws.test")
//!     .with_credentials("alice", "sipws-secret");
//! let (ua, _events) = UserAgent::spawn(config)?;
//! ua.register().await?;
//! let mut call = ua.call("sip:bob@sipws.test", b"v=0\r\n").await?;
//! call.answered().await?;
//! call.info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n").await?;
//! call.hangup().await?;
//! ua.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! Application rules ([`UserAgent::add_rule`], [`UserAgent::on_request`])
//! sit in front of the user agent's default rules in its router: a request
//! a rule takes is not answered automatically; it arrives on the rule's
//! stream (answer it with [`UserAgent::respond`]) or goes to the rule's
//! callback, whose returned status is sent at once.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use sipws_core::link::{CloseInfo, ConnectError, LinkState, Opcode, Transmit, XorShift64};
use sipws_core::message::OwnedMessage;
use sipws_core::router::{Priority, Rule, RuleId, RuleParseError};
use sipws_core::time::Instant;
use sipws_core::txn::TxnId;
use sipws_core::ua::UserAgent as CoreUa;
use sipws_core::ua::{
    random_instance_id, CallEndReason, CallId, NewUaError, RegistrationState, RequestId, Target,
    UaConfig, UaError, UaEvent,
};
use tokio::sync::{mpsc, oneshot};

use crate::driver::{Driver, Machine};
use crate::handle::{random_seed, DriverConfig, StartError};
use crate::transport::{Transport, TransportError};

/// Everything needed to run one user agent: who it is (identity,
/// credentials, registration policy) and how it connects (servers,
/// keepalive, reconnect, TLS).
#[derive(Debug, Clone)]
pub struct UserAgentConfig {
    /// Identity, credentials, registrar, expiry.
    pub ua: UaConfig,
    /// Servers, keepalive and reconnect settings, socket and TLS settings.
    pub driver: DriverConfig,
    /// Report every SIP message sent or received (not keepalives) as
    /// [`UaStreamEvent::Message`] (default off: each message is then
    /// copied once more).
    pub trace_messages: bool,
}

impl UserAgentConfig {
    /// Defaults for one server URL and an address of record: the
    /// registrar is the AOR's domain, the instance id a fresh random UUID
    /// (set `ua.instance_id` to a stored one to keep the binding across
    /// runs).
    #[must_use]
    pub fn new(url: impl Into<String>, aor: impl Into<String>) -> Self {
        let aor = aor.into();
        let domain = aor
            .split_once('@')
            .map_or(aor.as_str(), |(_, d)| d)
            .split([';', '>', '?'])
            .next()
            .unwrap_or_default();
        let registrar = format!("sip:{domain}");
        let mut rng = XorShift64::new(random_seed());
        let instance = random_instance_id(&mut rng);
        UserAgentConfig {
            ua: UaConfig::new(aor.clone(), registrar, instance),
            driver: DriverConfig::new([url.into()]),
            trace_messages: false,
        }
    }

    /// Report every SIP message sent or received as
    /// [`UaStreamEvent::Message`] (for a SIP ladder or a trace file).
    #[must_use]
    pub fn with_message_trace(mut self) -> Self {
        self.trace_messages = true;
        self
    }

    /// Set the digest credentials.
    #[must_use]
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.ua = self.ua.with_credentials(username, password);
        self
    }
}

/// Why a user agent could not start (local misuse).
#[derive(Debug)]
#[non_exhaustive]
pub enum UaStartError {
    /// The identity or link configuration is invalid.
    Config(NewUaError),
    /// The TLS settings are unusable.
    Start(StartError),
}

impl fmt::Display for UaStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UaStartError::Config(e) => write!(f, "invalid user agent configuration: {e}"),
            UaStartError::Start(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for UaStartError {}

/// Why an operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaApiError {
    /// Local misuse reported by the core (unknown call, bad target, …).
    Ua(UaError),
    /// The registrar refused (status and reason; 408/503 when no answer
    /// came).
    Registration {
        /// Status code.
        status: u16,
        /// Reason phrase or why the challenge could not be answered.
        reason: String,
    },
    /// The call ended before the awaited step.
    CallEnded(CallEndReason),
    /// The user agent's task has stopped.
    Gone,
}

impl fmt::Display for UaApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UaApiError::Ua(e) => write!(f, "{e}"),
            UaApiError::Registration { status, reason } => {
                write!(f, "registration failed: {status} {reason}")
            }
            UaApiError::CallEnded(r) => write!(f, "call ended: {r}"),
            UaApiError::Gone => f.write_str("user agent task has stopped"),
        }
    }
}

impl std::error::Error for UaApiError {}

impl From<UaError> for UaApiError {
    fn from(e: UaError) -> Self {
        UaApiError::Ua(e)
    }
}

/// What the registrar granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The lifetime it granted.
    pub expires: Duration,
    /// Every binding it listed for the address of record.
    pub bindings: Vec<String>,
}

/// The final response to a request we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code (408 for no answer, 503 for a transport failure).
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// The response itself, when one arrived.
    pub message: Option<OwnedMessage>,
}

impl Response {
    /// A 2xx.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// One event of the user agent, with the time it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedUaEvent {
    /// Time since the user agent started.
    pub elapsed: Duration,
    /// What happened.
    pub event: UaStreamEvent,
}

/// What the event stream reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaStreamEvent {
    /// An event of the core user agent (registration, calls, requests,
    /// link news).
    Ua(UaEvent),
    /// The socket broke with this typed error; the link's own
    /// `Disconnected` follows.
    Transport(TransportError),
    /// A SIP message went out or came in (only with
    /// [`UserAgentConfig::trace_messages`]). Keepalive frames (made only
    /// of CR and LF) are not reported. A message sent is reported after
    /// the driver tried to write it (a write that fails is reported too,
    /// followed by the link's `Disconnected`); a message received before
    /// the events it causes.
    Message {
        /// Which way it went.
        direction: Direction,
        /// The frame as on the wire (SIP text, or the JSON codec's form
        /// when that subprotocol was negotiated).
        data: Vec<u8>,
    },
}

/// Which way a traced SIP message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// A keepalive frame (ping `CRLFCRLF` or pong `CRLF`) rather than a SIP
/// message.
fn is_keepalive(data: &[u8]) -> bool {
    data.iter().all(|b| matches!(b, b'\r' | b'\n'))
}

/// Every event of a running user agent, in order. Unbounded: read them
/// (or drop this to stop receiving; the user agent runs on).
#[derive(Debug)]
pub struct UaEvents {
    rx: mpsc::UnboundedReceiver<TimedUaEvent>,
}

impl UaEvents {
    /// The next event; `None` once the task has stopped.
    pub async fn next(&mut self) -> Option<TimedUaEvent> {
        self.rx.recv().await
    }

    /// The next event if one is ready.
    pub fn try_next(&mut self) -> Option<TimedUaEvent> {
        self.rx.try_recv().ok()
    }
}

/// What a call's handle reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// A provisional response to our INVITE.
    Progress {
        /// Status (180, 183, …).
        status: u16,
        /// Reason phrase.
        reason: String,
        /// Early-media SDP, empty if none.
        sdp: Vec<u8>,
    },
    /// Our INVITE was answered 2xx (ACK sent).
    Answered {
        /// The answer.
        sdp: Vec<u8>,
    },
    /// The ACK for our 2xx arrived.
    Confirmed,
    /// A re-INVITE finished; the peer's SDP.
    Updated {
        /// The peer's SDP.
        sdp: Vec<u8>,
    },
    /// A request arrived in this call's dialog (INFO, NOTIFY, MESSAGE…).
    Request {
        /// Whether it was answered 200 already.
        answered: bool,
        /// The server transaction (for [`UserAgent::respond`]).
        txn: TxnId,
        /// The request.
        message: OwnedMessage,
    },
    /// The call is over.
    Ended(CallEndReason),
}

/// A request or frame an application rule took.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleMatch {
    /// A request, not answered yet: answer it with [`UserAgent::respond`].
    Request {
        /// The server transaction.
        txn: TxnId,
        /// The call whose dialog it came in, if any.
        call: Option<CallId>,
        /// The request.
        message: OwnedMessage,
    },
    /// Any other frame the rule took (responses also reach the
    /// transactions).
    Frame(Vec<u8>),
}

type RuleSink = Box<dyn FnMut(RuleMatch) -> Option<(TxnId, u16)> + Send>;

/// The core user agent plus everything waiting on it.
struct UaMachine {
    ua: CoreUa<XorShift64>,
    events: mpsc::UnboundedSender<TimedUaEvent>,
    registering: Vec<oneshot::Sender<Result<Registered, UaApiError>>>,
    unregistering: Vec<oneshot::Sender<Result<(), UaApiError>>>,
    calls: HashMap<CallId, mpsc::UnboundedSender<CallEvent>>,
    incoming: HashMap<CallId, mpsc::UnboundedReceiver<CallEvent>>,
    requests: HashMap<RequestId, oneshot::Sender<Response>>,
    rules: HashMap<u64, RuleSink>,
    next_rule: u64,
    closing: Vec<oneshot::Sender<()>>,
    deferred: Vec<(TxnId, u16)>,
    /// Whether SIP messages are traced, and the ones not delivered yet.
    trace: bool,
    traced: Vec<(Direction, Vec<u8>)>,
}

type Op = Box<dyn FnOnce(&mut UaMachine, Instant) -> Option<oneshot::Sender<()>> + Send>;

impl UaMachine {
    fn route(&mut self, event: &UaEvent) {
        match event {
            UaEvent::Registered { expires, bindings } => {
                for w in self.registering.drain(..) {
                    let _ = w.send(Ok(Registered {
                        expires: *expires,
                        bindings: bindings.clone(),
                    }));
                }
            }
            UaEvent::RegistrationFailed { status, reason } => {
                let err = UaApiError::Registration {
                    status: *status,
                    reason: reason.clone(),
                };
                for w in self.registering.drain(..) {
                    let _ = w.send(Err(err.clone()));
                }
                for w in self.unregistering.drain(..) {
                    let _ = w.send(Err(err.clone()));
                }
            }
            UaEvent::Unregistered => {
                for w in self.unregistering.drain(..) {
                    let _ = w.send(Ok(()));
                }
            }
            UaEvent::IncomingCall { call, .. } => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.calls.insert(*call, tx);
                self.incoming.insert(*call, rx);
            }
            UaEvent::CallProgress {
                call,
                status,
                reason,
                sdp,
            } => self.to_call(
                *call,
                CallEvent::Progress {
                    status: *status,
                    reason: reason.clone(),
                    sdp: sdp.clone(),
                },
            ),
            UaEvent::CallAnswered { call, sdp } => {
                self.to_call(*call, CallEvent::Answered { sdp: sdp.clone() });
            }
            UaEvent::CallConfirmed { call } => self.to_call(*call, CallEvent::Confirmed),
            UaEvent::CallUpdated { call, sdp } => {
                self.to_call(*call, CallEvent::Updated { sdp: sdp.clone() });
            }
            UaEvent::CallEnded { call, reason } => {
                self.to_call(*call, CallEvent::Ended(reason.clone()));
                self.calls.remove(call);
            }
            UaEvent::IncomingRequest {
                txn,
                call,
                rule,
                answered,
                message,
            } => {
                if let Some(key) = rule {
                    if let Some(sink) = self.rules.get_mut(key) {
                        if let Some(reply) = sink(RuleMatch::Request {
                            txn: *txn,
                            call: *call,
                            message: message.clone(),
                        }) {
                            self.deferred.push(reply);
                        }
                    }
                } else if let Some(call) = call {
                    self.to_call(
                        *call,
                        CallEvent::Request {
                            answered: *answered,
                            txn: *txn,
                            message: message.clone(),
                        },
                    );
                }
            }
            UaEvent::ResponseReceived {
                request,
                status,
                reason,
                message,
            } => {
                if let Some(w) = self.requests.remove(request) {
                    let _ = w.send(Response {
                        status: *status,
                        reason: reason.clone(),
                        message: message.clone(),
                    });
                }
            }
            UaEvent::Routed { rule, data } => {
                if let Some(sink) = self.rules.get_mut(rule) {
                    let _ = sink(RuleMatch::Frame(data.clone()));
                }
            }
            _ => {}
        }
    }

    fn to_call(&self, call: CallId, event: CallEvent) {
        if let Some(tx) = self.calls.get(&call) {
            let _ = tx.send(event);
        }
    }
}

impl Machine for UaMachine {
    type Command = Op;
    fn connect(&mut self, now: Instant) {
        self.ua.connect(now);
    }
    fn close(&mut self, now: Instant) {
        self.ua.close(now);
    }
    fn handle_open(&mut self, now: Instant, protocol: Option<&str>) {
        self.ua.handle_open(now, protocol);
    }
    fn handle_frame(&mut self, now: Instant, data: &[u8], opcode: Opcode) {
        if self.trace && !is_keepalive(data) {
            self.traced.push((Direction::Received, data.to_vec()));
        }
        self.ua.handle_frame(now, data, opcode);
    }
    fn handle_ws_pong(&mut self, now: Instant) {
        self.ua.handle_ws_pong(now);
    }
    fn handle_closed(&mut self, now: Instant, info: CloseInfo) {
        self.ua.handle_closed(now, info);
    }
    fn handle_connect_failed(&mut self, now: Instant, why: ConnectError) {
        self.ua.handle_connect_failed(now, why);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.ua.handle_timeout(now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.ua.poll_transmit();
        if let Some(Transmit::Frame { data, .. }) = &t {
            if self.trace && !is_keepalive(data) {
                self.traced.push((Direction::Sent, data.clone()));
            }
        }
        t
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.ua.poll_timeout()
    }
    fn deliver_events(&mut self, now: Instant, elapsed: Duration) {
        for (direction, data) in self.traced.drain(..) {
            let _ = self.events.send(TimedUaEvent {
                elapsed,
                event: UaStreamEvent::Message { direction, data },
            });
        }
        loop {
            while let Some(event) = self.ua.poll_event() {
                trace_ua_event(&event);
                self.route(&event);
                let _ = self.events.send(TimedUaEvent {
                    elapsed,
                    event: UaStreamEvent::Ua(event),
                });
            }
            if self.deferred.is_empty() {
                break;
            }
            // Statuses returned by rule callbacks.
            for (txn, status) in std::mem::take(&mut self.deferred) {
                let _ = self.ua.respond(now, txn, status, None, b"");
            }
        }
        if !self.closing.is_empty() && self.ua.link().state() == LinkState::Idle {
            for w in self.closing.drain(..) {
                let _ = w.send(());
            }
        }
    }
    fn transport_error(&mut self, elapsed: Duration, error: TransportError) {
        let _ = self.events.send(TimedUaEvent {
            elapsed,
            event: UaStreamEvent::Transport(error),
        });
    }
    fn command(&mut self, now: Instant, op: Op) -> Option<oneshot::Sender<()>> {
        op(self, now)
    }
}

/// One log line per user agent event (never a message's text, so never
/// an Authorization header).
fn trace_ua_event(event: &UaEvent) {
    match event {
        UaEvent::Link(link) => crate::driver::trace_link_event(link),
        UaEvent::Registered { expires, bindings } => tracing::debug!(
            expires = expires.as_secs(),
            bindings = bindings.len(),
            "registered"
        ),
        UaEvent::RegistrationFailed { status, reason } => {
            tracing::debug!(status, %reason, "registration failed");
        }
        UaEvent::Unregistered => tracing::debug!("unregistered"),
        UaEvent::IncomingCall { call, .. } => tracing::debug!(?call, "incoming call"),
        UaEvent::CallProgress { call, status, .. } => {
            tracing::debug!(?call, status, "call progress");
        }
        UaEvent::CallAnswered { call, .. } => tracing::debug!(?call, "call answered"),
        UaEvent::CallConfirmed { call } => tracing::debug!(?call, "call confirmed"),
        UaEvent::CallUpdated { call, .. } => tracing::debug!(?call, "call updated"),
        UaEvent::CallEnded { call, reason } => tracing::debug!(?call, %reason, "call ended"),
        UaEvent::IncomingRequest {
            message, answered, ..
        } => tracing::debug!(
            method = message.method().unwrap_or("?"),
            body = message.body().len(),
            answered,
            "incoming request"
        ),
        UaEvent::ResponseReceived { status, reason, .. } => {
            tracing::debug!(status, %reason, "final response");
        }
        UaEvent::Routed { rule, data } => {
            tracing::debug!(rule, bytes = data.len(), "frame taken by a rule");
        }
        UaEvent::Discarded { reason, .. } => tracing::debug!(%reason, "frame discarded"),
        _ => tracing::debug!("user agent event"),
    }
}

/// A running user agent. Cheap to clone; the task closes the link and
/// stops when the last clone (and every [`Call`]) is dropped.
#[derive(Clone)]
pub struct UserAgent {
    ops: mpsc::UnboundedSender<Op>,
}

impl fmt::Debug for UserAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserAgent").finish_non_exhaustive()
    }
}

impl UserAgent {
    /// Start the user agent on the current tokio runtime: it connects at
    /// once (call [`UserAgent::register`] to register).
    pub fn spawn(config: UserAgentConfig) -> Result<(UserAgent, UaEvents), UaStartError> {
        let UserAgentConfig {
            ua,
            driver,
            trace_messages,
        } = config;
        let DriverConfig {
            link,
            mut transport,
            seed,
        } = driver;
        transport.max_frame_size = transport.max_frame_size.max(link.queue.max_frame_bytes);
        let seed = seed.unwrap_or_else(random_seed);
        let core = CoreUa::with_seed(ua, link, seed).map_err(UaStartError::Config)?;
        let transport =
            Transport::new(transport).map_err(|e| UaStartError::Start(StartError::Tls(e)))?;
        let (ops_tx, ops_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let machine = UaMachine {
            ua: core,
            events: events_tx,
            registering: Vec::new(),
            unregistering: Vec::new(),
            calls: HashMap::new(),
            incoming: HashMap::new(),
            requests: HashMap::new(),
            rules: HashMap::new(),
            next_rule: 1,
            closing: Vec::new(),
            deferred: Vec::new(),
            trace: trace_messages,
            traced: Vec::new(),
        };
        tokio::spawn(Driver::new(machine, transport, ops_rx).run());
        Ok((UserAgent { ops: ops_tx }, UaEvents { rx: events_rx }))
    }

    /// [`UserAgent::spawn`] as an async constructor.
    pub async fn start(config: UserAgentConfig) -> Result<(UserAgent, UaEvents), UaStartError> {
        Self::spawn(config)
    }

    /// Run `f` in the task and return its result.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut UaMachine, Instant) -> T + Send + 'static,
    ) -> Result<T, UaApiError> {
        let (tx, rx) = oneshot::channel();
        self.ops
            .send(Box::new(move |m: &mut UaMachine, now| {
                let _ = tx.send(f(m, now));
                None
            }))
            .map_err(|_| UaApiError::Gone)?;
        rx.await.map_err(|_| UaApiError::Gone)
    }

    /// Register (or refresh) and wait for the registrar's final answer.
    /// The binding is then refreshed, and redone after every reconnect,
    /// until [`UserAgent::unregister`].
    pub async fn register(&self) -> Result<Registered, UaApiError> {
        let rx = self
            .with(|m, now| {
                let (tx, rx) = oneshot::channel();
                m.ua.register(now).map(|()| {
                    m.registering.push(tx);
                    rx
                })
            })
            .await??;
        rx.await.map_err(|_| UaApiError::Gone)?
    }

    /// Remove the binding and wait for the answer.
    pub async fn unregister(&self) -> Result<(), UaApiError> {
        let rx = self
            .with(|m, now| {
                let (tx, rx) = oneshot::channel();
                m.ua.unregister(now).map(|()| {
                    m.unregistering.push(tx);
                    rx
                })
            })
            .await??;
        rx.await.map_err(|_| UaApiError::Gone)?
    }

    /// The registration state now.
    pub async fn registration(&self) -> Result<RegistrationState, UaApiError> {
        self.with(|m, _| m.ua.registration()).await
    }

    /// Call `target` with our SDP offer; the returned [`Call`] reports
    /// progress, answer and end.
    pub async fn call(&self, target: &str, sdp: &[u8]) -> Result<Call, UaApiError> {
        let target = target.to_owned();
        let sdp = sdp.to_vec();
        let (id, rx) = self
            .with(move |m, now| {
                let id = m.ua.call(now, &target, &sdp)?;
                let (tx, rx) = mpsc::unbounded_channel();
                m.calls.insert(id, tx);
                Ok::<_, UaError>((id, rx))
            })
            .await??;
        Ok(Call {
            id,
            ua: self.clone(),
            events: rx,
            ended: None,
        })
    }

    /// The handle of an incoming call (from [`UaEvent::IncomingCall`]);
    /// `None` if it was taken already or is unknown. Events since the
    /// INVITE are kept for it.
    pub async fn incoming_call(&self, call: CallId) -> Result<Option<Call>, UaApiError> {
        let rx = self.with(move |m, _| m.incoming.remove(&call)).await?;
        Ok(rx.map(|events| Call {
            id: call,
            ua: self.clone(),
            events,
            ended: None,
        }))
    }

    /// Send a request out of dialog or in a call and wait for its final
    /// response.
    async fn request(
        &self,
        f: impl FnOnce(&mut CoreUa<XorShift64>, Instant) -> Result<RequestId, UaError> + Send + 'static,
    ) -> Result<Response, UaApiError> {
        let rx = self
            .with(move |m, now| {
                let id = f(&mut m.ua, now)?;
                let (tx, rx) = oneshot::channel();
                m.requests.insert(id, tx);
                Ok::<_, UaError>(rx)
            })
            .await??;
        rx.await.map_err(|_| UaApiError::Gone)
    }

    /// MESSAGE (RFC 3428) to `target` (a URI, or a call's dialog).
    pub async fn message(
        &self,
        target: Target,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, UaApiError> {
        let (ct, body) = (content_type.to_owned(), body.to_vec());
        self.request(move |ua, now| ua.message(now, &target, &ct, &body))
            .await
    }

    /// INFO (RFC 6086) to `target`.
    pub async fn info(
        &self,
        target: Target,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, UaApiError> {
        let (ct, body) = (content_type.to_owned(), body.to_vec());
        self.request(move |ua, now| ua.info(now, &target, &ct, &body))
            .await
    }

    /// NOTIFY for `event` to `target`.
    pub async fn notify(
        &self,
        target: Target,
        event: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, UaApiError> {
        let (ev, ct, body) = (event.to_owned(), content_type.to_owned(), body.to_vec());
        self.request(move |ua, now| ua.notify(now, &target, &ev, &ct, &body))
            .await
    }

    /// OPTIONS to `target`.
    pub async fn options(&self, target: Target) -> Result<Response, UaApiError> {
        self.request(move |ua, now| ua.options(now, &target)).await
    }

    /// Any other method (not INVITE/ACK/CANCEL/BYE/REGISTER) to `target`.
    pub async fn send_request(
        &self,
        target: Target,
        method: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Response, UaApiError> {
        let (method, ct, body) = (
            method.to_owned(),
            content_type.map(str::to_owned),
            body.to_vec(),
        );
        self.request(move |ua, now| ua.request(now, &target, &method, &[], ct.as_deref(), &body))
            .await
    }

    /// Answer a request an application rule took.
    pub async fn respond(
        &self,
        txn: TxnId,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), UaApiError> {
        let (ct, body) = (content_type.map(str::to_owned), body.to_vec());
        self.with(move |m, now| m.ua.respond(now, txn, status, ct.as_deref(), &body))
            .await??;
        Ok(())
    }

    /// Add an application rule (text syntax of `sipws_core::router`) in
    /// front of the user agent's defaults; what it takes arrives on the
    /// returned stream. Requests wait for [`UserAgent::respond`].
    pub async fn add_rule(
        &self,
        rule: &str,
        priority: Priority,
    ) -> Result<Result<(RuleId, mpsc::UnboundedReceiver<RuleMatch>), RuleParseError>, UaApiError>
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self
            .install(rule, priority, move |m| {
                let _ = tx.send(m);
                None
            })
            .await?;
        Ok(id.map(|id| (id, rx)))
    }

    /// Add an application rule whose callback answers each request it
    /// takes with the returned status (e.g. 200, 486); frames that are not
    /// requests are passed with no answer expected.
    pub async fn on_request(
        &self,
        rule: &str,
        priority: Priority,
        mut callback: impl FnMut(&RuleMatch) -> u16 + Send + 'static,
    ) -> Result<Result<RuleId, RuleParseError>, UaApiError> {
        self.install(rule, priority, move |m| {
            let status = callback(&m);
            match m {
                RuleMatch::Request { txn, .. } => Some((txn, status)),
                RuleMatch::Frame(_) => None,
            }
        })
        .await
    }

    async fn install(
        &self,
        rule: &str,
        priority: Priority,
        sink: impl FnMut(RuleMatch) -> Option<(TxnId, u16)> + Send + 'static,
    ) -> Result<Result<RuleId, RuleParseError>, UaApiError> {
        let rule = match Rule::parse(rule) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        self.with(move |m, _| {
            let key = m.next_rule;
            m.next_rule += 1;
            m.rules.insert(key, Box::new(sink));
            Ok(m.ua.add_rule(rule, key, priority))
        })
        .await
    }

    /// Remove an application rule.
    pub async fn remove_rule(&self, id: RuleId) -> Result<bool, UaApiError> {
        self.with(move |m, _| m.ua.remove_rule(id)).await
    }

    /// The network changed: reconnect or probe at once.
    pub async fn network_changed(&self) -> Result<(), UaApiError> {
        self.with(|m, now| {
            m.ua.handle_network_change(now);
        })
        .await
    }

    /// Leave cleanly: hang up every call, un-REGISTER, close the link,
    /// and wait (at most `T1·64`, 32 s by default, then close anyway) until
    /// the link is closed.
    pub async fn shutdown(&self) -> Result<(), UaApiError> {
        let rx = self
            .with(|m, now| {
                let (tx, rx) = oneshot::channel();
                m.closing.push(tx);
                m.ua.shutdown(now).map(|()| rx)
            })
            .await??;
        let limit = Duration::from_secs(32);
        if tokio::time::timeout(limit, rx).await.is_err() {
            self.with(|m, now| m.ua.close(now)).await?;
        }
        Ok(())
    }
}

/// One call: its events, and what can be done in it.
#[derive(Debug)]
pub struct Call {
    id: CallId,
    ua: UserAgent,
    events: mpsc::UnboundedReceiver<CallEvent>,
    ended: Option<CallEndReason>,
}

impl Call {
    /// The core's handle of this call.
    #[must_use]
    pub fn id(&self) -> CallId {
        self.id
    }

    /// The next event of this call; `None` once it has ended and every
    /// event was read.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        let e = self.events.recv().await;
        if let Some(CallEvent::Ended(r)) = &e {
            self.ended = Some(r.clone());
        }
        e
    }

    /// Wait until our INVITE is answered (2xx); returns the answer SDP.
    /// Provisional responses and requests in the dialog are skipped.
    pub async fn answered(&mut self) -> Result<Vec<u8>, UaApiError> {
        loop {
            match self.next_event().await {
                Some(CallEvent::Answered { sdp }) => return Ok(sdp),
                Some(CallEvent::Ended(r)) => return Err(UaApiError::CallEnded(r)),
                Some(_) => {}
                None => return Err(self.gone()),
            }
        }
    }

    /// Wait until the ACK for our 2xx arrives (incoming calls).
    pub async fn confirmed(&mut self) -> Result<(), UaApiError> {
        loop {
            match self.next_event().await {
                Some(CallEvent::Confirmed) => return Ok(()),
                Some(CallEvent::Ended(r)) => return Err(UaApiError::CallEnded(r)),
                Some(_) => {}
                None => return Err(self.gone()),
            }
        }
    }

    /// Wait until the call ends; returns why.
    pub async fn ended(&mut self) -> CallEndReason {
        loop {
            match self.next_event().await {
                Some(CallEvent::Ended(r)) => return r,
                Some(_) => {}
                None => {
                    return self
                        .ended
                        .clone()
                        .unwrap_or(CallEndReason::Transport("user agent stopped".into()))
                }
            }
        }
    }

    fn gone(&self) -> UaApiError {
        match &self.ended {
            Some(r) => UaApiError::CallEnded(r.clone()),
            None => UaApiError::Gone,
        }
    }

    /// Answer an incoming call: 180/183 (ringing, early media), 2xx with
    /// our SDP answer, or a final error that rejects it.
    pub async fn answer(&self, status: u16, sdp: Option<&[u8]>) -> Result<(), UaApiError> {
        let id = self.id;
        let sdp = sdp.map(<[u8]>::to_vec);
        self.ua
            .with(move |m, now| m.ua.answer(now, id, status, sdp.as_deref()))
            .await??;
        Ok(())
    }

    /// Reject an incoming call with `status` (486 Busy Here, 603 Decline…).
    pub async fn reject(&self, status: u16) -> Result<(), UaApiError> {
        self.answer(status, None).await
    }

    /// Hang up (CANCEL, decline or BYE as the state asks) and wait until
    /// the call has ended.
    pub async fn hangup(&mut self) -> Result<CallEndReason, UaApiError> {
        if let Some(r) = &self.ended {
            return Ok(r.clone());
        }
        let id = self.id;
        self.ua.with(move |m, now| m.ua.hangup(now, id)).await??;
        Ok(self.ended().await)
    }

    /// INFO in this call's dialog.
    pub async fn info(&self, content_type: &str, body: &[u8]) -> Result<Response, UaApiError> {
        self.ua
            .info(Target::Call(self.id), content_type, body)
            .await
    }

    /// NOTIFY in this call's dialog.
    pub async fn notify(
        &self,
        event: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, UaApiError> {
        self.ua
            .notify(Target::Call(self.id), event, content_type, body)
            .await
    }

    /// MESSAGE in this call's dialog.
    pub async fn message(&self, content_type: &str, body: &[u8]) -> Result<Response, UaApiError> {
        self.ua
            .message(Target::Call(self.id), content_type, body)
            .await
    }

    /// A DTMF digit as INFO `application/dtmf-relay` (160 ms).
    pub async fn send_dtmf(&self, digit: char) -> Result<Response, UaApiError> {
        let body = format!("Signal={digit}\r\nDuration=160\r\n");
        self.info("application/dtmf-relay", body.as_bytes()).await
    }

    /// Send a re-INVITE with our Contact (and `sdp`, or the last SDP).
    pub async fn reinvite(&self, sdp: Option<&[u8]>) -> Result<(), UaApiError> {
        let id = self.id;
        let sdp = sdp.map(<[u8]>::to_vec);
        self.ua
            .with(move |m, now| m.ua.reinvite(now, id, sdp.as_deref()))
            .await??;
        Ok(())
    }
}
