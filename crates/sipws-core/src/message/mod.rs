//! SIP messages (RFC 3261 §7): a zero-copy parser over one WebSocket frame
//! (RFC 7118 §5: exactly one SIP message per WebSocket message), typed
//! header accessors parsed on demand, and a builder for owned messages.
//!
//! Nothing here allocates: [`Message`] keeps its headers in inline storage
//! (at most [`MAX_HEADERS`]) and every accessor borrows from the frame.
//! [`Message::parse`] checks structure and framing; [`Message::validate`]
//! (or [`Message::parse_strict`]) also checks every known header's syntax.
//! Singular typed accessors (`from()`, `cseq()`, …) return `None` for an
//! absent *or* malformed header; list accessors (`vias()`, `contacts()`,
//! `routes()`, …) yield a `Result` per entry.

mod auth_params;
mod builder;
mod classify;
mod contact;
mod content_type;
mod cseq;
mod date;
mod error;
mod event;
mod expires;
mod lex;
mod limits;
mod list;
mod max_forwards;
mod name;
mod name_addr;
mod owned;
mod params;
mod parser;
mod reason;
mod start_line;
mod token_list;
mod uri;
mod validate;
mod via;

pub use auth_params::AuthParams;
pub use builder::{has_tag_param, RequestBuilder, ResponseBuilder};
pub use classify::{classify, Summary};
pub use contact::Contact;
pub use content_type::ContentType;
pub use cseq::CSeq;
pub use date::check_date;
pub use error::{ParseError, ParseErrorKind};
pub use event::Event;
pub use expires::parse_delta_seconds;
pub use limits::{Limits, MAX_HEADERS};
pub use max_forwards::parse_max_forwards;
pub use name::HeaderName;
pub use name_addr::NameAddr;
pub use owned::{BuildError, NameForm, OwnedHeader, OwnedMessage, OwnedStartLine};
pub use params::{Param, Params};
pub use parser::{Header, HeaderIter, Headers, Message};
pub use reason::{default_reason_phrase, reason_phrase};
pub use start_line::StartLine;
pub use uri::{unescape, unescape_into, Uri};
pub use via::Via;
