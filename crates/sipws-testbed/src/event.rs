//! What the testbed reports: one [`TestbedEvent`] per thing it does, on a
//! broadcast channel, so tests assert on behaviour instead of sleeping.

use std::net::SocketAddr;
use std::time::Duration;

use crate::peer::PeerCallState;

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
    /// A REGISTER added or refreshed a binding.
    Registered {
        /// The connection that registered.
        conn: ConnId,
        /// The address-of-record (`user@domain`).
        aor: String,
        /// The Contact URI bound.
        contact: String,
        /// The lifetime granted, in seconds.
        expires: u32,
    },
    /// A binding went away (un-REGISTER, `Contact: *`, or all bindings
    /// dropped as a restart would).
    Unregistered {
        /// The connection that had registered it.
        conn: ConnId,
        /// The address-of-record.
        aor: String,
        /// The Contact URI.
        contact: String,
        /// Why, in words.
        reason: String,
    },
    /// A REGISTER was answered 401 with a digest challenge.
    AuthChallenged {
        /// The connection.
        conn: ConnId,
        /// The address-of-record.
        aor: String,
        /// The challenge's algorithm token (`MD5`, `SHA-256`).
        algorithm: String,
    },
    /// A REGISTER's credentials did not verify.
    AuthFailed {
        /// The connection.
        conn: ConnId,
        /// The address-of-record.
        aor: String,
        /// What was wrong, in words.
        reason: String,
        /// Whether the answer was 403 (too many failures) rather than a
        /// new 401.
        forbidden: bool,
    },
    /// The testbed answered a request itself (OPTIONS to it, 404 for an
    /// unknown user, 480 for a gone connection, 100 Trying, …).
    SipAnswered {
        /// The connection the answer went to.
        conn: ConnId,
        /// The request's method.
        method: String,
        /// The status sent.
        status: u16,
    },
    /// A SIP frame was dropped or could not be handled.
    SipDropped {
        /// The connection it came from.
        conn: ConnId,
        /// Why, in words.
        reason: String,
    },
    /// A request was relayed between two client connections.
    RequestRelayed {
        /// The sending connection.
        from: ConnId,
        /// The connection it was sent on.
        to: ConnId,
        /// Its method.
        method: String,
        /// Its Call-ID.
        call_id: String,
    },
    /// A response was relayed back by its top Via.
    ResponseRelayed {
        /// The connection it came from.
        from: ConnId,
        /// The connection it was sent on.
        to: ConnId,
        /// Its status.
        status: u16,
        /// The method of its CSeq.
        method: String,
    },
    /// A call of the scripted peer changed state.
    PeerCall {
        /// The client connection of the call.
        conn: ConnId,
        /// Its Call-ID.
        call_id: String,
        /// The new state.
        state: PeerCallState,
    },
    /// The scripted peer answered a request other than INVITE.
    PeerRequest {
        /// The connection.
        conn: ConnId,
        /// Its Call-ID.
        call_id: String,
        /// Its method.
        method: String,
        /// The status the peer sent.
        status: u16,
    },
    /// A response to a request the scripted peer sent.
    PeerResponse {
        /// The connection.
        conn: ConnId,
        /// Its Call-ID.
        call_id: String,
        /// The method of its CSeq.
        method: String,
        /// Its status.
        status: u16,
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
    /// The connection this event is about (the sending one for relays).
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
            | TestbedEvent::Disconnected { conn, .. }
            | TestbedEvent::Registered { conn, .. }
            | TestbedEvent::Unregistered { conn, .. }
            | TestbedEvent::AuthChallenged { conn, .. }
            | TestbedEvent::AuthFailed { conn, .. }
            | TestbedEvent::SipAnswered { conn, .. }
            | TestbedEvent::SipDropped { conn, .. }
            | TestbedEvent::PeerCall { conn, .. }
            | TestbedEvent::PeerRequest { conn, .. }
            | TestbedEvent::PeerResponse { conn, .. } => *conn,
            TestbedEvent::RequestRelayed { from, .. }
            | TestbedEvent::ResponseRelayed { from, .. } => *from,
        }
    }
}

/// Why [`wait_for_event`] returned without an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// No matching event within the limit.
    Timeout(Duration),
    /// The testbed stopped (its event channel closed).
    Stopped,
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::Timeout(limit) => write!(f, "no matching testbed event within {limit:?}"),
            WaitError::Stopped => f.write_str("the testbed stopped"),
        }
    }
}

impl std::error::Error for WaitError {}

/// The next event from `rx` that `pick` accepts, skipping the others (and
/// the gap a slow reader lags behind by), within `limit`: what a test of
/// an embedding program awaits instead of sleeping.
///
/// # Errors
/// [`WaitError::Timeout`] after `limit`, [`WaitError::Stopped`] when the
/// testbed is gone.
pub async fn wait_for_event(
    rx: &mut tokio::sync::broadcast::Receiver<TestbedEvent>,
    limit: Duration,
    pick: impl Fn(&TestbedEvent) -> bool,
) -> Result<TestbedEvent, WaitError> {
    use tokio::sync::broadcast::error::RecvError;
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(e) if pick(&e) => return Ok(e),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return Err(WaitError::Stopped),
            }
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .unwrap_or(Err(WaitError::Timeout(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::broadcast;

    fn accepted(n: u64) -> TestbedEvent {
        TestbedEvent::Accepted {
            conn: ConnId(n),
            peer: SocketAddr::from(([127, 0, 0, 1], 5060)),
        }
    }

    #[tokio::test]
    async fn wait_for_event_skips_others_and_reports_why_it_gave_up() {
        let (tx, mut rx) = broadcast::channel(8);
        tx.send(accepted(1)).unwrap();
        tx.send(accepted(2)).unwrap();
        let got = wait_for_event(&mut rx, Duration::from_secs(5), |e| e.conn() == ConnId(2)).await;
        assert_eq!(got, Ok(accepted(2)));
        let limit = Duration::from_millis(20);
        assert_eq!(
            wait_for_event(&mut rx, limit, |_| true).await,
            Err(WaitError::Timeout(limit))
        );
        drop(tx);
        assert_eq!(
            wait_for_event(&mut rx, Duration::from_secs(5), |_| true).await,
            Err(WaitError::Stopped)
        );
    }
}
