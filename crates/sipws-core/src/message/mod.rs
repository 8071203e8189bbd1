//! SIP messages (RFC 3261 §7): a zero-copy parser over one WebSocket frame
//! (RFC 7118 §5: exactly one SIP message per WebSocket message), typed
//! header accessors parsed on demand, and a builder for owned messages.
//!
//! Nothing here allocates: [`Message`] keeps its headers in inline storage
//! (at most [`MAX_HEADERS`]) and every accessor borrows from the frame.

mod auth_params;
mod builder;
mod classify;
mod cseq;
mod error;
mod lex;
mod limits;
mod name;
mod owned;
mod parser;
mod reason;
mod start_line;

pub use auth_params::AuthParams;
pub use builder::{has_tag_param, RequestBuilder, ResponseBuilder};
pub use classify::{classify, Summary};
pub use cseq::CSeq;
pub use error::{ParseError, ParseErrorKind};
pub use limits::{Limits, MAX_HEADERS};
pub use name::HeaderName;
pub use owned::{BuildError, NameForm, OwnedHeader, OwnedMessage, OwnedStartLine};
pub use parser::{Header, Message};
pub use reason::{default_reason_phrase, reason_phrase};
pub use start_line::StartLine;
