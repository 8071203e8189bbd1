//! # sipws
//!
//! The tokio driver of sipws, a SIP-over-WebSocket (RFC 7118) client stack.
//!
//! - [`transport`]: one WebSocket connection (tokio-tungstenite, rustls),
//!   subprotocol `sip` required, memory-lean buffers, typed errors.
//! - [`tls`]: certificate verification settings for `wss://`.

#![forbid(unsafe_code)]

pub mod tls;
pub mod transport;
