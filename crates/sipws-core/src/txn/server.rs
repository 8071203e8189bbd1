//! Server transaction transitions (RFC 3261 §17.2.1 INVITE, §17.2.2
//! non-INVITE; RFC 6026 Accepted), reliable transport.

use super::{
    Incoming, Outputs, Timer, TimerConfig, Transaction, TxnConfig, TxnError, TxnId, TxnKind,
    TxnState,
};
use crate::message::{Message, ResponseBuilder};
use crate::time::Instant;

/// A new server transaction for request `msg`; an INVITE gets `100
/// Trying` right away when `auto_trying` is set.
pub(crate) fn create(
    id: TxnId,
    msg: &Message<'_>,
    branch: &str,
    sent_by: String,
    (method, seq): (&str, u32),
    auto_trying: bool,
    out: &mut Outputs,
) -> Transaction {
    let invite = method == "INVITE";
    let mut t = Transaction {
        id,
        kind: if invite {
            TxnKind::ServerInvite
        } else {
            TxnKind::ServerNonInvite
        },
        state: if invite {
            TxnState::Proceeding
        } else {
            TxnState::Trying
        },
        timer: None,
        branch: branch.to_owned(),
        method: method.to_owned(),
        sent_by,
        request: None,
        last_response: None,
        call_id: msg.call_id().unwrap_or("").to_owned(),
        seq,
        retransmit: None,
        acked: false,
    };
    if invite && auto_trying {
        let b = ResponseBuilder::reply_to(msg, 100);
        if let Ok(trying) = b.build() {
            let bytes = trying.to_bytes();
            t.send(bytes.clone(), out);
            t.last_response = Some(bytes);
        }
    }
    t
}

/// The request came again.
pub(crate) fn on_retransmission(t: &mut Transaction, out: &mut Outputs) -> Incoming {
    // Both server machines resend their last response in Proceeding and
    // Completed; Trying (nothing sent yet), Accepted (the core resends its
    // 2xx) and Confirmed absorb silently.
    let resend = matches!(t.state, TxnState::Proceeding | TxnState::Completed);
    if resend {
        if let Some(last) = &t.last_response {
            t.send(last.clone(), out);
        }
    }
    Incoming::Retransmission { id: t.id }
}

/// An ACK matched INVITE server transaction `t`.
pub(crate) fn on_ack(
    t: &mut Transaction,
    now: Instant,
    timers: &TimerConfig,
    _out: &mut Outputs,
) -> Incoming {
    match t.state {
        TxnState::Completed => {
            t.state = TxnState::Confirmed;
            t.start(Timer::I, now, timers);
            Incoming::AckAbsorbed { id: t.id }
        }
        TxnState::Accepted => {
            t.acked = true;
            t.retransmit = None;
            Incoming::Ack { id: Some(t.id) }
        }
        _ => Incoming::AckAbsorbed { id: t.id },
    }
}

/// The user agent sends `status` (bytes `data`) in `t`.
pub(crate) fn send_response(
    t: &mut Transaction,
    now: Instant,
    config: &TxnConfig,
    status: u16,
    data: Vec<u8>,
    out: &mut Outputs,
) -> Result<(), TxnError> {
    match (t.kind, t.state) {
        (TxnKind::ServerInvite, TxnState::Proceeding) => {
            t.send(data.clone(), out);
            match status {
                100..=199 => t.last_response = Some(data),
                200..=299 => {
                    t.state = TxnState::Accepted;
                    t.start(Timer::L, now, &config.timers);
                    if config.retransmit_2xx {
                        let t1 = config.timers.t1;
                        t.retransmit = Some((now + t1, t1));
                        t.last_response = Some(data);
                    }
                }
                _ => {
                    t.last_response = Some(data);
                    t.state = TxnState::Completed;
                    t.start(Timer::H, now, &config.timers);
                }
            }
            Ok(())
        }
        (TxnKind::ServerInvite, TxnState::Accepted) if (200..=299).contains(&status) => {
            // The core's own 2xx retransmissions pass through (RFC 6026
            // §8.5).
            t.send(data, out);
            Ok(())
        }
        (TxnKind::ServerNonInvite, TxnState::Trying | TxnState::Proceeding) => {
            t.send(data.clone(), out);
            t.last_response = Some(data);
            if status < 200 {
                t.state = TxnState::Proceeding;
            } else {
                t.state = TxnState::Completed;
                t.start(Timer::J, now, &config.timers);
            }
            Ok(())
        }
        _ => Err(TxnError::FinalAlreadySent),
    }
}
