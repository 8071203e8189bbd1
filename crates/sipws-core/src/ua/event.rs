//! What the user agent tells the application ([`UaEvent`]), the handles it
//! hands out, the reasons calls end, and local-misuse errors ([`UaError`]).

use core::fmt;
use core::time::Duration;

use crate::link::{LinkEvent, SendError};
use crate::message::{BuildError, OwnedMessage, ParseError};
use crate::txn::{TxnError, TxnId};

/// A call's handle, unique for the life of one user agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub(crate) u64);

impl CallId {
    /// The number behind the handle (for logs).
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// The handle of a request the application sent (INFO, NOTIFY, MESSAGE,
/// OPTIONS); its final response comes as [`UaEvent::ResponseReceived`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// The number behind the handle (for logs).
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Where a request goes: inside a call's dialog, or to a URI out of
/// dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Inside this call's dialog (Route set, remote target, CSeq).
    Call(CallId),
    /// Out of dialog to this SIP URI (or name-addr).
    Uri(String),
}

/// Why a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEndReason {
    /// We hung up (our BYE was answered, or failed — the call is over
    /// either way).
    LocalHangup,
    /// The peer sent BYE.
    RemoteHangup,
    /// We cancelled our INVITE before it was answered (487).
    Cancelled,
    /// The caller cancelled its INVITE before we answered.
    RemoteCancelled,
    /// Our INVITE got a final error response.
    Rejected {
        /// The status code (e.g. 486, 404, 603).
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// We rejected an incoming INVITE with this status.
    Declined {
        /// The status we sent.
        status: u16,
    },
    /// No final response to our INVITE within Timer B (64·T1).
    Timeout,
    /// Our 2xx was never ACKed within 64·T1 (we sent BYE).
    NoAck,
    /// The connection carrying the INVITE was lost before the call was
    /// set up, or a send failed.
    Transport(String),
    /// A 401/407 could not be answered (no credentials, rejected, …).
    Auth(String),
}

impl fmt::Display for CallEndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallEndReason::LocalHangup => f.write_str("hung up locally"),
            CallEndReason::RemoteHangup => f.write_str("hung up by the peer"),
            CallEndReason::Cancelled => f.write_str("cancelled"),
            CallEndReason::RemoteCancelled => f.write_str("cancelled by the caller"),
            CallEndReason::Rejected { status, reason } => write!(f, "rejected: {status} {reason}"),
            CallEndReason::Declined { status } => write!(f, "declined with {status}"),
            CallEndReason::Timeout => f.write_str("no answer (Timer B)"),
            CallEndReason::NoAck => f.write_str("no ACK for our 2xx"),
            CallEndReason::Transport(r) => write!(f, "transport: {r}"),
            CallEndReason::Auth(r) => write!(f, "authentication: {r}"),
        }
    }
}

