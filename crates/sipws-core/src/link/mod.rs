//! The link: one supervised SIP-over-WebSocket connection (RFC 7118) as a
//! deterministic, sans-IO state machine (`DESIGN.md` §3, §4).
//!
//! It keeps the connection alive with CRLF pings on the adaptive schedule of
//! [`keepalive`](KeepaliveConfig) (ping 10 s after the last sign of life,
//! then 5 s, then every 2.5 s; 4 unanswered → dead at +22.5 s), answers the
//! server's own CRLF pings, learns per server whether pongs ever come (and
//! switches a server that never answers to a fallback probe instead of
//! reconnecting in a loop), reconnects after death or any close it did not
//! ask for (at most 3 attempts, 1 s / 2 s / 4 s ± 20 %, rotating through the
//! servers) and keeps frames sent while down in a bounded queue.
//!
//! # Driving a link
//!
//! Inputs are `handle_*` calls and [`Link::connect`]/[`Link::send`]/
//! [`Link::close`], each with the current time. After every input, drain
//! [`Link::poll_transmit`] (commands for the socket) and
//! [`Link::poll_event`] (news for the layer above) until both are empty,
//! then sleep until [`Link::poll_timeout`] and call
//! [`Link::handle_timeout`]. Calling `handle_timeout` early or twice is a
//! no-op. After the link queues [`Transmit::Close`], the driver drops that
//! socket and reports nothing more about it.
//!
//! ```
//! use sipws_core::link::{Link, LinkConfig, LinkEvent, Opcode, Transmit, XorShift64};
//! use sipws_core::time::Instant;
//!
//! let mut link = Link::new(LinkConfig::new(["ws://127.0.0.1:8080"]), XorShift64::new(7)).unwrap();
//! link.connect(Instant::ZERO);
//! assert!(matches!(link.poll_transmit(), Some(Transmit::Connect { .. })));
//! link.handle_open(Instant::from_millis(20), Some("sip"));
//! // Nothing happens until the first keepalive ping is due, 10 s later.
//! assert_eq!(link.poll_timeout(), Some(Instant::from_millis(10_020)));
//! link.handle_timeout(Instant::from_millis(10_020));
//! assert_eq!(
//!     link.poll_transmit(),
//!     Some(Transmit::Frame { data: b"\r\n\r\n".to_vec(), opcode: Opcode::Text })
//! );
//! link.handle_frame(Instant::from_millis(10_050), b"\r\n", Opcode::Text);
//! assert!(std::iter::from_fn(|| link.poll_event())
//!     .any(|e| matches!(e, LinkEvent::PongReceived { .. })));
//! ```

mod config;
mod event;
pub mod frame;
mod keepalive;
mod queue;
mod random;
pub mod reconnect;
mod timer;

use std::collections::VecDeque;
use std::time::Duration;

pub use config::{
    ConfigError, FallbackProbe, KeepaliveConfig, LinkConfig, QueueConfig, ReconnectConfig,
};
pub use event::{
    CloseInfo, ConnectError, DeadReason, DisconnectReason, FailReason, Failure, LinkEvent,
    Liveness, SendError, SendFailReason, Transmit, PROTOCOLS, SUBPROTOCOL,
};
pub use frame::{FrameKind, Opcode};
pub use random::{RandomSource, Sequence, XorShift64};

use frame::{classify, CRLF_PING, CRLF_PONG};
use keepalive::{Keepalive, Mode, Step};
use queue::{QueuedFrame, SendQueue};
use timer::{Timer, TimerTable};

use crate::time::Instant;

/// Close code sent when the application closes the link.
const CLOSE_NORMAL: u16 = 1000;
/// Close code sent when the link abandons a dead connection.
const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code sent when the server picked another subprotocol.
const CLOSE_PROTOCOL: u16 = 1002;

/// Where the link is, for drivers and status displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkState {
    /// Not started, or closed by the application.
    Idle,
    /// A connection attempt is in progress.
    Connecting,
    /// A connection is open.
    Open,
    /// Waiting for the delay before the next reconnect attempt.
    Waiting,
    /// Reconnect attempts exhausted; down until `connect()` or a network
    /// change.
    Failed,
}

