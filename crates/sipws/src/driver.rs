//! The per-link task: one [`Link`] state machine, one socket, one timer.
//!
//! After every input the task drains `poll_transmit` (executing each
//! command on the socket) and `poll_event` (forwarding each event to the
//! application), then waits for whichever comes first: a command from a
//! [`LinkHandle`](crate::LinkHandle), an inbound frame, the end of a
//! connection attempt, or the core's next deadline. The deadline is one
//! reusable `tokio::time::Sleep`, reset only when `poll_timeout()` changes,
//! and the clock is checked directly before sleeping (a `Sleep` may stay
//! pending past its deadline when the task's cooperative budget is spent).
//!
//! Writes are awaited in the task: a peer that stops reading stalls it for
//! at most the transport's `write_timeout` (5 s by default), after which
//! the connection counts as broken and the link reconnects. Keepalive
//! frames are tiny, so in practice the keepalive declares such a peer dead
//! first.

use std::future::{pending, Future};
use std::pin::Pin;
use std::time::Duration;

use sipws_core::link::{
    CloseInfo, ConnectError as CoreConnectError, Link, LinkEvent, Opcode, SendError, Transmit,
    XorShift64,
};
use sipws_core::time::Instant;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::event::{Event, TimedEvent};
use crate::transport::{
    Bytes, ConnectError, FrameKind, Inbound, SendError as WireSendError, Transport, TransportError,
    WsConnection,
};

/// The sans-IO surface the task drives: a bare [`Link`] or a whole user
/// agent (which owns its link). Socket news and time go in, socket
/// commands come out; the machine delivers its own events (to a channel,
/// to waiting handles).
pub(crate) trait Machine: Send + 'static {
    /// A request from a handle to the task.
    type Command: Send + 'static;
    /// Start connecting.
    fn connect(&mut self, now: Instant);
    /// Every handle is gone: close.
    fn close(&mut self, now: Instant);
    fn handle_open(&mut self, now: Instant, protocol: Option<&str>);
    fn handle_frame(&mut self, now: Instant, data: &[u8], opcode: Opcode);
    fn handle_ws_pong(&mut self, now: Instant);
    fn handle_closed(&mut self, now: Instant, info: CloseInfo);
    fn handle_connect_failed(&mut self, now: Instant, why: CoreConnectError);
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<Transmit>;
    fn poll_timeout(&self) -> Option<Instant>;
    /// Deliver every pending event, stamped with `elapsed` (`now` for
    /// anything the delivery feeds back into the core).
    fn deliver_events(&mut self, now: Instant, elapsed: Duration);
    /// The socket broke with this typed error (a close report follows).
    fn transport_error(&mut self, elapsed: Duration, error: TransportError);
    /// Apply a command; a returned sender is answered once the machine's
    /// output has been executed.
    fn command(&mut self, now: Instant, command: Self::Command) -> Option<oneshot::Sender<()>>;
}

