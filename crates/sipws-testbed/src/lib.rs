//! # sipws-testbed
//!
//! An embeddable SIP-over-WebSocket (RFC 7118) server for loopback tests,
//! examples and demos, with fault injection.
//!
//! - `ws://`, or `wss://` with certificate and key files
//!   ([`TestbedConfig::tls`]).
//! - WebSocket upgrade requires a supported subprotocol (`sip` by default).
//! - CRLF keepalive: a `"\r\n\r\n"` ping is answered `"\r\n"` with the
//!   same opcode.
//! - Faults, switchable at run time through [`TestbedHandle`]: drop or
//!   delay pongs, answer only the first N pings, close with 1006 (TCP
//!   dropped, no close frame), close cleanly with a code, refuse the next N
//!   handshakes with HTTP 503, answer without the subprotocol, stop reading
//!   (half-open), forget every registration. The per-frame faults can
//!   also be set for one connection ([`ConnFaults`],
//!   [`TestbedHandle::update_conn_faults`]), and the one-shot ones aimed
//!   at one connection ([`TestbedHandle::drop_conn`],
//!   [`TestbedHandle::close_conn`]).
//! - One [`TestbedEvent`] per thing it does, on a broadcast channel.
//! - Subprotocol `sip` (SIP text) or `sipws.json` (the JSON codec); the
//!   relay translates between them.
//! - SIP services ([`SipConfig`]):
//!   - [`registrar`]: REGISTER with digest (401 challenge, MD5 or SHA-256,
//!     `qop=auth`; 403 after too many wrong answers), in-memory location
//!     service keyed by address-of-record, Expires / `expires=`,
//!     un-REGISTER, dropped on demand ([`TestbedHandle::drop_registrations`]);
//!   - the relay (`proxy`): requests to `sip:user@domain` go over the
//!     target's connection with a Via of the testbed's and a Record-Route
//!     on dialog-creating requests; responses go back by the top Via;
//!     in-dialog requests follow the Request-URI (a Contact, `.invalid`
//!     hosts included); 100 Trying for INVITE; 404 / 480; OPTIONS to the
//!     testbed answered 200 with Allow;
//!   - [`peer`]: a scripted user `sip:peer@domain` that answers calls and
//!     requests, and calls a registered client or sends it NOTIFY / INFO on
//!     command ([`TestbedHandle::peer_call`], [`TestbedHandle::peer_request`],
//!     [`TestbedHandle::peer_hangup`]).
//!
//! Every data frame other than CRLF keepalives is reported as
//! [`TestbedEvent::FrameReceived`], then handed to the SIP services
//! (`connection::on_sip_frame` → [`sip`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let testbed = sipws_testbed::Testbed::start(Default::default()).await?;
//! let mut events = testbed.handle().subscribe();
//! println!("listening on {}", testbed.url());
//! testbed.handle().set_drop_pongs(true);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod connection;
pub mod event;
pub mod fault;
pub mod peer;
mod proxy;
pub mod registrar;
mod server;
pub mod sip;
mod tls;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

pub use event::{wait_for_event, ConnId, PongWithheld, TestbedEvent, WaitError};
pub use fault::{ConnFaults, Faults};
pub use peer::{PeerCallState, PeerError};
pub use registrar::{parse_users, Binding, User};
pub use sip::SipConfig;

use sipws_core::codec::Codec;

/// Certificate and key files for `wss://`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain (PEM), server certificate first.
    pub cert: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How to start a testbed.
#[derive(Debug, Clone)]
pub struct TestbedConfig {
    /// Where to listen; must be a loopback address (default `127.0.0.1:0`,
    /// a free port).
    pub bind: SocketAddr,
    /// Subprotocols accepted, in order of preference (default `sip`, then
    /// the JSON codec's `sipws.json`). Frames of a connection that chose
    /// the JSON token are decoded and encoded with the JSON codec.
    pub protocols: Vec<String>,
    /// The SIP services: domain, users, digest algorithm, scripted peer.
    pub sip: SipConfig,
    /// Faults in force from the start.
    pub faults: Faults,
    /// Serve `wss://` with these files (default: `ws://`).
    pub tls: Option<TlsFiles>,
    /// Capacity of the event channel (events beyond it are lost by slow
    /// subscribers, who see a `Lagged` error).
    pub event_capacity: usize,
}

