//! # sipws
//!
//! The tokio driver of sipws, a SIP-over-WebSocket (RFC 7118) client stack.
//! It runs the sans-IO link supervisor of `sipws-core` (keepalive,
//! reconnect, send queue) over a real WebSocket: one task per link, one
//! timer reset to the core's next deadline.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sipws::{DriverConfig, Event};
//! use sipws_core::link::{LinkEvent, Opcode};
//!
//! let (link, mut events) = sipws::spawn(DriverConfig::new(["ws://127.0.0.1:8080"]))?;
//! link.send(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n".to_vec(), Opcode::Text).await?;
//! while let Some(e) = events.next().await {
//!     println!("{:>8.3}s {:?}", e.elapsed.as_secs_f64(), e.event);
//!     if matches!(e.event, Event::Link(LinkEvent::Failed { .. })) {
//!         break;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Modules:
//! - [`transport`]: one WebSocket connection (tokio-tungstenite, rustls),
//!   subprotocol `sip` required, memory-lean buffers, typed errors.
//! - [`tls`]: certificate verification settings for `wss://`.
//! - [`dispatch`]: the router's application API: callbacks and streams of
//!   messages per rule (`Dispatcher`).
//! - [`ua`]: the user agent (registration, calls, INFO/NOTIFY/MESSAGE/
//!   OPTIONS) behind async methods, run by the same task loop as a link.
//! - `driver`: the per-link task; [`spawn`], [`LinkHandle`] and
//!   [`LinkEvents`] are its interface.

#![forbid(unsafe_code)]

mod clock;
pub mod dispatch;
mod driver;
pub mod event;
mod handle;
pub mod tls;
pub mod transport;
pub mod ua;

pub use event::{Event, TimedEvent};
pub use handle::{
    spawn, spawn_with, DriverConfig, DriverGone, HandleSendError, LinkEvents, LinkHandle,
    StartError,
};
