//! Fault injection: the misbehaviours of real SIP-over-WebSocket servers,
//! switchable at run time through [`crate::TestbedHandle`].

use std::time::Duration;

/// The standing faults, read by every connection whenever they change.
/// One-shot actions (close with 1006, close with a code) are commands on
/// [`crate::TestbedHandle`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// Never answer CRLF pings.
    pub drop_pongs: bool,
    /// Hold each CRLF pong back this long.
    pub pong_delay: Option<Duration>,
    /// Answer only the first N CRLF pings of each connection.
    pub answer_first_pings: Option<u32>,
    /// Refuse this many upcoming handshakes with HTTP 503 (counts down).
    pub refuse_handshakes: u32,
    /// Answer the upgrade without `Sec-WebSocket-Protocol`.
    pub omit_subprotocol: bool,
    /// Stop reading every connection (half-open: the client's frames pile
    /// up in the kernel, nothing is answered).
    pub stop_reading: bool,
}
