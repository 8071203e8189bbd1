//! What a running link reports to the application.

use std::time::Duration;

use sipws_core::link::LinkEvent;

use crate::transport::TransportError;

/// One event of a link, with the time it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEvent {
    /// Time since the link's driver started.
    pub elapsed: Duration,
    /// What happened.
    pub event: Event,
}

/// What happened on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// News from the link state machine (connected, ping sent, pong
    /// received, dead, reconnecting, failed, inbound SIP frame…).
    Link(LinkEvent),
    /// The socket broke with this typed error (oversize inbound frame,
    /// write timeout, reset…). The link's own
    /// [`LinkEvent::Disconnected`] follows.
    Transport(TransportError),
}
