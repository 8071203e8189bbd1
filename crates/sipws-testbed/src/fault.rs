//! Fault injection: the misbehaviours of real SIP-over-WebSocket servers,
//! switchable at run time through [`crate::TestbedHandle`].
//!
//! [`Faults`] stand for every connection (and, for the handshake faults,
//! for every upcoming connection); [`ConnFaults`] override the per-frame
//! ones for one open connection
//! ([`crate::TestbedHandle::update_conn_faults`]).

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

/// Overrides of the per-frame faults for one connection: each `Some`
/// wins over the standing [`Faults`] for that connection only; `None`
/// follows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnFaults {
    /// Never answer this connection's CRLF pings (`Some(true)`), or
    /// always answer them (`Some(false)`) whatever the standing fault.
    pub drop_pongs: Option<bool>,
    /// Hold this connection's pongs back (`Some(Some(d))`) or not
    /// (`Some(None)`).
    pub pong_delay: Option<Option<Duration>>,
    /// Answer only the first N pings of this connection (`Some(Some(n))`)
    /// or all of them (`Some(None)`).
    pub answer_first_pings: Option<Option<u32>>,
    /// Stop reading this connection (`Some(true)`) or keep reading it
    /// (`Some(false)`).
    pub stop_reading: Option<bool>,
}

impl ConnFaults {
    /// The faults in force for a connection: `standing` with these
    /// overrides applied.
    #[must_use]
    pub fn apply(&self, standing: &Faults) -> Faults {
        let mut f = standing.clone();
        if let Some(v) = self.drop_pongs {
            f.drop_pongs = v;
        }
        if let Some(v) = self.pong_delay {
            f.pong_delay = v;
        }
        if let Some(v) = self.answer_first_pings {
            f.answer_first_pings = v;
        }
        if let Some(v) = self.stop_reading {
            f.stop_reading = v;
        }
        f
    }

    /// Whether no override is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == ConnFaults::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_over_standing_faults() {
        let standing = Faults {
            drop_pongs: true,
            pong_delay: Some(Duration::from_millis(5)),
            ..Faults::default()
        };
        let mut o = ConnFaults::default();
        assert!(o.is_empty());
        assert_eq!(o.apply(&standing), standing);
        o.drop_pongs = Some(false);
        o.pong_delay = Some(None);
        o.answer_first_pings = Some(Some(2));
        o.stop_reading = Some(true);
        let f = o.apply(&standing);
        assert!(!f.drop_pongs);
        assert_eq!(f.pong_delay, None);
        assert_eq!(f.answer_first_pings, Some(2));
        assert!(f.stop_reading);
        assert!(!o.is_empty());
    }
}