/// A request from a [`LinkHandle`](crate::LinkHandle) to a link task.
#[derive(Debug)]
pub(crate) enum Command {
    Connect,
    Send {
        data: Vec<u8>,
        opcode: Opcode,
        reply: oneshot::Sender<Result<(), SendError>>,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
    NetworkChanged,
    ProbeAnswered,
}

/// A bare link and the channel its events go to.
pub(crate) struct LinkMachine {
    pub(crate) link: Link<XorShift64>,
    pub(crate) events: mpsc::UnboundedSender<Box<TimedEvent>>,
}

impl LinkMachine {
    fn emit(&self, elapsed: Duration, event: Event) {
        // The application may have stopped listening; the link runs on.
        let _ = self.events.send(Box::new(TimedEvent { elapsed, event }));
    }
}

impl Machine for LinkMachine {
    type Command = Box<Command>;
    fn connect(&mut self, now: Instant) {
        self.link.connect(now);
    }
    fn close(&mut self, now: Instant) {
        self.link.close(now);
    }
    fn handle_open(&mut self, now: Instant, protocol: Option<&str>) {
        self.link.handle_open(now, protocol);
    }
    fn handle_frame(&mut self, now: Instant, data: &[u8], opcode: Opcode) {
        self.link.handle_frame(now, data, opcode);
    }
    fn handle_ws_pong(&mut self, now: Instant) {
        self.link.handle_ws_pong(now);
    }
    fn handle_closed(&mut self, now: Instant, info: CloseInfo) {
        self.link.handle_closed(now, info);
    }
    fn handle_connect_failed(&mut self, now: Instant, why: CoreConnectError) {
        self.link.handle_connect_failed(now, why);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.link.handle_timeout(now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.link.poll_transmit()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.link.poll_timeout()
    }
    fn deliver_events(&mut self, _now: Instant, elapsed: Duration) {
        while let Some(event) = self.link.poll_event() {
            trace_link_event(&event);
            self.emit(elapsed, Event::Link(event));
        }
    }
    fn transport_error(&mut self, elapsed: Duration, error: TransportError) {
        self.emit(elapsed, Event::Transport(error));
    }
    fn command(&mut self, now: Instant, command: Box<Command>) -> Option<oneshot::Sender<()>> {
        match *command {
            Command::Connect => self.link.connect(now),
            Command::Send {
                data,
                opcode,
                reply,
            } => {
                let _ = reply.send(self.link.send(now, data, opcode));
            }
            Command::Close { reply } => {
                self.link.close(now);
                return Some(reply);
            }
            Command::NetworkChanged => self.link.handle_network_change(now),
            Command::ProbeAnswered => self.link.handle_probe_answered(now),
        }
        None
    }
}

type Connecting = Pin<Box<dyn Future<Output = Result<Box<WsConnection>, ConnectError>> + Send>>;

/// What woke the task.
enum Wake<C> {
    Command(Option<C>),
    Inbound(Inbound),
    Connected(Result<Box<WsConnection>, ConnectError>),
    Timer,
}

pub(crate) struct Driver<M: Machine> {
    machine: M,
    transport: Transport,
    clock: Clock,
    commands: mpsc::UnboundedReceiver<M::Command>,
    conn: Option<Box<WsConnection>>,
    connecting: Option<Connecting>,
}

impl<M: Machine> Driver<M> {
    pub(crate) fn new(
        machine: M,
        transport: Transport,
        commands: mpsc::UnboundedReceiver<M::Command>,
    ) -> Self {
        Driver {
            machine,
            transport,
            clock: Clock::start(),
            commands,
            conn: None,
            connecting: None,
        }
    }

    /// Runs until every handle is gone.
    pub(crate) async fn run(mut self) {
        let now = self.clock.now();
        self.machine.connect(now);
        let sleep = tokio::time::sleep_until(self.clock.deadline(now));
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            self.drain().await;

            // The one timer: reset only when the core's deadline moves.
            let deadline = self.machine.poll_timeout();
            if let Some(at) = deadline {
                if at <= self.clock.now() {
                    self.machine.handle_timeout(self.clock.now());
                    continue;
                }
                if armed != Some(at) {
                    sleep.as_mut().reset(self.clock.deadline(at));
                }
            }
            armed = deadline;

            let wake = tokio::select! {
                command = self.commands.recv() => Wake::Command(command),
                inbound = recv(&mut self.conn) => Wake::Inbound(inbound),
                result = finish(&mut self.connecting) => Wake::Connected(result),
                () = &mut sleep, if armed.is_some() => Wake::Timer,
            };
            let now = self.clock.now();
            match wake {
                Wake::Command(None) => {
                    // Every handle is gone: close politely and stop.
                    self.machine.close(now);
                    self.drain().await;
                    return;
                }
                Wake::Command(Some(command)) => {
                    if let Some(reply) = self.machine.command(now, command) {
                        self.drain().await;
                        let _ = reply.send(());
                    }
                }
                Wake::Inbound(inbound) => self.inbound(inbound),
                Wake::Connected(result) => {
                    self.connecting = None;
                    match result {
                        Ok(conn) => {
                            let protocol = Some(conn.protocol()).filter(|p| !p.is_empty());
                            self.machine.handle_open(now, protocol);
                            self.conn = Some(conn);
                        }
                        Err(e) => self
                            .machine
                            .handle_connect_failed(now, core_connect_error(e)),
                    }
                }
                Wake::Timer => self.machine.handle_timeout(now),
            }
        }
    }

    fn inbound(&mut self, inbound: Inbound) {
        let now = self.clock.now();
        match inbound {
            Inbound::Frame { data, kind } => self.machine.handle_frame(now, &data, opcode(kind)),
            Inbound::Pong => self.machine.handle_ws_pong(now),
            Inbound::Closed(report) => {
                self.conn = None;
                let reason = match report.error {
                    Some(e) => {
                        let text = e.to_string();
                        self.machine.transport_error(self.clock.elapsed(), e);
                        text
                    }
                    None => report.reason,
                };
                self.machine.handle_closed(
                    now,
                    CloseInfo {
                        code: report.clean.then_some(report.code),
                        reason,
                        clean: report.clean,
                    },
                );
            }
        }
    }

