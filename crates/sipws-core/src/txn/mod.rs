//! SIP transactions over a reliable transport (RFC 3261 §17, RFC 6026):
//! client and server, INVITE and non-INVITE, in one sans-IO table.
//!
//! Over a WebSocket nothing is retransmitted by the transaction layer
//! (Timers A, E and G do not run); the give-up timers B, F, H (and RFC
//! 6026's L and M) run 64·T1, and the absorbing timers D, I, J, K are zero
//! (they fire at the instant they start, on the next `handle_timeout`).
//!
//! Driving it: requests go out with [`Transactions::send_request`],
//! responses with [`Transactions::send_response`]; every incoming message
//! (parsed) goes through [`Transactions::handle_message`], whose
//! [`Incoming`] says what it was for. Then drain
//! [`Transactions::poll_transmit`] (to the link) and
//! [`Transactions::poll_event`], and call [`Transactions::handle_timeout`]
//! at [`Transactions::poll_timeout`]. A link send failure is reported with
//! [`Transactions::handle_send_failure`] (one transaction) or
//! [`Transactions::handle_link_down`] (all): they end with
//! [`TerminationReason::Transport`].
//!
//! Offered to the user agent core: the retransmission of a 2xx to INVITE
//! until its ACK (RFC 3261 §13.3.1.4; opt-in, [`TxnConfig::retransmit_2xx`]),
//! matching the ACK of a 2xx by Call-ID and CSeq number, building and
//! sending CANCEL ([`Transactions::cancel`]), finding the
//! INVITE a received CANCEL targets ([`Transactions::invite_for_cancel`]).
//! Left to it: the ACK of a 2xx (it needs the dialog's route set) and the
//! responses to a received CANCEL (200, then 487 to the INVITE).

pub mod cancel;
mod client;
mod event;
mod server;
pub mod timer;
pub mod via;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use event::{
    Incoming, TerminationReason, Transmit, TxnError, TxnEvent, TxnId, TxnKind, TxnState,
};
pub use timer::{Timer, TimerConfig};
pub use via::{top_via, TopVia, MAGIC_COOKIE};

use crate::message::{CSeq, HeaderName, Message, OwnedMessage};
use crate::time::Instant;

/// Settings of the transaction layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnConfig {
    /// T1 / T2 / T4.
    pub timers: TimerConfig,
    /// Send `100 Trying` as soon as an INVITE arrives (RFC 3261
    /// §17.2.1: unless the user agent answers within 200 ms). Default on.
    pub auto_trying: bool,
    /// Retransmit a 2xx to INVITE at T1, 2·T1, … capped at T2 until its
    /// ACK arrives (RFC 3261 §13.3.1.4; needed even over a WebSocket when a
    /// later hop is lossy). The RFC gives this to the UAS core, and
    /// `sipws_core::ua` does it there (sending through
    /// [`Transactions::send_response`]), so it is off by default; turn it
    /// on for a core that wants the transaction layer to do it instead.
    pub retransmit_2xx: bool,
}

impl Default for TxnConfig {
    fn default() -> Self {
        TxnConfig {
            timers: TimerConfig::default(),
            auto_trying: true,
            retransmit_2xx: false,
        }
    }
}

/// One transaction's record.
#[derive(Debug)]
pub(crate) struct Transaction {
    pub(crate) id: TxnId,
    pub(crate) kind: TxnKind,
    pub(crate) state: TxnState,
    pub(crate) timer: Option<(Timer, Instant)>,
    pub(crate) branch: String,
    /// The CSeq method (INVITE for the server transaction an ACK matches).
    pub(crate) method: String,
    /// Top Via sent-by, ASCII-lowercased (server transactions).
    pub(crate) sent_by: String,
    /// The request (client transactions: the ACK of a non-2xx needs it).
    pub(crate) request: Option<OwnedMessage>,
    /// The last response sent (server transactions resend it).
    pub(crate) last_response: Option<Vec<u8>>,
    /// Call-ID and CSeq number (server INVITE: an ACK of a 2xx carries its
    /// own branch and is matched by these instead).
    pub(crate) call_id: String,
    pub(crate) seq: u32,
    /// The 2xx retransmission (server INVITE in Accepted): next send and
    /// the interval after it.
    pub(crate) retransmit: Option<(Instant, core::time::Duration)>,
    /// An ACK for the 2xx was seen.
    pub(crate) acked: bool,
}

