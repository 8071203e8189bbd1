//! SIP messages (RFC 3261 §7): a zero-copy parser over one WebSocket frame
//! (RFC 7118 §5: exactly one SIP message per WebSocket message), typed
//! header accessors parsed on demand, and a builder for owned messages.

mod builder;
mod name;
mod owned;
mod reason;

pub use builder::{has_tag_param, RequestBuilder, ResponseBuilder};
pub use name::HeaderName;
pub use owned::{BuildError, NameForm, OwnedHeader, OwnedMessage, OwnedStartLine};
pub use reason::{default_reason_phrase, reason_phrase};