/// What the link knows about one server (one URL).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerHealth {
    /// The server URL.
    pub url: String,
    /// The server has answered a CRLF ping (forgotten again when a later
    /// connection to it dies without a single pong, so that connection's
    /// successor learns afresh).
    pub pong_seen: bool,
    /// The server has let every CRLF ping go unanswered and never ponged:
    /// its connections use the fallback probe.
    pub never_pongs: bool,
    /// Connections opened to it.
    pub opened: u32,
    /// Connection attempts to it that failed.
    pub failed_attempts: u32,
    /// Its connections that ended without the application asking.
    pub lost: u32,
}

impl ServerHealth {
    fn new(url: &str) -> Self {
        ServerHealth {
            url: url.to_owned(),
            pong_seen: false,
            never_pongs: false,
            opened: 0,
            failed_attempts: 0,
            lost: 0,
        }
    }
}

#[derive(Clone, Debug)]
struct Open {
    protocol: String,
    keepalive: Keepalive,
    /// The connection has shown a sign of life (or it is the first of a
    /// round); until then the reconnect count is kept.
    proven: bool,
    /// A CRLF pong has arrived on this connection.
    ponged: bool,
}

#[derive(Clone, Debug)]
enum State {
    Idle,
    Connecting,
    Open(Open),
    Waiting,
    Failed,
}

/// A queued command, with whether it carries an application frame (which
/// goes back to the send queue if the connection is lost before the driver
/// takes it).
#[derive(Clone, Debug)]
struct Out {
    transmit: Transmit,
    app_frame: bool,
}

/// One supervised SIP-over-WebSocket connection; see the [module
/// docs](self).
#[derive(Debug)]
pub struct Link<R = XorShift64> {
    config: LinkConfig,
    rng: R,
    state: State,
    timers: TimerTable,
    health: Vec<ServerHealth>,
    queue: SendQueue,
    transmits: VecDeque<Out>,
    events: VecDeque<LinkEvent>,
    /// Reconnect attempts made in the current round.
    attempt: u32,
    /// Index of the current (or last) server.
    server: usize,
    /// A connection was lost since the application's last `connect()`: the
    /// next open is a reconnect.
    lost: bool,
}

