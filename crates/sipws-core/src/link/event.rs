//! What goes in and out of a [`Link`](super::Link) besides time: commands
//! for the driver ([`Transmit`]), events for the layer above
//! ([`LinkEvent`]) and the reasons they carry.

use core::fmt;
use core::time::Duration;

use super::config::FallbackProbe;
use super::frame::Opcode;

/// The WebSocket subprotocol sipws speaks (RFC 7118 §4).
pub const SUBPROTOCOL: &str = "sip";

/// The subprotocol list offered on every connect: `["sip"]`.
pub const PROTOCOLS: &[&str] = &[SUBPROTOCOL];

/// A command for the driver, drained with
/// [`Link::poll_transmit`](super::Link::poll_transmit) in order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Transmit {
    /// Open a WebSocket to `url`, offering `protocols` in
    /// `Sec-WebSocket-Protocol`. Report the outcome with
    /// [`Link::handle_open`](super::Link::handle_open) or
    /// [`Link::handle_connect_failed`](super::Link::handle_connect_failed).
    Connect {
        /// The server URL (`ws://` or `wss://`).
        url: String,
        /// Subprotocols to offer: always [`PROTOCOLS`].
        protocols: &'static [&'static str],
    },
    /// Send one WebSocket message on the open connection.
    Frame {
        /// The payload.
        data: Vec<u8>,
        /// Text or binary.
        opcode: Opcode,
    },
    /// Send a WebSocket Ping control frame (the fallback liveness probe on
    /// native drivers); report its Pong with
    /// [`Link::handle_ws_pong`](super::Link::handle_ws_pong).
    Ping,
    /// Close the current connection, or abandon the connection attempt in
    /// progress. The driver drops that socket and reports nothing more
    /// about it (no `handle_closed` follows).
    Close {
        /// The close code to send (1000 on a local close, 1001 when the
        /// connection is abandoned as dead, 1002 on a subprotocol mismatch).
        code: u16,
        /// A short human-readable reason for the Close frame.
        reason: String,
    },
}

/// How a WebSocket connection ended, as the driver saw it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CloseInfo {
    /// The close code received, `None` when the connection ended without a
    /// Close frame (reported as 1006 by browsers).
    pub code: Option<u16>,
    /// The reason text of the Close frame, or the driver's description of
    /// the I/O error (e.g. "connection reset").
    pub reason: String,
    /// Whether the closing handshake completed (a Close frame was received).
    pub clean: bool,
}

/// Why a connection attempt failed (reported by the driver, or detected by
/// the link itself for timeouts and subprotocol mismatches).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// No open within `reconnect.connect_timeout`.
    Timeout,
    /// The server refused the TCP connection.
    Refused,
    /// The host name could not be resolved.
    Dns(String),
    /// The TLS handshake failed (certificate, protocol, …).
    Tls(String),
    /// The HTTP upgrade was answered with something other than 101.
    Handshake {
        /// The HTTP status, when one was received.
        status: Option<u16>,
        /// What went wrong.
        reason: String,
    },
    /// The server did not accept the `sip` subprotocol.
    Subprotocol {
        /// What the server negotiated instead (`None`: no subprotocol).
        negotiated: Option<String>,
    },
    /// The connection closed before it opened.
    Closed(CloseInfo),
    /// Any other I/O error.
    Io(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Timeout => f.write_str("connect timed out"),
            ConnectError::Refused => f.write_str("connection refused"),
            ConnectError::Dns(e) => write!(f, "name resolution failed: {e}"),
            ConnectError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            ConnectError::Handshake {
                status: Some(s),
                reason,
            } => write!(f, "WebSocket handshake failed with HTTP {s}: {reason}"),
            ConnectError::Handshake {
                status: None,
                reason,
            } => write!(f, "WebSocket handshake failed: {reason}"),
            ConnectError::Subprotocol { negotiated: None } => {
                f.write_str("server did not accept the \"sip\" subprotocol (none negotiated)")
            }
            ConnectError::Subprotocol {
                negotiated: Some(p),
            } => write!(
                f,
                "server did not accept the \"sip\" subprotocol (negotiated {p:?})"
            ),
            ConnectError::Closed(c) => write!(f, "closed before open: {}", CloseDisplay(c)),
            ConnectError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

/// Why the link declared an open connection dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeadReason {
    /// This many CRLF pings went unanswered, with no other inbound frame.
    NoPong {
        /// Unanswered pings (`keepalive.max_unanswered`).
        unanswered: u32,
    },
    /// The fallback liveness probe went unanswered.
    NoProbeAnswer {
        /// The probe that was used.
        probe: FallbackProbe,
    },
}

