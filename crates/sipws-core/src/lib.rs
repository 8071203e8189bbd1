//! # sipws-core
//!
//! The sans-IO heart of sipws, a SIP-over-WebSocket (RFC 7118) client stack.
//!
//! Nothing in this crate opens a socket, reads a clock, spawns a thread or
//! draws randomness from the operating system: every input carries the
//! current [`time::Instant`], every output is drained with a `poll_*` call,
//! and randomness is injected. The same code runs natively under tokio (crate
//! `sipws`) and in a browser Web Worker as WebAssembly.
//!
//! Layers (see `ARCHITECTURE.md`):
//! - [`auth`]: digest authentication (RFC 7616), client and verifier.
//! - [`link`]: the supervised WebSocket connection: CRLF keepalive,
//!   reconnect policy, bounded send queue.
//! - [`message`]: zero-copy SIP parser, typed header accessors, builder.
//! - [`codec`]: wire formats (SIP text, compact header names, JSON).
//! - [`router`]: frame classification and rule-based dispatch to handler keys.
//! - [`sdp`]: SDP offer/answer for calls with WebRTC browsers and plain
//!   RTP peers (sipws carries no media).
//! - [`txn`]: SIP transactions over a reliable transport (RFC 3261 §17).
//! - [`ua`]: the user agent: registration, dialogs, calls, INFO / NOTIFY /
//!   MESSAGE / OPTIONS, over the link, router and transactions.
//! - [`time`]: the one monotonic time type used by every state machine.

#![forbid(unsafe_code)]

pub mod auth;
pub mod codec;
pub mod link;
pub mod message;
pub mod router;
pub mod sdp;
pub mod time;
pub mod txn;
pub mod ua;
