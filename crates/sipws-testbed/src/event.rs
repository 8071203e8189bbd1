//! What the testbed reports: one [`TestbedEvent`] per thing it does, on a
//! broadcast channel, so tests assert on behaviour instead of sleeping.

use std::net::SocketAddr;
use std::time::Duration;

/// Identifies one accepted TCP connection for the testbed's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One thing the testbed did or saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TestbedEvent {
    /// A TCP connection was accepted.
    Accepted {
        /// The connection.
        conn: ConnId,
        /// The client's address.
        peer: SocketAddr,
    },
    /// The WebSocket upgrade was refused with an HTTP status.
    HandshakeRefused {
        /// The connection.
        conn: ConnId,
        /// The status sent (503 for an injected refusal, 400 when the
        /// client did not offer a supported subprotocol).
        status: u16,
    },
    /// The WebSocket upgrade failed (bad request, connection dropped).
    HandshakeFailed {
        /// The connection.
        conn: ConnId,
        /// What went wrong.
        reason: String,
    },
    /// The WebSocket is open.
    Upgraded {
        /// The connection.
        conn: ConnId,
        /// The subprotocol put in the answer, `None` when the
        /// "omit subprotocol" fault left it out.
        protocol: Option<String>,
    },
    /// A CRLF keepalive ping `"\r\n\r\n"` arrived.
    PingReceived {
        /// The connection.
        conn: ConnId,
        /// How many pings this connection has sent so far (1-based).
        count: u32,
    },
    /// A CRLF pong `"\r\n"` was sent.
    PongSent {
        /// The connection.
        conn: ConnId,
        /// How long it was held back (zero unless delayed).
        delay: Duration,
    },
    /// A ping was left unanswered on purpose.
    PongWithheld {
        /// The connection.
        conn: ConnId,
        /// Which fault withheld it.
        reason: PongWithheld,
    },
    /// A CRLF pong `"\r\n"` from the client (answer to a server ping).
    PongReceived {
        /// The connection.
        conn: ConnId,
    },
    /// Any other data frame arrived (a SIP message, normally).
    FrameReceived {
        /// The connection.
        conn: ConnId,
        /// Its payload.
        data: Vec<u8>,
        /// Whether it was a text frame.
        text: bool,
    },
    /// A data frame was sent on the testbed's initiative.
    FrameSent {
        /// The connection.
        conn: ConnId,
        /// Its length in bytes.
        len: usize,
    },
    /// A WebSocket Ping frame arrived (answered automatically).
    WsPingReceived {
        /// The connection.
        conn: ConnId,
    },
    /// A WebSocket Pong frame arrived (answer to
    /// [`TestbedHandle::ws_ping_all`](crate::TestbedHandle::ws_ping_all)).
    WsPongReceived {
        /// The connection.
        conn: ConnId,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// The testbed stopped reading this connection (half-open fault).
    ReadingStopped {
        /// The connection.
        conn: ConnId,
    },
    /// The testbed resumed reading this connection.
    ReadingResumed {
        /// The connection.
        conn: ConnId,
    },
    /// The testbed dropped the TCP connection without a close frame (the
    /// client sees 1006).
    DroppedAbnormally {
        /// The connection.
        conn: ConnId,
    },
    /// The testbed sent a close frame.
    CloseSent {
        /// The connection.
        conn: ConnId,
        /// The close code.
        code: u16,
    },
    /// The client sent a close frame.
    CloseReceived {
        /// The connection.
        conn: ConnId,
        /// Its code (1005 when it carried none).
        code: u16,
    },
    /// The connection is gone; nothing more will be reported about it.
    Disconnected {
        /// The connection.
        conn: ConnId,
        /// Why, in words.
        reason: String,
    },
}

/// Why the testbed did not answer a ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PongWithheld {
    /// The "drop pongs" fault is on.
    DropPongs,
    /// The "answer only the first N pings" budget is spent.
    PingBudgetSpent,
}

impl TestbedEvent {
    /// The connection this event is about.
    #[must_use]
    pub fn conn(&self) -> ConnId {
        match self {
            TestbedEvent::Accepted { conn, .. }
            | TestbedEvent::HandshakeRefused { conn, .. }
            | TestbedEvent::HandshakeFailed { conn, .. }
            | TestbedEvent::Upgraded { conn, .. }
            | TestbedEvent::PingReceived { conn, .. }
            | TestbedEvent::PongSent { conn, .. }
            | TestbedEvent::PongWithheld { conn, .. }
            | TestbedEvent::PongReceived { conn }
            | TestbedEvent::FrameReceived { conn, .. }
            | TestbedEvent::FrameSent { conn, .. }
            | TestbedEvent::WsPingReceived { conn }
            | TestbedEvent::WsPongReceived { conn, .. }
            | TestbedEvent::ReadingStopped { conn }
            | TestbedEvent::ReadingResumed { conn }
            | TestbedEvent::DroppedAbnormally { conn }
            | TestbedEvent::CloseSent { conn, .. }
            | TestbedEvent::CloseReceived { conn, .. }
            | TestbedEvent::Disconnected { conn, .. } => *conn,
        }
    }
}