impl fmt::Display for DeadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadReason::NoPong { unanswered } => {
                write!(f, "{unanswered} keepalive pings unanswered")
            }
            DeadReason::NoProbeAnswer { probe } => {
                write!(f, "liveness probe ({probe}) unanswered")
            }
        }
    }
}

/// Why an open connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The keepalive declared it dead; the link closed it.
    Dead(DeadReason),
    /// The server closed it with a Close frame.
    ServerClosed {
        /// The server's close code.
        code: u16,
        /// The server's reason text.
        reason: String,
    },
    /// It ended without a proper closing handshake (1006, TCP reset, EOF).
    Abnormal(CloseInfo),
    /// The application called [`Link::close`](super::Link::close).
    LocalClose,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Dead(d) => write!(f, "connection dead: {d}"),
            DisconnectReason::ServerClosed { code, reason } => {
                write!(f, "server closed with {code} {reason:?}")
            }
            DisconnectReason::Abnormal(c) => write!(f, "abnormal close: {}", CloseDisplay(c)),
            DisconnectReason::LocalClose => f.write_str("closed locally"),
        }
    }
}

struct CloseDisplay<'a>(&'a CloseInfo);

impl fmt::Display for CloseDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.code {
            Some(c) => write!(f, "code {c}")?,
            None => f.write_str("no close frame (1006)")?,
        }
        if !self.0.reason.is_empty() {
            write!(f, ", {}", self.0.reason)?;
        }
        Ok(())
    }
}

/// The last failure of a round of reconnect attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A connection attempt failed.
    Connect(ConnectError),
    /// A connection opened but ended before it proved live.
    Lost(DisconnectReason),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect(e) => e.fmt(f),
            Failure::Lost(r) => r.fmt(f),
        }
    }
}

/// Why the link gave up.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// `reconnect.max_attempts` attempts failed in a row.
    AttemptsExhausted {
        /// Attempts made in the round.
        attempts: u32,
        /// What happened last.
        last: Failure,
    },
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::AttemptsExhausted { attempts, last } => {
                write!(
                    f,
                    "gave up after {attempts} reconnect attempts; last: {last}"
                )
            }
        }
    }
}

/// Why a frame accepted by [`Link::send`](super::Link::send) was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendFailReason {
    /// The link failed (reconnect attempts exhausted) while the frame waited.
    LinkFailed,
    /// The send queue was full (by count or bytes) while the link was down.
    QueueOverflow,
    /// The application closed the link while the frame waited.
    LocallyClosed,
}

impl fmt::Display for SendFailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendFailReason::LinkFailed => "link failed",
            SendFailReason::QueueOverflow => "send queue full",
            SendFailReason::LocallyClosed => "link closed locally",
        })
    }
}

/// What the link has learned about a server's keepalive behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Liveness {
    /// The server answers CRLF pings (first pong seen).
    AnswersCrlf,
    /// The server let every CRLF ping go unanswered and has never sent a
    /// pong: the link now proves liveness with `probe` instead.
    NeverPongs {
        /// The fallback probe now in use.
        probe: FallbackProbe,
    },
}

