//! Client transaction transitions (RFC 3261 §17.1.1 INVITE, §17.1.2
//! non-INVITE; RFC 6026 Accepted), reliable transport.

use super::{Incoming, Outputs, Timer, TimerConfig, Transaction, TxnKind, TxnState};
use crate::message::{HeaderName, OwnedMessage, RequestBuilder};
use crate::time::Instant;

/// A response matched client transaction `t`.
pub(crate) fn on_response(
    t: &mut Transaction,
    now: Instant,
    timers: &TimerConfig,
    status: u16,
    to: &str,
    out: &mut Outputs,
) -> Incoming {
    let id = t.id;
    let pass = Incoming::Response { id, status };
    let absorbed = Incoming::ResponseAbsorbed { id };
    match (t.kind, t.state) {
        (TxnKind::ClientInvite, TxnState::Calling | TxnState::Proceeding) => match status {
            100..=199 => {
                // Timer B guards Calling only (§17.1.1.2).
                t.state = TxnState::Proceeding;
                t.timer = None;
                pass
            }
            200..=299 => {
                t.state = TxnState::Accepted;
                t.start(Timer::M, now, timers);
                pass
            }
            _ => {
                send_ack(t, to, out);
                t.state = TxnState::Completed;
                t.start(Timer::D, now, timers);
                pass
            }
        },
        (TxnKind::ClientInvite, TxnState::Accepted) => {
            if (200..=299).contains(&status) {
                // RFC 6026 §8.4: 2xx retransmissions go to the user agent,
                // which ACKs them again.
                pass
            } else {
                absorbed
            }
        }
        (TxnKind::ClientInvite, TxnState::Completed) => {
            if status >= 300 {
                send_ack(t, to, out);
            }
            absorbed
        }
        (TxnKind::ClientNonInvite, TxnState::Trying | TxnState::Proceeding) => {
            if status < 200 {
                // Timer F keeps running (§17.1.2.2).
                t.state = TxnState::Proceeding;
            } else {
                t.state = TxnState::Completed;
                t.start(Timer::K, now, timers);
            }
            pass
        }
        _ => absorbed,
    }
}

/// The ACK of a non-2xx final response (§17.1.1.3): Request-URI, Call-ID,
/// From, CSeq number and Route of the INVITE, only its top Via, the
/// response's To.
pub(crate) fn build_ack(invite: &OwnedMessage, to: &str) -> Option<OwnedMessage> {
    let uri = invite.uri()?;
    let seq = first_number(invite.header(HeaderName::CSeq)?)?;
    let mut b = RequestBuilder::new("ACK", uri)
        .header(HeaderName::Via, invite.header(HeaderName::Via)?)
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, invite.header(HeaderName::From)?)
        .header(HeaderName::To, to)
        .header(HeaderName::CallId, invite.header(HeaderName::CallId)?)
        .header(HeaderName::CSeq, format!("{seq} ACK"));
    for route in invite.headers_named(HeaderName::Route) {
        b = b.header(HeaderName::Route, route);
    }
    b.build().ok()
}

fn send_ack(t: &Transaction, to: &str, out: &mut Outputs) {
    if let Some(ack) = t.request.as_ref().and_then(|r| build_ack(r, to)) {
        t.send(ack.to_bytes(), out);
    }
}

/// The leading number of a CSeq value.
pub(crate) fn first_number(cseq: &str) -> Option<&str> {
    cseq.trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .filter(|s| !s.is_empty())
}
