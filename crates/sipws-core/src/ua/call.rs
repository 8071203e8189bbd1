//! Calls: the INVITE dialog usage (RFC 3261 §13–15) on both sides.
//!
//! - Outgoing: INVITE with the application's SDP; 1xx → `CallProgress`;
//!   2xx → dialog, ACK (the user agent's job, §13.2.2.4; re-sent for each
//!   2xx retransmission); non-2xx → the INVITE transaction ACKs it;
//!   401/407 → the INVITE again with credentials; CANCEL once a
//!   provisional response arrived (held until then, §9.1).
//! - Incoming: `100 Trying` at once (the transaction layer), then the
//!   application's 180/183/2xx/4xx–6xx; our 2xx is retransmitted at T1,
//!   2·T1, … capped at T2 until the ACK arrives (§13.3.1.4; sent through
//!   the INVITE server transaction in its Accepted state); without an ACK
//!   within 64·T1 (the transaction's Timer L) the call ends with BYE.
//! - Both: BYE either way, re-INVITE either way (ours carries our current
//!   Contact; after a reconnect every established call sends one, so the
//!   proxy learns the new flow and the call survives).

use core::time::Duration;

use super::dialog::Dialog;
use super::event::CallId;
use crate::message::OwnedMessage;
use crate::time::Instant;
use crate::txn::TxnId;

/// Which side placed the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We sent the INVITE.
    Outgoing,
    /// We received the INVITE.
    Incoming,
}

/// Where a call stands (see [`super::UserAgent::call_state`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallState {
    /// Outgoing: INVITE sent, no provisional response yet. Incoming: the
    /// application has not answered yet.
    Calling,
    /// A provisional response was received (outgoing) or sent (incoming).
    Ringing,
    /// Incoming: our 2xx went out, its ACK has not arrived.
    Answered,
    /// The dialog is confirmed (2xx and ACK).
    Confirmed,
    /// A BYE or CANCEL of ours is in flight.
    Ending,
}

/// The 2xx retransmission of an incoming call (§13.3.1.4): the next send
/// and the interval before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Retransmit {
    pub(crate) next: Instant,
    pub(crate) interval: Duration,
}

impl Retransmit {
    /// The 2xx went out at `now`: again at `now + T1`.
    pub(crate) fn start(now: Instant, t1: Duration) -> Retransmit {
        Retransmit {
            next: now + t1,
            interval: t1,
        }
    }

    /// After a send at `next`: the interval doubles up to `t2` (a late
    /// call does not burst: the next send counts from `now` then).
    pub(crate) fn advance(&mut self, now: Instant, t2: Duration) {
        self.interval = self.interval.saturating_mul(2).min(t2);
        let mut next = self.next + self.interval;
        if next <= now {
            next = now + self.interval;
        }
        self.next = next;
    }
}

/// One call's record.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) id: CallId,
    pub(crate) direction: Direction,
    pub(crate) state: CallState,
    /// Our tag (From of an outgoing call, To of an incoming one).
    pub(crate) local_tag: String,
    /// Set once the dialog exists (2xx sent or received).
    pub(crate) dialog: Option<Dialog>,
    /// Outgoing: the INVITE as last sent (credentials retry, CANCEL).
    pub(crate) invite: Option<OwnedMessage>,
    /// The INVITE transaction (client for outgoing, server for incoming).
    pub(crate) invite_txn: Option<TxnId>,
    /// Incoming: the INVITE received.
    pub(crate) request: Option<OwnedMessage>,
    /// Our SDP (offer or answer), sent again in re-INVITEs.
    pub(crate) local_sdp: Vec<u8>,
    /// Outgoing: a provisional response arrived (CANCEL allowed).
    pub(crate) provisional: bool,
    /// Outgoing: hang up as soon as possible (CANCEL after the first
    /// provisional, BYE after a 2xx).
    pub(crate) cancel_pending: bool,
    /// Outgoing: our CANCEL went out.
    pub(crate) cancelled: bool,
    /// Outgoing: the ACK of the 2xx, re-sent for each 2xx retransmission.
    pub(crate) ack: Option<Vec<u8>>,
    /// Incoming: our 2xx, retransmitted until the ACK.
    pub(crate) ok: Option<OwnedMessage>,
    pub(crate) retransmit: Option<Retransmit>,
    /// Our re-INVITE in flight, and its request.
    pub(crate) reinvite: Option<(TxnId, OwnedMessage)>,
    /// A re-INVITE is wanted once the current one is done.
    pub(crate) reinvite_pending: bool,
    /// Outgoing: other forks that answered 2xx (their To tag and ACK);
    /// each got ACK and BYE.
    pub(crate) forks: Vec<(String, Vec<u8>)>,
    /// Our re-INVITE met glare (491): try again at this instant.
    pub(crate) reinvite_at: Option<Instant>,
}

impl Call {
    pub(crate) fn new(
        id: CallId,
        direction: Direction,
        local_tag: String,
        local_sdp: Vec<u8>,
    ) -> Call {
        Call {
            id,
            direction,
            state: CallState::Calling,
            local_tag,
            dialog: None,
            invite: None,
            invite_txn: None,
            request: None,
            local_sdp,
            provisional: false,
            cancel_pending: false,
            cancelled: false,
            ack: None,
            ok: None,
            retransmit: None,
            reinvite: None,
            reinvite_pending: false,
            reinvite_at: None,
            forks: Vec::new(),
        }
    }

    /// The next 2xx retransmission or re-INVITE retry, if any.
    pub(crate) fn timeout(&self) -> Option<Instant> {
        [self.retransmit.map(|r| r.next), self.reinvite_at]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmit_doubles_to_t2() {
        let t1 = Duration::from_millis(500);
        let t2 = Duration::from_secs(4);
        let mut r = Retransmit::start(Instant::ZERO, t1);
        let mut sends = vec![r.next.as_millis()];
        for _ in 0..6 {
            let now = r.next;
            r.advance(now, t2);
            sends.push(r.next.as_millis());
        }
        assert_eq!(sends, [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500]);
        // Called late: the next send counts from then.
        let mut r = Retransmit::start(Instant::ZERO, t1);
        r.advance(Instant::from_millis(9_000), t2);
        assert_eq!(r.next, Instant::from_millis(10_000));
    }
}