impl Default for TestbedConfig {
    fn default() -> Self {
        TestbedConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            protocols: vec![
                Codec::Text.subprotocol().to_owned(),
                Codec::Json.subprotocol().to_owned(),
            ],
            sip: SipConfig::default(),
            faults: Faults::default(),
            tls: None,
            event_capacity: 1024,
        }
    }
}

/// A one-shot action sent to connections.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    /// Drop the TCP connection without a close frame.
    DropAbnormally,
    /// Send a close frame with this code and reason.
    Close(u16, String),
    /// Send a data frame (text when `true`).
    Send(Vec<u8>, bool),
    /// Send a CRLF pong now (a delayed pong falling due).
    Pong(Duration),
    /// Send a WebSocket Ping frame with this payload.
    WsPing(Vec<u8>),
    /// Use these overrides of the standing faults from now on.
    Override(ConnFaults),
}

/// State shared by the accept loop, the connections and the handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    pub(crate) secure: bool,
    pub(crate) protocols: Vec<String>,
    pub(crate) faults: watch::Sender<Faults>,
    pub(crate) events: broadcast::Sender<TestbedEvent>,
    pub(crate) conns: Mutex<HashMap<ConnId, ConnEntry>>,
    pub(crate) next_conn: AtomicU64,
    pub(crate) sip_config: SipConfig,
    pub(crate) sip: Mutex<sip::SipState>,
}

/// An open connection as the testbed knows it.
#[derive(Debug)]
pub(crate) struct ConnEntry {
    /// Its command channel.
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    /// The codec of its subprotocol.
    pub(crate) codec: Codec,
    /// Its overrides of the standing faults.
    pub(crate) overrides: ConnFaults,
}

impl Shared {
    pub(crate) fn emit(&self, event: TestbedEvent) {
        // No subscriber is fine: events are for whoever listens.
        let _ = self.events.send(event);
    }

    fn command_all(&self, command: &Command) -> usize {
        let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns
            .values()
            .filter(|e| e.tx.send(command.clone()).is_ok())
            .count()
    }

    fn command_one(&self, conn: ConnId, command: Command) -> bool {
        let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.get(&conn).is_some_and(|e| e.tx.send(command).is_ok())
    }
}

/// A running testbed. Dropping it stops accepting; open connections end
/// when their clients go or on [`TestbedHandle::drop_all`].
#[derive(Debug)]
pub struct Testbed {
    handle: TestbedHandle,
    accept: JoinHandle<()>,
}

impl Testbed {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(config: TestbedConfig) -> io::Result<Testbed> {
        if !config.bind.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the testbed listens on loopback addresses only",
            ));
        }
        let acceptor = match &config.tls {
            Some(files) => Some(tls::acceptor(files)?),
            None => None,
        };
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let (faults, _) = watch::channel(config.faults);
        let shared = Arc::new(Shared {
            addr,
            secure: acceptor.is_some(),
            protocols: config.protocols,
            faults,
            events,
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            sip: Mutex::new(sip::SipState::new(&config.sip, nonce_secret(addr))),
            sip_config: config.sip,
        });
        let accept = tokio::spawn(server::accept_loop(listener, acceptor, shared.clone()));
        Ok(Testbed {
            handle: TestbedHandle { shared },
            accept,
        })
    }

    /// A handle to steer it (cheap to clone).
    #[must_use]
    pub fn handle(&self) -> TestbedHandle {
        self.handle.clone()
    }

    /// Its `ws://` or `wss://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        self.handle.url()
    }

    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.shared.addr
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Steers a running testbed: faults, one-shot actions, events.
#[derive(Debug, Clone)]
pub struct TestbedHandle {
    shared: Arc<Shared>,
}