/// Something the application should know, drained with
/// [`super::UserAgent::poll_event`] in order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaEvent {
    /// The registrar accepted our binding.
    Registered {
        /// The lifetime it granted.
        expires: Duration,
        /// Every binding it listed for the address of record (Contact
        /// URIs as written).
        bindings: Vec<String>,
    },
    /// A REGISTER failed (final error response, unanswerable challenge,
    /// timeout as 408, transport loss as 503). After a reconnect the user
    /// agent tries again on its own.
    RegistrationFailed {
        /// The status code (synthesised 408 / 503 when no response came).
        status: u16,
        /// The reason phrase, or why the challenge could not be answered.
        reason: String,
    },
    /// Our binding was removed (`Expires: 0` answered).
    Unregistered,
    /// An INVITE arrived and was answered `100 Trying`; answer it with
    /// [`super::UserAgent::answer`].
    IncomingCall {
        /// The new call.
        call: CallId,
        /// The caller (From value).
        from: String,
        /// The callee as addressed (To value).
        to: String,
        /// The offer (SDP), empty if none.
        sdp: Vec<u8>,
    },
    /// A provisional response to our INVITE (180, 183, …).
    CallProgress {
        /// The call.
        call: CallId,
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
        /// Its body (early-media SDP of a 183), empty if none.
        sdp: Vec<u8>,
    },
    /// Our INVITE was answered 2xx; the ACK went out.
    CallAnswered {
        /// The call.
        call: CallId,
        /// The answer (SDP).
        sdp: Vec<u8>,
    },
    /// The ACK for our 2xx to an incoming INVITE arrived.
    CallConfirmed {
        /// The call.
        call: CallId,
    },
    /// A re-INVITE finished (either direction): the session description
    /// the peer now uses.
    CallUpdated {
        /// The call.
        call: CallId,
        /// The peer's SDP.
        sdp: Vec<u8>,
    },
    /// The call is over.
    CallEnded {
        /// The call.
        call: CallId,
        /// Why.
        reason: CallEndReason,
    },
    /// A request other than INVITE/ACK/CANCEL/BYE arrived (INFO, NOTIFY,
    /// MESSAGE, OPTIONS). Unless an application rule took it, it was
    /// answered `200 OK` already (`answered`); otherwise answer it with
    /// [`super::UserAgent::respond`].
    IncomingRequest {
        /// The server transaction, for [`super::UserAgent::respond`].
        txn: TxnId,
        /// The call whose dialog it came in, if any.
        call: Option<CallId>,
        /// The application rule key that took it, if any.
        rule: Option<u64>,
        /// Whether the user agent already answered it 200.
        answered: bool,
        /// The request.
        message: OwnedMessage,
    },
    /// The final response to a request the application sent.
    ResponseReceived {
        /// The request.
        request: RequestId,
        /// The status (408 when Timer F fired, 503 when the transport
        /// failed; `message` is then `None`).
        status: u16,
        /// The reason phrase.
        reason: String,
        /// The response.
        message: Option<OwnedMessage>,
    },
    /// A frame an application rule took (responses are also processed by
    /// the transactions; requests come as [`UaEvent::IncomingRequest`]).
    Routed {
        /// The rule's key.
        rule: u64,
        /// The frame.
        data: Vec<u8>,
    },
    /// An inbound frame could not be used (parse error, or a message
    /// without the Via/CSeq a transaction needs).
    Discarded {
        /// Why.
        reason: String,
        /// Parse error with position, when that was the reason.
        error: Option<ParseError>,
    },
    /// News from the link (connection, keepalive, reconnect), passed on.
    Link(LinkEvent),
}

/// Local misuse of the user agent API (peer and network trouble are
/// events, never errors).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaError {
    /// No such call (ended and gone, or never existed).
    UnknownCall(CallId),
    /// The call is not in a state that allows this (e.g. `answer` on an
    /// outgoing call, `info` before the dialog exists).
    InvalidState(&'static str),
    /// A status code that does not fit (e.g. 100 or 1xx/2xx in `respond`
    /// where not allowed, outside 101..=699).
    BadStatus(u16),
    /// The target is not a SIP URI.
    BadTarget(String),
    /// A message could not be built (a header value with CR/LF, …).
    Build(BuildError),
    /// The link refused the frame (too large / not started).
    Link(SendError),
    /// The transaction layer refused (e.g. responding twice).
    Txn(TxnError),
}

impl fmt::Display for UaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UaError::UnknownCall(c) => write!(f, "no such call {c}"),
            UaError::InvalidState(s) => write!(f, "not allowed now: {s}"),
            UaError::BadStatus(s) => write!(f, "status {s} not allowed here"),
            UaError::BadTarget(t) => write!(f, "{t:?} is not a SIP URI"),
            UaError::Build(e) => write!(f, "cannot build message: {e}"),
            UaError::Link(e) => write!(f, "link: {e}"),
            UaError::Txn(e) => write!(f, "transaction: {e}"),
        }
    }
}

impl std::error::Error for UaError {}

impl From<BuildError> for UaError {
    fn from(e: BuildError) -> Self {
        UaError::Build(e)
    }
}

impl From<TxnError> for UaError {
    fn from(e: TxnError) -> Self {
        UaError::Txn(e)
    }
}
