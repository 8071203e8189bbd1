//! Starting a link and talking to it: [`spawn`], [`LinkHandle`],
//! [`LinkEvents`].

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

use sipws_core::link::{ConfigError, Link, LinkConfig, Opcode, SendError, XorShift64};
use tokio::sync::{mpsc, oneshot};

use crate::driver::{Command, Driver, LinkMachine};
use crate::event::TimedEvent;
use crate::tls::TlsConfigError;
use crate::transport::{Transport, TransportConfig};

/// Everything needed to run one link.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Servers, keepalive schedule, reconnect policy, send queue.
    pub link: LinkConfig,
    /// Socket settings (TLS, buffers, frame limit, timeouts). The frame
    /// limit is raised to `link.queue.max_frame_bytes` if lower, so a frame
    /// the link accepts is never refused by the socket.
    pub transport: TransportConfig,
    /// Seed of the jitter generator (`None`: a fresh random seed).
    pub seed: Option<u64>,
}

impl DriverConfig {
    /// Default settings for these server URLs.
    #[must_use]
    pub fn new<I, S>(urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DriverConfig {
            link: LinkConfig::new(urls),
            transport: TransportConfig::default(),
            seed: None,
        }
    }
}

/// Why a link could not start (local misuse).
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The link configuration is invalid.
    Config(ConfigError),
    /// The TLS settings are unusable.
    Tls(TlsConfigError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "invalid link configuration: {e}"),
            StartError::Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The task running the link has stopped (it only stops when every handle
/// is dropped, so this means the runtime is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverGone;

impl fmt::Display for DriverGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("link driver task has stopped")
    }
}

impl std::error::Error for DriverGone {}

/// Why [`LinkHandle::send`] refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandleSendError {
    /// The link refused it (too large, link not started).
    Link(SendError),
    /// The driver task has stopped.
    Gone(DriverGone),
}

impl fmt::Display for HandleSendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleSendError::Link(e) => write!(f, "{e}"),
            HandleSendError::Gone(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for HandleSendError {}

/// Starts a link on the current tokio runtime: one task that connects at
/// once and keeps the link alive until every [`LinkHandle`] is dropped.
///
/// Must be called from inside a tokio runtime (with the time driver
/// enabled).
pub fn spawn(config: DriverConfig) -> Result<(LinkHandle, LinkEvents), StartError> {
    let DriverConfig {
        link,
        mut transport,
        seed,
    } = config;
    transport.max_frame_size = transport.max_frame_size.max(link.queue.max_frame_bytes);
    let seed = seed.unwrap_or_else(random_seed);
    let link = Link::new(link, XorShift64::new(seed)).map_err(StartError::Config)?;
    let transport = Transport::new(transport).map_err(StartError::Tls)?;
    Ok(spawn_with(link, transport))
}

/// Like [`spawn`], sharing an existing [`Transport`] (its TLS
/// configuration) between many links.
pub fn spawn_with(link: Link<XorShift64>, transport: Transport) -> (LinkHandle, LinkEvents) {
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let machine = LinkMachine {
        link,
        events: events_tx,
    };
    tokio::spawn(Driver::new(machine, transport, commands_rx).run());
    (
        LinkHandle {
            commands: commands_tx,
        },
        LinkEvents { rx: events_rx },
    )
}

/// A seed for jitter from the standard library's per-process random keys
/// (no cryptographic strength needed).
pub(crate) fn random_seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5157_5753);
    h.finish()
}

/// Talks to a running link. Cheap to clone; the link stops when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct LinkHandle {
    commands: mpsc::UnboundedSender<Box<Command>>,
}

impl LinkHandle {
    /// Sends one WebSocket message: at once when the link is open,
    /// otherwise after the next (re)connection. Network trouble comes back
    /// later as a `SendFailed` event with the bytes; an error here is local
    /// misuse (too large, link closed).
    pub async fn send(&self, data: Vec<u8>, opcode: Opcode) -> Result<(), HandleSendError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Box::new(Command::Send {
                data,
                opcode,
                reply,
            }))
            .map_err(|_| HandleSendError::Gone(DriverGone))?;
        answer
            .await
            .map_err(|_| HandleSendError::Gone(DriverGone))?
            .map_err(HandleSendError::Link)
    }

    /// Closes the link (no reconnect follows) and waits until the close
    /// frame is written. [`connect`](Self::connect) starts it again.
    pub async fn close(&self) -> Result<(), DriverGone> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Box::new(Command::Close { reply }))
            .map_err(|_| DriverGone)?;
        answer.await.map_err(|_| DriverGone)
    }

    /// Starts connecting again after a close or a `Failed` link (a fresh
    /// round of attempts). A no-op while the link is up or trying.
    pub fn connect(&self) -> Result<(), DriverGone> {
        self.command(Command::Connect)
    }

    /// The network changed (new interface, back online): a failed link
    /// retries at once, an open one is probed at once.
    pub fn network_changed(&self) -> Result<(), DriverGone> {
        self.command(Command::NetworkChanged)
    }

    /// The layer above got an answer to the liveness request of a
    /// `ProbeRequested` event.
    pub fn probe_answered(&self) -> Result<(), DriverGone> {
        self.command(Command::ProbeAnswered)
    }

    fn command(&self, command: Command) -> Result<(), DriverGone> {
        self.commands
            .send(Box::new(command))
            .map_err(|_| DriverGone)
    }
}

/// The events of a running link, in order. Unbounded: read them.
///
/// Channel slots hold boxed events and commands: tokio's channels allocate
/// their first block of 32 slots up front, so small slots keep an idle
/// link small.
#[derive(Debug)]
pub struct LinkEvents {
    rx: mpsc::UnboundedReceiver<Box<TimedEvent>>,
}

impl LinkEvents {
    /// The next event; `None` once the link's task has stopped and every
    /// event has been read.
    pub async fn next(&mut self) -> Option<TimedEvent> {
        self.rx.recv().await.map(|e| *e)
    }

    /// The next event if one is ready, without waiting.
    pub fn try_next(&mut self) -> Option<TimedEvent> {
        self.rx.try_recv().ok().map(|e| *e)
    }
}