impl<R: RandomSource> Link<R> {
    /// A link that is not connected yet; call [`Link::connect`].
    ///
    /// `rng` provides the jitter of reconnect delays (and of the keepalive
    /// interval when `keepalive.jitter_permille` is set).
    pub fn new(config: LinkConfig, rng: R) -> Result<Self, ConfigError> {
        config.validate()?;
        let health = config.urls.iter().map(|u| ServerHealth::new(u)).collect();
        let queue = SendQueue::new(config.queue.max_frames, config.queue.max_bytes);
        Ok(Link {
            config,
            rng,
            state: State::Idle,
            timers: TimerTable::default(),
            health,
            queue,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            attempt: 0,
            server: 0,
            lost: false,
        })
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Where the link is.
    #[must_use]
    pub fn state(&self) -> LinkState {
        match self.state {
            State::Idle => LinkState::Idle,
            State::Connecting => LinkState::Connecting,
            State::Open(_) => LinkState::Open,
            State::Waiting => LinkState::Waiting,
            State::Failed => LinkState::Failed,
        }
    }

    /// The URL of the current (or last, or next) server.
    #[must_use]
    pub fn current_url(&self) -> &str {
        self.url(self.server)
    }

    /// The health record of every server, in configuration order.
    #[must_use]
    pub fn health(&self) -> &[ServerHealth] {
        &self.health
    }

    /// Frames and payload bytes waiting in the send queue.
    #[must_use]
    pub fn queued(&self) -> (usize, usize) {
        (self.queue.len(), self.queue.bytes())
    }

    /// The subprotocol of the open connection, if one is open.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        match &self.state {
            State::Open(o) => Some(&o.protocol),
            _ => None,
        }
    }

    /// Reconnect attempts made in the current round (0 once a connection
    /// has proved live).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    // ----- application inputs -----

    /// Start connecting (the application asks). From `Idle` or `Failed` this
    /// starts a fresh round: a connection attempt now, then up to
    /// `reconnect.max_attempts` reconnects. Otherwise a no-op.
    pub fn connect(&mut self, now: Instant) {
        match self.state {
            State::Idle => {
                self.lost = false;
            }
            State::Failed => {
                self.lost = false;
                self.server = reconnect::next_server(self.server, self.health.len());
            }
            _ => return,
        }
        self.attempt = 0;
        self.begin_connect(now);
    }

    /// Send one WebSocket message: straight out when open, otherwise into
    /// the send queue, flushed in order after the next open.
    ///
    /// Errors are local misuse only: a frame over `queue.max_frame_bytes`,
    /// or a link not started. A full queue or a failed link is network
    /// trouble and comes back as [`LinkEvent::SendFailed`] with the bytes.
    pub fn send(&mut self, now: Instant, data: Vec<u8>, opcode: Opcode) -> Result<(), SendError> {
        let _ = now;
        let max = self.config.queue.max_frame_bytes;
        if data.len() > max {
            return Err(SendError::TooLarge {
                len: data.len(),
                max,
            });
        }
        match self.state {
            State::Idle => Err(SendError::NotStarted),
            State::Failed => {
                self.events.push_back(LinkEvent::SendFailed {
                    data,
                    opcode,
                    reason: SendFailReason::LinkFailed,
                });
                Ok(())
            }
            State::Open(_) if self.queue.len() == 0 => {
                self.push_app_frame(data, opcode);
                Ok(())
            }
            State::Open(_) | State::Connecting | State::Waiting => {
                if let Err(f) = self.queue.push(QueuedFrame { data, opcode }) {
                    self.send_failed(f, SendFailReason::QueueOverflow);
                }
                Ok(())
            }
        }
    }

    /// Close the link (the application asks): no reconnect follows. Frames
    /// still queued come back as [`LinkEvent::SendFailed`]. A no-op when
    /// already idle.
    pub fn close(&mut self, now: Instant) {
        let _ = now;
        match self.state {
            State::Idle => return,
            State::Open(_) => {
                self.push(Transmit::Close {
                    code: CLOSE_NORMAL,
                    reason: "normal closure".into(),
                });
                self.events.push_back(LinkEvent::Disconnected {
                    reason: DisconnectReason::LocalClose,
                });
            }
            State::Connecting => self.push(Transmit::Close {
                code: CLOSE_NORMAL,
                reason: "closed locally".into(),
            }),
            State::Waiting | State::Failed => {}
        }
        self.state = State::Idle;
        self.timers.stop_all();
        self.attempt = 0;
        self.lost = false;
        self.fail_queue(SendFailReason::LocallyClosed);
    }

    // ----- driver inputs -----

    /// The WebSocket opened; `negotiated_protocol` is the subprotocol the
    /// server accepted. Anything but `sip` is a failed attempt
    /// ([`ConnectError::Subprotocol`]) and the socket is closed. Ignored
    /// unless an attempt is in progress.
    pub fn handle_open(&mut self, now: Instant, negotiated_protocol: Option<&str>) {
        if !matches!(self.state, State::Connecting) {
            return;
        }
        self.timers.stop(Timer::Connect);
        if negotiated_protocol != Some(SUBPROTOCOL) {
            self.push(Transmit::Close {
                code: CLOSE_PROTOCOL,
                reason: "subprotocol sip required".into(),
            });
            self.attempt_failed(
                now,
                ConnectError::Subprotocol {
                    negotiated: negotiated_protocol.map(str::to_owned),
                },
            );
            return;
        }
        let mode = match self.health.get_mut(self.server) {
            Some(h) => {
                h.opened = h.opened.saturating_add(1);
                if h.never_pongs {
                    Mode::Fallback
                } else {
                    Mode::Crlf
                }
            }
            None => Mode::Crlf,
        };
        let idle = self.idle_delay();
        let keepalive = Keepalive::new(now, idle, mode);
        self.timers.set(Timer::Keepalive, keepalive.deadline());
        let proven = self.attempt == 0;
        if !proven {
            if let Some(d) = self.config.reconnect.stable_after {
                self.timers.set(Timer::Stable, now + d);
            }
        }
        let protocol = SUBPROTOCOL.to_owned();
        let url = self.url(self.server).to_owned();
        self.events.push_back(if self.lost {
            LinkEvent::Reconnected {
                url,
                protocol: protocol.clone(),
            }
        } else {
            LinkEvent::Connected {
                url,
                protocol: protocol.clone(),
            }
        });
        self.state = State::Open(Open {
            protocol,
            keepalive,
            proven,
            ponged: false,
        });
        let waiting: Vec<QueuedFrame> = self.queue.drain().collect();
        for f in waiting {
            self.push_app_frame(f.data, f.opcode);
        }
    }

    /// One inbound WebSocket message (text or binary). A CRLF pong restarts
    /// the keepalive cycle; the server's `"\r\n\r\n"` is answered `"\r\n"`
    /// with the same opcode and goes no further; anything else proves the
    /// connection alive and comes out as [`LinkEvent::Frame`]. Ignored
    /// unless open.
    pub fn handle_frame(&mut self, now: Instant, data: &[u8], opcode: Opcode) {
        if !matches!(self.state, State::Open(_)) {
            return;
        }
        match classify(data) {
            FrameKind::Ping => {
                self.push(Transmit::Frame {
                    data: CRLF_PONG.to_vec(),
                    opcode,
                });
                self.events
                    .push_back(LinkEvent::ServerPingAnswered { opcode });
            }
            FrameKind::Pong => {
                let rtt = match &self.state {
                    State::Open(o) => o.keepalive.ping_rtt(now),
                    _ => None,
                };
                self.events.push_back(LinkEvent::PongReceived { rtt });
                self.learn_pong();
            }
            FrameKind::Other => self.events.push_back(LinkEvent::Frame {
                data: data.to_vec(),
                opcode,
            }),
        }
        self.sign_of_life(now);
    }

    /// The driver received a WebSocket Pong control frame (the answer to
    /// [`Transmit::Ping`]). Proves the connection alive. Ignored unless open.
    pub fn handle_ws_pong(&mut self, now: Instant) {
        self.probe_answered(now);
    }

    /// The layer above got an answer to the liveness request of
    /// [`LinkEvent::ProbeRequested`]. Proves the connection alive. Ignored
    /// unless open.
    pub fn handle_probe_answered(&mut self, now: Instant) {
        self.probe_answered(now);
    }

    /// The WebSocket closed without the link asking. On an open connection
    /// this triggers a reconnect; during an attempt the attempt fails.
    /// Ignored otherwise.
    pub fn handle_closed(&mut self, now: Instant, info: CloseInfo) {
        match self.state {
            State::Connecting => self.attempt_failed(now, ConnectError::Closed(info)),
            State::Open(_) => {
                let reason = match info.code {
                    Some(code) if info.clean && code != 1006 => DisconnectReason::ServerClosed {
                        code,
                        reason: info.reason,
                    },
                    _ => DisconnectReason::Abnormal(info),
                };
                self.lost_connection(now, reason);
            }
            State::Idle | State::Waiting | State::Failed => {}
        }
    }

    /// The connection attempt failed. Ignored unless one is in progress.
    pub fn handle_connect_failed(&mut self, now: Instant, why: ConnectError) {
        if matches!(self.state, State::Connecting) {
            self.attempt_failed(now, why);
        }
    }

    /// The network changed (the browser's `online` event, a new interface).
    /// When failed or waiting to reconnect: a fresh round of attempts starts
    /// now. When open: the connection is probed now instead of at the next
    /// keepalive deadline. Otherwise a no-op.
    pub fn handle_network_change(&mut self, now: Instant) {
        match &mut self.state {
            State::Failed => {
                self.server = reconnect::next_server(self.server, self.health.len());
                self.attempt = 0;
                self.begin_connect(now);
            }
            State::Waiting => {
                self.timers.stop(Timer::Backoff);
                self.attempt = 0;
                self.begin_connect(now);
            }
            State::Open(o) => {
                if o.keepalive.probe_now(now) {
                    self.timers.set(Timer::Keepalive, now);
                    self.handle_timeout(now);
                }
            }
            State::Idle | State::Connecting => {}
        }
    }

    /// Run every timer due at `now`. Safe to call early (nothing is due) or
    /// twice (a fired timer is stopped).
    pub fn handle_timeout(&mut self, now: Instant) {
        for timer in Timer::VALUES {
            if self.timers.take_expired(timer, now) {
                self.fire(timer, now);
            }
        }
    }

    // ----- outputs -----

    /// The next command for the driver. New commands follow `connect`,
    /// `send`, `close`, `handle_open` (queue flush, or a close on a wrong
    /// subprotocol), `handle_frame` (answer to a server ping),
    /// `handle_network_change` and `handle_timeout`.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front().map(|o| o.transmit)
    }

    /// The next event for the layer above. Any input can produce events.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }

    /// When [`Link::handle_timeout`] should next be called, `None` when no
    /// timer runs (idle or failed). Changes after any input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_timeout()
    }

    // ----- internals -----

    fn url(&self, i: usize) -> &str {
        self.health.get(i).map_or("", |h| h.url.as_str())
    }

    fn push(&mut self, transmit: Transmit) {
        self.transmits.push_back(Out {
            transmit,
            app_frame: false,
        });
    }

    fn push_app_frame(&mut self, data: Vec<u8>, opcode: Opcode) {
        self.transmits.push_back(Out {
            transmit: Transmit::Frame { data, opcode },
            app_frame: true,
        });
    }

    fn send_failed(&mut self, f: QueuedFrame, reason: SendFailReason) {
        self.events.push_back(LinkEvent::SendFailed {
            data: f.data,
            opcode: f.opcode,
            reason,
        });
    }

    fn fail_queue(&mut self, reason: SendFailReason) {
        let all: Vec<QueuedFrame> = self.queue.drain().collect();
        for f in all {
            self.send_failed(f, reason);
        }
    }

    fn idle_delay(&mut self) -> Duration {
        let k = &self.config.keepalive;
        if k.jitter_permille == 0 {
            return k.idle;
        }
        let r = self.rng.next_u64();
        reconnect::jittered(k.idle, k.jitter_permille, r).max(Duration::from_millis(1))
    }

    fn begin_connect(&mut self, now: Instant) {
        self.state = State::Connecting;
        self.timers
            .set(Timer::Connect, now + self.config.reconnect.connect_timeout);
        let url = self.url(self.server).to_owned();
        self.events.push_back(LinkEvent::Connecting {
            url: url.clone(),
            attempt: self.attempt,
        });
        self.push(Transmit::Connect {
            url,
            protocols: PROTOCOLS,
        });
    }

    fn fire(&mut self, timer: Timer, now: Instant) {
        match timer {
            Timer::Connect => {
                if matches!(self.state, State::Connecting) {
                    self.push(Transmit::Close {
                        code: CLOSE_GOING_AWAY,
                        reason: "connect timeout".into(),
                    });
                    self.attempt_failed(now, ConnectError::Timeout);
                }
            }
            Timer::Backoff => {
                if matches!(self.state, State::Waiting) {
                    self.begin_connect(now);
                }
            }
            Timer::Stable => self.mark_proven(),
            Timer::Keepalive => self.keepalive_step(now),
        }
    }

    fn keepalive_step(&mut self, now: Instant) {
        let pong_seen = self.health.get(self.server).is_some_and(|h| h.pong_seen);
        let State::Open(open) = &mut self.state else {
            return;
        };
        let step = open.keepalive.step(now, &self.config.keepalive, pong_seen);
        let deadline = open.keepalive.deadline();
        let ponged = open.ponged;
        match step {
            Step::Ping {
                n,
                escalated,
                probe,
            } => {
                if escalated {
                    self.events
                        .push_back(LinkEvent::ProbingEscalated { unanswered: n - 1 });
                }
                self.push(Transmit::Frame {
                    data: CRLF_PING.to_vec(),
                    opcode: Opcode::Text,
                });
                self.events.push_back(LinkEvent::PingSent { n });
                if probe {
                    self.send_probe();
                }
                self.timers.set(Timer::Keepalive, deadline);
            }
            Step::Probe => {
                self.send_probe();
                self.timers.set(Timer::Keepalive, deadline);
            }
            Step::Dead(reason) => {
                if !ponged && matches!(reason, DeadReason::NoPong { .. }) {
                    // The server answered CRLF pings once, but not on this
                    // connection (another instance behind the same URL?):
                    // forget that, so its next connection learns afresh
                    // instead of dying every 22.5 s.
                    if let Some(h) = self.health.get_mut(self.server) {
                        h.pong_seen = false;
                    }
                }
                self.events.push_back(LinkEvent::ConnectionDead { reason });
                self.push(Transmit::Close {
                    code: CLOSE_GOING_AWAY,
                    reason: "keepalive timeout".into(),
                });
                self.lost_connection(now, DisconnectReason::Dead(reason));
            }
        }
    }

    fn send_probe(&mut self) {
        match self.config.keepalive.fallback {
            FallbackProbe::WsPing => {
                self.push(Transmit::Ping);
                self.events.push_back(LinkEvent::ProbeSent {
                    probe: FallbackProbe::WsPing,
                });
            }
            FallbackProbe::Request => self.events.push_back(LinkEvent::ProbeRequested),
            FallbackProbe::None => {}
        }
    }

    /// A CRLF pong arrived: the server answers CRLF pings.
    fn learn_pong(&mut self) {
        let first = match self.health.get_mut(self.server) {
            Some(h) if !h.pong_seen => {
                h.pong_seen = true;
                h.never_pongs = false;
                true
            }
            _ => false,
        };
        if let State::Open(o) = &mut self.state {
            o.keepalive.set_mode(Mode::Crlf);
            o.ponged = true;
        }
        if first {
            self.events.push_back(LinkEvent::LivenessLearned {
                url: self.url(self.server).to_owned(),
                liveness: Liveness::AnswersCrlf,
            });
        }
    }

    fn probe_answered(&mut self, now: Instant) {
        let State::Open(o) = &mut self.state else {
            return;
        };
        if let Some(rtt) = o.keepalive.probe_rtt(now) {
            self.events.push_back(LinkEvent::ProbeAnswered { rtt });
        }
        // The probe sent with ping #2 came back while the CRLF pings did
        // not: this server does not answer CRLF. Keep it on the probe.
        if o.keepalive.mode() == Mode::Crlf && o.keepalive.probe_outstanding() && !o.ponged {
            o.keepalive.set_mode(Mode::Fallback);
            if let Some(h) = self.health.get_mut(self.server) {
                h.never_pongs = true;
            }
            self.events.push_back(LinkEvent::LivenessLearned {
                url: self.url(self.server).to_owned(),
                liveness: Liveness::NeverPongs {
                    probe: self.config.keepalive.fallback,
                },
            });
        }
        self.sign_of_life(now);
    }

    fn sign_of_life(&mut self, now: Instant) {
        let idle = self.idle_delay();
        if let State::Open(o) = &mut self.state {
            o.keepalive.on_life(now, idle);
            self.timers.set(Timer::Keepalive, o.keepalive.deadline());
        }
        self.mark_proven();
    }

    fn mark_proven(&mut self) {
        if let State::Open(o) = &mut self.state {
            if !o.proven {
                o.proven = true;
                self.attempt = 0;
                self.timers.stop(Timer::Stable);
            }
        }
    }

    /// An open connection ended without the application asking.
    fn lost_connection(&mut self, now: Instant, reason: DisconnectReason) {
        self.timers.stop(Timer::Keepalive);
        self.timers.stop(Timer::Stable);
        if let Some(h) = self.health.get_mut(self.server) {
            h.lost = h.lost.saturating_add(1);
        }
        self.events.push_back(LinkEvent::Disconnected {
            reason: reason.clone(),
        });
        // Application frames the driver has not taken yet go back to the
        // queue; keepalive frames for the dead socket are dropped.
        let mut back = Vec::new();
        self.transmits.retain_mut(|o| match &mut o.transmit {
            Transmit::Frame { data, opcode } => {
                if o.app_frame {
                    back.push(QueuedFrame {
                        data: core::mem::take(data),
                        opcode: *opcode,
                    });
                }
                false
            }
            Transmit::Ping => false,
            Transmit::Connect { .. } | Transmit::Close { .. } => true,
        });
        for f in self.queue.requeue_front(back) {
            self.send_failed(f, SendFailReason::QueueOverflow);
        }
        self.lost = true;
        self.retry(now, Failure::Lost(reason));
    }

    fn attempt_failed(&mut self, now: Instant, why: ConnectError) {
        self.timers.stop(Timer::Connect);
        if let Some(h) = self.health.get_mut(self.server) {
            h.failed_attempts = h.failed_attempts.saturating_add(1);
        }
        self.events.push_back(LinkEvent::ConnectFailed {
            url: self.url(self.server).to_owned(),
            reason: why.clone(),
        });
        self.retry(now, Failure::Connect(why));
    }

    /// Schedule the next reconnect attempt of the round, or give up.
    fn retry(&mut self, now: Instant, last: Failure) {
        let max = self.config.reconnect.max_attempts;
        if self.attempt >= max {
            self.state = State::Failed;
            self.timers.stop_all();
            self.events.push_back(LinkEvent::Failed {
                reason: FailReason::AttemptsExhausted {
                    attempts: self.attempt,
                    last,
                },
            });
            self.fail_queue(SendFailReason::LinkFailed);
            return;
        }
        self.attempt += 1;
        self.server = reconnect::next_server(self.server, self.health.len());
        let r = self.rng.next_u64();
        let delay = reconnect::backoff_delay(&self.config.reconnect, self.attempt, r);
        self.events.push_back(LinkEvent::Reconnecting {
            attempt: self.attempt,
            of: max,
            delay,
            url: self.url(self.server).to_owned(),
        });
        if delay.is_zero() {
            self.begin_connect(now);
        } else {
            self.state = State::Waiting;
            self.timers.set(Timer::Backoff, now + delay);
        }
    }
}

#[cfg(test)]
mod tests;