impl TestbedHandle {
    /// Its `ws://` or `wss://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.shared.secure { "wss" } else { "ws" };
        format!("{scheme}://{}", self.shared.addr)
    }

    /// A receiver of every event from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<TestbedEvent> {
        self.shared.events.subscribe()
    }

    /// The faults in force.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.shared.faults.borrow().clone()
    }

    /// Changes the faults in force; every connection sees the change.
    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        self.shared.faults.send_modify(change);
    }

    /// Never answer CRLF pings (`true`), or answer them again.
    pub fn set_drop_pongs(&self, on: bool) {
        self.update_faults(|f| f.drop_pongs = on);
    }

    /// Hold each pong back by `delay` (`None`: answer at once).
    pub fn set_pong_delay(&self, delay: Option<Duration>) {
        self.update_faults(|f| f.pong_delay = delay);
    }

    /// Answer only the first `n` pings of each connection (`None`: all).
    pub fn set_answer_first_pings(&self, n: Option<u32>) {
        self.update_faults(|f| f.answer_first_pings = n);
    }

    /// Refuse the next `n` handshakes with HTTP 503.
    pub fn refuse_next_handshakes(&self, n: u32) {
        self.update_faults(|f| f.refuse_handshakes = n);
    }

    /// Answer upgrades without `Sec-WebSocket-Protocol` (`true`).
    pub fn set_omit_subprotocol(&self, on: bool) {
        self.update_faults(|f| f.omit_subprotocol = on);
    }

    /// Stop reading every connection (half-open), or resume.
    pub fn set_stop_reading(&self, on: bool) {
        self.update_faults(|f| f.stop_reading = on);
    }

    /// Drops every open connection without a close frame (the clients see
    /// 1006). Returns how many were told.
    pub fn drop_all(&self) -> usize {
        self.shared.command_all(&Command::DropAbnormally)
    }

    /// Closes every open connection cleanly with `code` and `reason`.
    /// Returns how many were told.
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        self.shared
            .command_all(&Command::Close(code, reason.to_owned()))
    }

    /// Sends a data frame to every open connection (e.g. a server CRLF
    /// ping `"\r\n\r\n"`, or an oversize frame). Returns how many were told.
    pub fn send_all(&self, data: &[u8], text: bool) -> usize {
        self.shared.command_all(&Command::Send(data.to_vec(), text))
    }

    /// Sends a WebSocket Ping frame with `payload` to every open connection
    /// (as Kamailio does after 60 s of silence); the client must answer
    /// with a Pong echoing it ([`TestbedEvent::WsPongReceived`]). Returns
    /// how many were told.
    pub fn ws_ping_all(&self, payload: &[u8]) -> usize {
        self.shared.command_all(&Command::WsPing(payload.to_vec()))
    }

    /// Drops one connection without a close frame (the client sees
    /// 1006); `false` if it is gone.
    pub fn drop_conn(&self, conn: ConnId) -> bool {
        self.shared.command_one(conn, Command::DropAbnormally)
    }

    /// Closes one connection cleanly with `code` and `reason`; `false` if
    /// it is gone.
    pub fn close_conn(&self, conn: ConnId, code: u16, reason: &str) -> bool {
        self.shared
            .command_one(conn, Command::Close(code, reason.to_owned()))
    }

    /// Changes the fault overrides of one open connection (they win over
    /// the standing [`Faults`] for it alone, until it closes); `false` if
    /// it is gone.
    pub fn update_conn_faults(&self, conn: ConnId, change: impl FnOnce(&mut ConnFaults)) -> bool {
        let mut conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = conns.get_mut(&conn) else {
            return false;
        };
        change(&mut entry.overrides);
        entry
            .tx
            .send(Command::Override(entry.overrides.clone()))
            .is_ok()
    }

    /// Removes the fault overrides of every open connection: the standing
    /// [`Faults`] apply to all again.
    pub fn clear_conn_faults(&self) {
        let mut conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for entry in conns.values_mut() {
            if !entry.overrides.is_empty() {
                entry.overrides = ConnFaults::default();
                let _ = entry.tx.send(Command::Override(ConnFaults::default()));
            }
        }
    }

    /// The fault overrides of one open connection (`None` if it is gone).
    #[must_use]
    pub fn conn_faults(&self, conn: ConnId) -> Option<ConnFaults> {
        let conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        conns.get(&conn).map(|e| e.overrides.clone())
    }

    /// Sends a data frame to one connection; `false` if it is gone.
    pub fn send_to(&self, conn: ConnId, data: &[u8], text: bool) -> bool {
        self.shared
            .command_one(conn, Command::Send(data.to_vec(), text))
    }

    /// The open WebSocket connections.
    #[must_use]
    pub fn connections(&self) -> Vec<ConnId> {
        let conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut ids: Vec<ConnId> = conns.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Forgets every registration, as a server restart would (the
    /// "restart" fault); connections stay open. Returns how many bindings
    /// went, each reported as [`TestbedEvent::Unregistered`].
    pub fn drop_registrations(&self) -> usize {
        sip::with_state(&self.shared, |state, _, out| {
            let gone = state.registrar.drop_all();
            let n = gone.len();
            for (aor, b) in gone {
                out.event(TestbedEvent::Unregistered {
                    conn: b.conn,
                    aor,
                    contact: b.contact,
                    reason: "registrations dropped (restart)".into(),
                });
            }
            n
        })
    }

    /// The live bindings: (address-of-record, binding), sorted by
    /// address-of-record.
    #[must_use]
    pub fn bindings(&self) -> Vec<(String, Binding)> {
        sip::with_state(&self.shared, |state, cx, _| state.registrar.all(cx.now))
    }

    /// The scripted peer calls `target` (`user`, `user@domain` or
    /// `sip:user@domain`, registered): INVITE with the peer's SDP, ACK of
    /// the 200. Returns the Call-ID; progress comes as
    /// [`TestbedEvent::PeerCall`].
    pub fn peer_call(&self, target: &str) -> Result<String, PeerError> {
        sip::with_state(&self.shared, |state, cx, out| {
            let (aor, b) = live_binding(state, cx, target)?;
            state.peer.call(cx, b.conn, &aor, &b.contact, out)
        })
    }

    /// The scripted peer sends `method` (NOTIFY, INFO, MESSAGE, BYE, …):
    /// inside its dialog when `target` is the Call-ID of one of its calls,
    /// else outside any dialog to the registered user `target`. Returns
    /// the Call-ID; the answer comes as [`TestbedEvent::PeerResponse`].
    pub fn peer_request(
        &self,
        target: &str,
        method: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<String, PeerError> {
        sip::with_state(&self.shared, |state, cx, out| {
            if state.peer.has_call(target) {
                state
                    .peer
                    .in_dialog(cx, target, method, content_type, body, out)?;
                return Ok(target.to_owned());
            }
            let (aor, b) = live_binding(state, cx, target)?;
            state.peer.out_of_dialog(
                cx,
                b.conn,
                &aor,
                &b.contact,
                method,
                content_type,
                body,
                out,
            )
        })
    }

    /// The scripted peer's calls (Call-ID, state), sorted by Call-ID.
    #[must_use]
    pub fn peer_calls(&self) -> Vec<(String, PeerCallState)> {
        sip::with_state(&self.shared, |state, _, _| state.peer.calls())
    }

    /// The scripted peer hangs up its call `call_id` (BYE).
    pub fn peer_hangup(&self, call_id: &str) -> Result<(), PeerError> {
        sip::with_state(&self.shared, |state, cx, out| {
            state.peer.in_dialog(cx, call_id, "BYE", None, b"", out)
        })
    }
}

/// The newest live binding of `target`.
fn live_binding(
    state: &mut sip::SipState,
    cx: &sip::SipContext<'_>,
    target: &str,
) -> Result<(String, Binding), PeerError> {
    let t = target.trim().trim_start_matches('<').trim_end_matches('>');
    let t = t.strip_prefix("sip:").unwrap_or(t);
    let aor = match t.split_once('@') {
        Some((user, host)) => cx.aor(user, host),
        None => cx.aor(t, &cx.config.domain),
    };
    let bindings = state.registrar.lookup(&aor, cx.now);
    if bindings.is_empty() {
        return Err(PeerError::NotRegistered(aor));
    }
    match bindings.into_iter().find(|b| cx.alive(b.conn)) {
        Some(b) => Ok((aor, b)),
        None => Err(PeerError::Gone(aor)),
    }
}

/// A secret for the registrar's nonces: not cryptographic randomness (the
/// testbed serves loopback tests), but different per run.
fn nonce_secret(addr: SocketAddr) -> Vec<u8> {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{t}:{addr}:{}", std::process::id()).into_bytes()
}