/// Something the layer above (or an operator) should know, drained with
/// [`Link::poll_event`](super::Link::poll_event) in order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkEvent {
    /// A connection attempt starts ([`Transmit::Connect`] was queued).
    Connecting {
        /// The server tried.
        url: String,
        /// 0 for the first connect of a round, else the reconnect attempt.
        attempt: u32,
    },
    /// The first connection after [`Link::connect`](super::Link::connect)
    /// is open with the `sip` subprotocol.
    Connected {
        /// The server.
        url: String,
        /// The negotiated subprotocol (`sip`).
        protocol: String,
    },
    /// A connection attempt failed; a [`LinkEvent::Reconnecting`] or
    /// [`LinkEvent::Failed`] follows.
    ConnectFailed {
        /// The server tried.
        url: String,
        /// Why.
        reason: ConnectError,
    },
    /// A CRLF keepalive ping was sent.
    PingSent {
        /// 1 for the first ping since the last sign of life, 2 for the
        /// next, … up to `keepalive.max_unanswered`.
        n: u32,
    },
    /// A CRLF pong arrived.
    PongReceived {
        /// Time since the last ping, `None` for an unsolicited pong.
        rtt: Option<Duration>,
    },
    /// Ping #1 went unanswered for `first_retry`: the link now pings every
    /// `retry`.
    ProbingEscalated {
        /// Pings unanswered so far.
        unanswered: u32,
    },
    /// The server pinged us with `"\r\n\r\n"`; the link answered `"\r\n"`
    /// with the same opcode. The frame goes no further.
    ServerPingAnswered {
        /// The opcode of the ping (and of the answer).
        opcode: Opcode,
    },
    /// A fact about the server's keepalive behaviour was learned; it is kept
    /// in the server's health record for every later connection.
    LivenessLearned {
        /// The server.
        url: String,
        /// What was learned.
        liveness: Liveness,
    },
    /// A fallback liveness probe was sent as [`Transmit::Ping`].
    ProbeSent {
        /// The probe used.
        probe: FallbackProbe,
    },
    /// The layer above should send a liveness request now (e.g. `OPTIONS`)
    /// and report the answer with
    /// [`Link::handle_probe_answered`](super::Link::handle_probe_answered)
    /// (any inbound frame also counts).
    ProbeRequested,
    /// The fallback probe was answered.
    ProbeAnswered {
        /// Time since the probe.
        rtt: Duration,
    },
    /// The keepalive declared the connection dead; it is being closed.
    ConnectionDead {
        /// Why.
        reason: DeadReason,
    },
    /// An open connection ended.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// A reconnect attempt is scheduled.
    Reconnecting {
        /// The attempt number, 1-based.
        attempt: u32,
        /// `reconnect.max_attempts`.
        of: u32,
        /// The delay (jitter included) before the attempt.
        delay: Duration,
        /// The server the attempt will use.
        url: String,
    },
    /// A connection is open again after one was lost. The signaling layer
    /// re-registers (a new WebSocket is a new flow).
    Reconnected {
        /// The server.
        url: String,
        /// The negotiated subprotocol (`sip`).
        protocol: String,
    },
    /// The link gave up; it stays down until
    /// [`Link::connect`](super::Link::connect) or
    /// [`Link::handle_network_change`](super::Link::handle_network_change).
    Failed {
        /// Why.
        reason: FailReason,
    },
    /// A frame accepted by [`Link::send`](super::Link::send) will not be
    /// sent; its bytes come back.
    SendFailed {
        /// The payload.
        data: Vec<u8>,
        /// Its opcode.
        opcode: Opcode,
        /// Why.
        reason: SendFailReason,
    },
    /// An inbound WebSocket message that is not a keepalive: a SIP message
    /// (or garbage) for the router.
    Frame {
        /// The payload.
        data: Vec<u8>,
        /// Text or binary.
        opcode: Opcode,
    },
}

/// Local misuse of [`Link::send`](super::Link::send). Network trouble is
/// never an error here: it comes back as [`LinkEvent::SendFailed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendError {
    /// The frame is larger than `queue.max_frame_bytes`.
    TooLarge {
        /// The frame's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The link is not started (never connected, or closed locally): call
    /// [`Link::connect`](super::Link::connect) first.
    NotStarted,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max}")
            }
            SendError::NotStarted => f.write_str("link not started: call connect() first"),
        }
    }
}

impl std::error::Error for SendError {}

impl fmt::Display for Liveness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Liveness::AnswersCrlf => f.write_str("server answers CRLF keepalive pings"),
            Liveness::NeverPongs { probe } => write!(
                f,
                "server never answered a CRLF keepalive ping; proving liveness with {probe} instead"
            ),
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Opcode::Text => "text",
            Opcode::Binary => "binary",
        })
    }
}

