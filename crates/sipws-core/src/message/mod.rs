//! SIP messages (RFC 3261 §7): a zero-copy parser over one WebSocket frame
//! (RFC 7118 §5: exactly one SIP message per WebSocket message), typed
//! header accessors parsed on demand, and a builder for owned messages.

mod name;

pub use name::HeaderName;
