//! What the transaction layer hands back: transmissions, events, the
//! disposition of each incoming message, and errors.

use core::fmt;

use super::timer::Timer;
use crate::message::BuildError;

/// A transaction's handle, unique for the life of one
/// [`super::Transactions`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId(pub(crate) u64);

impl TxnId {
    /// The number behind the handle (for logs).
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "txn#{}", self.0)
    }
}

/// Which of the four state machines (RFC 3261 §17.1.1, §17.1.2, §17.2.1,
/// §17.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxnKind {
    /// INVITE client transaction.
    ClientInvite,
    /// Non-INVITE client transaction.
    ClientNonInvite,
    /// INVITE server transaction.
    ServerInvite,
    /// Non-INVITE server transaction.
    ServerNonInvite,
}

impl TxnKind {
    /// Whether this is a client transaction.
    #[must_use]
    pub const fn is_client(self) -> bool {
        matches!(self, TxnKind::ClientInvite | TxnKind::ClientNonInvite)
    }
}

/// The states of RFC 3261 §17 figures 5–8 with RFC 6026's Accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// INVITE client: request sent, nothing heard.
    Calling,
    /// Non-INVITE client / server: request sent or received, nothing else.
    Trying,
    /// A provisional response was received / sent.
    Proceeding,
    /// A final response (non-2xx for INVITE) was received / sent.
    Completed,
    /// INVITE server: the ACK for the non-2xx final arrived.
    Confirmed,
    /// INVITE (RFC 6026): a 2xx was received / sent.
    Accepted,
    /// Done; the transaction is gone from the table.
    Terminated,
}

/// Why a transaction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerminationReason {
    /// The normal end (a final response exchanged, absorbing timer over).
    Completed,
    /// A give-up timer fired: [`Timer::B`] / [`Timer::F`] (no final
    /// response — the user agent treats it as 408), [`Timer::H`] (no ACK
    /// of a non-2xx), [`Timer::L`] (no ACK of a 2xx: the user agent should
    /// send BYE, RFC 3261 §13.3.1.4).
    Timeout(Timer),
    /// Sending failed (the link's send failure or loss), with its reason.
    Transport(String),
}

impl fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TerminationReason::Completed => f.write_str("completed"),
            TerminationReason::Timeout(t) => write!(f, "timed out ({t})"),
            TerminationReason::Transport(r) => write!(f, "transport error: {r}"),
        }
    }
}

/// Something that happened to a transaction outside a direct call's
/// return value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxnEvent {
    /// The transaction ended and left the table.
    Terminated {
        /// Which one.
        id: TxnId,
        /// Its kind.
        kind: TxnKind,
        /// Why.
        reason: TerminationReason,
    },
}

/// Bytes to send on the link for a transaction. If sending fails, report
/// it with [`super::Transactions::handle_send_failure`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The transaction that sends.
    pub txn: TxnId,
    /// One complete SIP message (one WebSocket message, RFC 7118 §5).
    pub data: Vec<u8>,
}

/// What an incoming message turned out to be
/// ([`super::Transactions::handle_message`]'s answer). The message itself
/// stays with the caller, who still holds it parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// A new request: a server transaction was created; answer it with
    /// [`super::Transactions::send_response`].
    Request {
        /// The new server transaction.
        id: TxnId,
    },
    /// A retransmitted request, absorbed (the last response was sent again
    /// if there was one).
    Retransmission {
        /// The transaction it belongs to.
        id: TxnId,
    },
    /// An ACK for the user agent (the ACK of a 2xx, RFC 3261 §17.2.3 /
    /// RFC 6026): `id` is the INVITE server transaction it matched in
    /// Accepted state, if any.
    Ack {
        /// The matched INVITE server transaction, if any.
        id: Option<TxnId>,
    },
    /// The ACK of a non-2xx final response, absorbed by its transaction.
    AckAbsorbed {
        /// The INVITE server transaction.
        id: TxnId,
    },
    /// A response for the user agent: provisional, final, or (in
    /// Accepted) a retransmitted 2xx to ACK again.
    Response {
        /// The client transaction.
        id: TxnId,
        /// Its status code.
        status: u16,
    },
    /// A retransmitted response absorbed by its transaction (a non-2xx
    /// final is ACKed again).
    ResponseAbsorbed {
        /// The client transaction.
        id: TxnId,
    },
    /// A response matching no transaction (RFC 3261 §18.1.2): normally
    /// dropped; a late 2xx retransmission may still deserve an ACK from the
    /// dialog layer.
    StrayResponse,
}

/// Local misuse or an unusable message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxnError {
    /// The message has no (parsable) top `Via`.
    NoVia,
    /// The top `Via` has no RFC 3261 branch (`z9hG4bK...`).
    NoBranch,
    /// No (parsable) `CSeq`.
    NoCSeq,
    /// The `CSeq` method differs from the request method.
    CSeqMismatch,
    /// [`super::Transactions::send_request`] was given a response.
    NotARequest,
    /// [`super::Transactions::send_response`] was given a request.
    NotAResponse,
    /// ACK is not sent in a client transaction (RFC 3261 §17.1.1.3: the
    /// ACK of a 2xx belongs to the user agent core).
    AckIsNotATransaction,
    /// A client transaction with this branch and method already exists.
    DuplicateTransaction,
    /// No live transaction with this id (or not a server transaction).
    UnknownTransaction,
    /// The server transaction already sent its final response.
    FinalAlreadySent,
    /// A status outside 100..=699.
    BadStatus(u16),
    /// CANCEL is only sent for a client INVITE in Proceeding (RFC 3261
    /// §9.1: after a provisional response; before a final one).
    NotCancellable(TxnState),
    /// Building a message (the ACK of a non-2xx) failed.
    Build(BuildError),
}

impl fmt::Display for TxnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnError::NoVia => f.write_str("no top Via"),
            TxnError::NoBranch => f.write_str("top Via without RFC 3261 branch"),
            TxnError::NoCSeq => f.write_str("no CSeq"),
            TxnError::CSeqMismatch => f.write_str("CSeq method differs from request method"),
            TxnError::NotARequest => f.write_str("not a request"),
            TxnError::NotAResponse => f.write_str("not a response"),
            TxnError::AckIsNotATransaction => f.write_str("ACK is not a client transaction"),
            TxnError::DuplicateTransaction => f.write_str("transaction already exists"),
            TxnError::UnknownTransaction => f.write_str("no such server transaction"),
            TxnError::FinalAlreadySent => f.write_str("final response already sent"),
            TxnError::BadStatus(s) => write!(f, "status {s} cannot be sent here"),
            TxnError::NotCancellable(s) => write!(f, "INVITE in state {s:?} cannot be cancelled"),
            TxnError::Build(e) => write!(f, "cannot build message: {e}"),
        }
    }
}

impl std::error::Error for TxnError {}