    /// Executes every queued command and delivers every event, until the
    /// core has nothing more to say.
    async fn drain(&mut self) {
        loop {
            self.machine
                .deliver_events(self.clock.now(), self.clock.elapsed());
            let Some(transmit) = self.machine.poll_transmit() else {
                return;
            };
            self.execute(transmit).await;
        }
    }

    async fn execute(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::Connect { url, protocols } => {
                self.conn = None;
                let transport = self.transport.clone();
                let protocols: Vec<String> = protocols.iter().map(|p| (*p).to_owned()).collect();
                self.connecting = Some(Box::pin(async move {
                    transport.connect(&url, &protocols).await.map(Box::new)
                }));
            }
            Transmit::Frame { data, opcode } => {
                // A text frame must be UTF-8 on the wire; anything else goes
                // out as binary, which SIP over WebSocket accepts too.
                let kind = match opcode {
                    Opcode::Text if std::str::from_utf8(&data).is_ok() => FrameKind::Text,
                    _ => FrameKind::Binary,
                };
                let Some(conn) = self.conn.as_mut() else {
                    return;
                };
                let result = conn.send(Bytes::from(data), kind).await;
                match result {
                    Ok(()) => {}
                    Err(WireSendError::Transport(e)) => self.broken(e),
                    Err(e) => self.broken(TransportError::Protocol {
                        detail: format!("frame not sent: {e}"),
                    }),
                }
            }
            Transmit::Ping => {
                tracing::trace!("WebSocket Ping");
                let Some(conn) = self.conn.as_mut() else {
                    return;
                };
                if let Err(e) = conn.ping().await {
                    self.broken(e);
                }
            }
            Transmit::Close { code, reason } => {
                self.connecting = None;
                if let Some(mut conn) = self.conn.take() {
                    // Best effort: the socket is dropped either way.
                    let _ = conn.close(code, &reason).await;
                }
            }
            _ => {}
        }
    }

    /// The socket failed while writing: report it like a close.
    fn broken(&mut self, error: TransportError) {
        self.conn = None;
        let reason = error.to_string();
        self.machine.transport_error(self.clock.elapsed(), error);
        self.machine.handle_closed(
            self.clock.now(),
            CloseInfo {
                code: None,
                reason,
                clean: false,
            },
        );
    }
}

async fn recv(conn: &mut Option<Box<WsConnection>>) -> Inbound {
    match conn {
        Some(conn) => conn.recv().await,
        None => pending().await,
    }
}

async fn finish(connecting: &mut Option<Connecting>) -> Result<Box<WsConnection>, ConnectError> {
    match connecting {
        Some(fut) => fut.await,
        None => pending().await,
    }
}

/// One log line per link event: debug, or trace for every frame.
pub(crate) fn trace_link_event(event: &LinkEvent) {
    match event {
        LinkEvent::Frame { .. } => tracing::trace!(target: "sipws::link", "{event}"),
        _ => tracing::debug!(target: "sipws::link", "{event}"),
    }
}

fn opcode(kind: FrameKind) -> Opcode {
    match kind {
        FrameKind::Text => Opcode::Text,
        FrameKind::Binary => Opcode::Binary,
    }
}

/// The core's view of a failed attempt.
pub(crate) fn core_connect_error(e: ConnectError) -> CoreConnectError {
    match e {
        ConnectError::Refused { .. } => CoreConnectError::Refused,
        ConnectError::Timeout { .. } => CoreConnectError::Timeout,
        ConnectError::Tls { detail } => CoreConnectError::Tls(detail),
        ConnectError::HttpStatus { status, reason } => CoreConnectError::Handshake {
            status: Some(status),
            reason,
        },
        ConnectError::SubprotocolNotAccepted { answered, .. } => CoreConnectError::Subprotocol {
            negotiated: answered,
        },
        ConnectError::Io { detail, .. } if detail.contains("lookup") => {
            CoreConnectError::Dns(detail)
        }
        ConnectError::Io { detail, .. } => CoreConnectError::Io(detail),
        other => CoreConnectError::Handshake {
            status: None,
            reason: other.to_string(),
        },
    }
}