/// One line for an operator, e.g. `ping #2 sent` or
/// `reconnecting: attempt 1/3 in 1.000 s to ws://127.0.0.1:8080`.
impl fmt::Display for LinkEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkEvent::Connecting { url, attempt: 0 } => write!(f, "connecting to {url}"),
            LinkEvent::Connecting { url, attempt } => {
                write!(f, "connecting to {url} (attempt {attempt})")
            }
            LinkEvent::Connected { url, protocol } => {
                write!(f, "connected to {url} (subprotocol {protocol})")
            }
            LinkEvent::ConnectFailed { url, reason } => {
                write!(f, "connection to {url} failed: {reason}")
            }
            LinkEvent::PingSent { n } => write!(f, "ping #{n} sent"),
            LinkEvent::PongReceived { rtt: Some(rtt) } => {
                write!(f, "pong received (rtt {} ms)", rtt.as_millis())
            }
            LinkEvent::PongReceived { rtt: None } => f.write_str("pong received (unsolicited)"),
            LinkEvent::ProbingEscalated { unanswered } => {
                write!(f, "probing escalated: {unanswered} ping(s) unanswered")
            }
            LinkEvent::ServerPingAnswered { opcode } => {
                write!(f, "server ping answered ({opcode})")
            }
            LinkEvent::LivenessLearned { url, liveness } => write!(f, "{url}: {liveness}"),
            LinkEvent::ProbeSent { probe } => write!(f, "liveness probe sent ({probe})"),
            LinkEvent::ProbeRequested => f.write_str("liveness probe requested (send OPTIONS)"),
            LinkEvent::ProbeAnswered { rtt } => {
                write!(f, "liveness probe answered (rtt {} ms)", rtt.as_millis())
            }
            LinkEvent::ConnectionDead { reason } => write!(f, "connection dead: {reason}"),
            LinkEvent::Disconnected { reason } => write!(f, "disconnected: {reason}"),
            LinkEvent::Reconnecting {
                attempt,
                of,
                delay,
                url,
            } => write!(
                f,
                "reconnecting: attempt {attempt}/{of} in {}.{:03} s to {url}",
                delay.as_secs(),
                delay.subsec_millis()
            ),
            LinkEvent::Reconnected { url, protocol } => {
                write!(f, "reconnected to {url} (subprotocol {protocol})")
            }
            LinkEvent::Failed { reason } => write!(f, "link failed: {reason}"),
            LinkEvent::SendFailed { data, reason, .. } => {
                write!(
                    f,
                    "send failed ({reason}): {} bytes handed back",
                    data.len()
                )
            }
            LinkEvent::Frame { data, opcode } => {
                write!(f, "frame received ({opcode}, {} bytes)", data.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_lines() {
        let lines = [
            LinkEvent::PingSent { n: 2 }.to_string(),
            LinkEvent::Reconnecting {
                attempt: 1,
                of: 3,
                delay: Duration::from_millis(839),
                url: "ws://127.0.0.1:8080".into(),
            }
            .to_string(),
            LinkEvent::ConnectionDead {
                reason: DeadReason::NoPong { unanswered: 4 },
            }
            .to_string(),
            LinkEvent::LivenessLearned {
                url: "ws://127.0.0.1:8080".into(),
                liveness: Liveness::NeverPongs {
                    probe: FallbackProbe::WsPing,
                },
            }
            .to_string(),
            LinkEvent::Disconnected {
                reason: DisconnectReason::Abnormal(CloseInfo::default()),
            }
            .to_string(),
        ];
        assert_eq!(
            lines,
            [
                "ping #2 sent",
                "reconnecting: attempt 1/3 in 0.839 s to ws://127.0.0.1:8080",
                "connection dead: 4 keepalive pings unanswered",
                "ws://127.0.0.1:8080: server never answered a CRLF keepalive ping; \
                 proving liveness with websocket ping instead",
                "disconnected: abnormal close: no close frame (1006)",
            ]
        );
    }
}