/// Outputs collected by transitions.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<TxnEvent>,
}

impl Transaction {
    pub(crate) fn start(&mut self, timer: Timer, now: Instant, config: &TimerConfig) {
        self.timer = Some((timer, now + config.duration(timer)));
    }

    pub(crate) fn send(&self, data: Vec<u8>, out: &mut Outputs) {
        out.transmits.push_back(Transmit { txn: self.id, data });
    }

    pub(crate) fn terminate(&mut self, reason: TerminationReason, out: &mut Outputs) {
        if self.state == TxnState::Terminated {
            return;
        }
        self.state = TxnState::Terminated;
        self.timer = None;
        out.events.push_back(TxnEvent::Terminated {
            id: self.id,
            kind: self.kind,
            reason,
        });
    }
}

/// The transaction table: every live client and server transaction.
#[derive(Debug)]
pub struct Transactions {
    config: TxnConfig,
    next_id: u64,
    live: Vec<Transaction>,
    out: Outputs,
}

impl Transactions {
    /// An empty table.
    #[must_use]
    pub fn new(config: TxnConfig) -> Transactions {
        Transactions {
            config,
            next_id: 1,
            live: Vec::new(),
            out: Outputs::default(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TxnConfig {
        &self.config
    }

    /// How many transactions are live.
    #[must_use]
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether no transaction is live.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The state of a live transaction (`None` once terminated).
    #[must_use]
    pub fn state(&self, id: TxnId) -> Option<TxnState> {
        self.get(id).map(|t| t.state)
    }

    /// The kind of a live transaction.
    #[must_use]
    pub fn kind(&self, id: TxnId) -> Option<TxnKind> {
        self.get(id).map(|t| t.kind)
    }

    fn get(&self, id: TxnId) -> Option<&Transaction> {
        self.live.iter().find(|t| t.id == id)
    }

    fn alloc_id(&mut self) -> TxnId {
        let id = TxnId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Start a client transaction for `request` (not ACK), which must carry
    /// a top Via with an RFC 3261 branch and a CSeq of its own method. Its
    /// bytes are queued for [`Transactions::poll_transmit`].
    pub fn send_request(&mut self, now: Instant, request: OwnedMessage) -> Result<TxnId, TxnError> {
        let method = request.method().ok_or(TxnError::NotARequest)?.to_owned();
        if method == "ACK" {
            return Err(TxnError::AckIsNotATransaction);
        }
        let via = request
            .header(HeaderName::Via)
            .and_then(top_via)
            .ok_or(TxnError::NoVia)?;
        let branch = via
            .branch
            .filter(|b| b.starts_with(MAGIC_COOKIE))
            .ok_or(TxnError::NoBranch)?
            .to_owned();
        let cseq = request
            .header(HeaderName::CSeq)
            .and_then(|v| CSeq::parse(v).ok())
            .ok_or(TxnError::NoCSeq)?;
        if cseq.method != method {
            return Err(TxnError::CSeqMismatch);
        }
        if self
            .live
            .iter()
            .any(|t| t.kind.is_client() && t.branch == branch && t.method == method)
        {
            return Err(TxnError::DuplicateTransaction);
        }
        let id = self.alloc_id();
        let invite = method == "INVITE";
        let mut t = Transaction {
            id,
            kind: if invite {
                TxnKind::ClientInvite
            } else {
                TxnKind::ClientNonInvite
            },
            state: if invite {
                TxnState::Calling
            } else {
                TxnState::Trying
            },
            timer: None,
            branch,
            method,
            sent_by: via.sent_by.to_ascii_lowercase(),
            request: None,
            last_response: None,
            call_id: String::new(),
            seq: cseq.seq,
            retransmit: None,
            acked: false,
        };
        t.start(
            if invite { Timer::B } else { Timer::F },
            now,
            &self.config.timers,
        );
        t.send(request.to_bytes(), &mut self.out);
        t.request = Some(request);
        self.live.push(t);
        Ok(id)
    }

    /// Send `response` in server transaction `id`.
    pub fn send_response(
        &mut self,
        now: Instant,
        id: TxnId,
        response: &OwnedMessage,
    ) -> Result<(), TxnError> {
        let status = response.status().ok_or(TxnError::NotAResponse)?;
        if !(100..=699).contains(&status) {
            return Err(TxnError::BadStatus(status));
        }
        let config = self.config;
        let t = self
            .live
            .iter_mut()
            .find(|t| t.id == id && !t.kind.is_client())
            .ok_or(TxnError::UnknownTransaction)?;
        server::send_response(t, now, &config, status, response.to_bytes(), &mut self.out)
    }

    /// Route one incoming message (already parsed) to its transaction, or
    /// open a server transaction for a new request. Errors only for
    /// messages without the Via / CSeq needed to match them.
    pub fn handle_message(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
    ) -> Result<Incoming, TxnError> {
        let via = msg
            .header(HeaderName::Via)
            .and_then(top_via)
            .ok_or(TxnError::NoVia)?;
        let cseq = msg.cseq().ok_or(TxnError::NoCSeq)?;
        let timers = self.config.timers;
        let result = if let Some(status) = msg.status() {
            let Some(branch) = via.branch else {
                return Ok(Incoming::StrayResponse);
            };
            match self
                .live
                .iter_mut()
                .find(|t| t.kind.is_client() && t.branch == branch && t.method == cseq.method)
            {
                Some(t) => {
                    let to = msg.header(HeaderName::To).unwrap_or("");
                    client::on_response(t, now, &timers, status, to, &mut self.out)
                }
                None => Incoming::StrayResponse,
            }
        } else {
            let method = msg.method().unwrap_or("");
            if cseq.method != method {
                return Err(TxnError::CSeqMismatch);
            }
            let branch = via
                .branch
                .filter(|b| b.starts_with(MAGIC_COOKIE))
                .ok_or(TxnError::NoBranch)?;
            let sent_by = via.sent_by.to_ascii_lowercase();
            let matched_method = if method == "ACK" { "INVITE" } else { method };
            let call_id = msg.call_id().unwrap_or("");
            let found = self.live.iter().position(|t| {
                !t.kind.is_client()
                    && t.branch == branch
                    && t.sent_by == sent_by
                    && t.method == matched_method
            });
            // The ACK of a 2xx has a branch of its own: match it to the
            // INVITE in Accepted by Call-ID and CSeq number.
            let found = found
                .or_else(|| {
                    (method == "ACK").then(|| {
                        self.live.iter().position(|t| {
                            t.kind == TxnKind::ServerInvite
                                && t.state == TxnState::Accepted
                                && t.call_id == call_id
                                && t.seq == cseq.seq
                        })
                    })?
                })
                .and_then(|i| self.live.get_mut(i));
            match (found, method == "ACK") {
                (Some(t), true) => server::on_ack(t, now, &timers, &mut self.out),
                (None, true) => Incoming::Ack { id: None },
                (Some(t), false) => server::on_retransmission(t, &mut self.out),
                (None, false) => {
                    let id = self.alloc_id();
                    let t = server::create(
                        id,
                        msg,
                        branch,
                        sent_by,
                        (method, cseq.seq),
                        self.config.auto_trying,
                        &mut self.out,
                    );
                    self.live.push(t);
                    Incoming::Request { id }
                }
            }
        };
        self.sweep();
        Ok(result)
    }

    /// The INVITE server transaction a received CANCEL (server transaction
    /// `cancel`) targets: same branch and sent-by (RFC 3261 §9.2).
    #[must_use]
    pub fn invite_for_cancel(&self, cancel: TxnId) -> Option<TxnId> {
        let c = self.get(cancel).filter(|c| c.method == "CANCEL")?;
        self.live
            .iter()
            .find(|t| {
                t.kind == TxnKind::ServerInvite && t.branch == c.branch && t.sent_by == c.sent_by
            })
            .map(|t| t.id)
    }

    /// Sending a [`Transmit`] of transaction `id` failed: the transaction
    /// ends with [`TerminationReason::Transport`]. Unknown ids are ignored.
    pub fn handle_send_failure(&mut self, _now: Instant, id: TxnId, reason: &str) {
        if let Some(t) = self.live.iter_mut().find(|t| t.id == id) {
            t.terminate(
                TerminationReason::Transport(reason.to_owned()),
                &mut self.out,
            );
        }
        self.sweep();
    }

    /// The link is gone: over a connection-oriented transport no response
    /// can come back on another one, so every live transaction ends with
    /// [`TerminationReason::Transport`].
    pub fn handle_link_down(&mut self, _now: Instant, reason: &str) {
        for t in &mut self.live {
            t.terminate(
                TerminationReason::Transport(reason.to_owned()),
                &mut self.out,
            );
        }
        self.sweep();
    }

    /// Fire every timer due at `now`. Safe to call early (nothing happens)
    /// or twice (a fired timer is gone).
    pub fn handle_timeout(&mut self, now: Instant) {
        let t2 = self.config.timers.t2;
        for t in &mut self.live {
            if let Some((at, interval)) = t.retransmit {
                if at <= now {
                    if let Some(last) = &t.last_response {
                        t.send(last.clone(), &mut self.out);
                    }
                    // T1, 2·T1, 4·T1 … capped at T2; a late call does not
                    // burst (the next send is counted from now then).
                    let next = interval.saturating_mul(2).min(t2);
                    let mut next_at = at + next;
                    if next_at <= now {
                        next_at = now + next;
                    }
                    t.retransmit = Some((next_at, next));
                }
            }
            let Some((timer, at)) = t.timer else { continue };
            if at > now {
                continue;
            }
            t.timer = None;
            let reason = match timer {
                Timer::B | Timer::F | Timer::H => TerminationReason::Timeout(timer),
                // A 2xx nobody ACKed: the UA should end the dialog with a
                // BYE (RFC 3261 §13.3.1.4).
                Timer::L if !t.acked => TerminationReason::Timeout(timer),
                Timer::D | Timer::I | Timer::J | Timer::K | Timer::L | Timer::M => {
                    TerminationReason::Completed
                }
            };
            t.terminate(reason, &mut self.out);
        }
        self.sweep();
    }

    fn sweep(&mut self) {
        self.live.retain(|t| t.state != TxnState::Terminated);
    }

    /// The next message to send on the link.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<TxnEvent> {
        self.out.events.pop_front()
    }

    /// The earliest timer deadline, if any timer runs.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.live
            .iter()
            .flat_map(|t| [t.timer.map(|(_, at)| at), t.retransmit.map(|(at, _)| at)])
            .flatten()
            .min()
    }

    /// When a server INVITE transaction sends its 2xx again next.
    #[must_use]
    pub fn retransmit_at(&self, id: TxnId) -> Option<Instant> {
        self.get(id).and_then(|t| t.retransmit.map(|(at, _)| at))
    }

    /// Send a CANCEL for client INVITE transaction `invite` (RFC 3261
    /// §9.1): allowed once a provisional response arrived (Proceeding);
    /// the CANCEL is a non-INVITE client transaction of its own, returned.
    pub fn cancel(&mut self, now: Instant, invite: TxnId) -> Result<TxnId, TxnError> {
        let t = self
            .live
            .iter()
            .find(|t| t.id == invite && t.kind == TxnKind::ClientInvite)
            .ok_or(TxnError::UnknownTransaction)?;
        if t.state != TxnState::Proceeding {
            return Err(TxnError::NotCancellable(t.state));
        }
        let request = t.request.as_ref().ok_or(TxnError::UnknownTransaction)?;
        let cancel = cancel::build_cancel(request).map_err(TxnError::Build)?;
        self.send_request(now, cancel)
    }

    /// The timer transaction `id` runs and when it fires.
    #[must_use]
    pub fn timer(&self, id: TxnId) -> Option<(Timer, Instant)> {
        self.get(id).and_then(|t| t.timer)
    }
}
