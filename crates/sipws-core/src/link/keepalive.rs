//! The adaptive CRLF keepalive schedule of one open connection
//! (`DESIGN.md` §4), as a small pure state machine: the link tells it about
//! signs of life and asks what to do when its deadline comes.
//!
//! ```text
//! since open / last sign of life   default   action
//! idle                             10 s      ping #1
//! + first_retry                    15 s      ping #2 (probing escalated)
//! + retry                          17.5 s    ping #3
//! + retry                          20 s      ping #4
//! + retry                          22.5 s    dead
//! ```
//!
//! On a server that has never answered a CRLF ping, ping #2 goes out
//! together with the fallback probe (a WebSocket Ping, or a request the
//! layer above sends). If the probe is answered while the CRLF pings are
//! not, the link learns that the server never pongs and keeps the
//! connection on the probe alone; if nothing is answered the verdict stays
//! "dead at 22.5 s". A silent server is never given longer than the note's
//! timeline, and a live server that ignores CRLF is never reconnected in a
//! loop.

use core::time::Duration;

use super::config::{FallbackProbe, KeepaliveConfig};
use super::event::DeadReason;
use crate::time::Instant;

/// How this connection proves liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// CRLF pings, answered by CRLF pongs.
    Crlf,
    /// The configured fallback probe (the server never answers CRLF).
    Fallback,
}

/// What the link must do when the keepalive deadline comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send CRLF ping number `n`; `escalated` when it starts the fast
    /// cadence (ping #2); `probe` when the fallback probe goes out with it
    /// (ping #2 to a server that has never ponged).
    Ping {
        n: u32,
        escalated: bool,
        probe: bool,
    },
    /// Send the fallback probe.
    Probe,
    /// The connection is dead.
    Dead(DeadReason),
}

/// Keepalive state of one open connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Keepalive {
    mode: Mode,
    unanswered: u32,
    last_ping: Option<Instant>,
    probe_sent: Option<Instant>,
    deadline: Instant,
}

impl Keepalive {
    /// A connection opened at `now`; the first step is due after `idle`.
    pub(crate) fn new(now: Instant, idle: Duration, mode: Mode) -> Self {
        Keepalive {
            mode,
            unanswered: 0,
            last_ping: None,
            probe_sent: None,
            deadline: now + idle,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// Whether a fallback probe is out and unanswered.
    pub(crate) fn probe_outstanding(&self) -> bool {
        self.probe_sent.is_some()
    }

    /// Time since the oldest outstanding fallback probe, if one is out.
    pub(crate) fn probe_rtt(&self, now: Instant) -> Option<Duration> {
        self.probe_sent.map(|t| now - t)
    }

    /// Time since the last CRLF ping, if any is unanswered.
    pub(crate) fn ping_rtt(&self, now: Instant) -> Option<Duration> {
        if self.unanswered > 0 {
            self.last_ping.map(|t| now - t)
        } else {
            None
        }
    }

    /// Any sign of life at `now` (pong, inbound frame, probe answer):
    /// forget the misses and restart the cycle, next step after `idle`.
    pub(crate) fn on_life(&mut self, now: Instant, idle: Duration) {
        self.unanswered = 0;
        self.last_ping = None;
        self.probe_sent = None;
        self.deadline = now + idle;
    }

    /// Probe right away (network change) if nothing is outstanding; returns
    /// whether the deadline moved to `now`.
    pub(crate) fn probe_now(&mut self, now: Instant) -> bool {
        let idle = match self.mode {
            Mode::Crlf => self.unanswered == 0,
            Mode::Fallback => self.probe_sent.is_none(),
        };
        if idle && self.deadline > now {
            self.deadline = now;
            true
        } else {
            false
        }
    }

    /// The deadline came at `now`: advance the schedule. `pong_seen` is
    /// whether this server has ever answered a CRLF ping.
    pub(crate) fn step(&mut self, now: Instant, cfg: &KeepaliveConfig, pong_seen: bool) -> Step {
        match self.mode {
            Mode::Crlf if self.unanswered < cfg.max_unanswered => {
                let n = self.unanswered + 1;
                self.unanswered = n;
                self.last_ping = Some(now);
                let wait = if n == 1 { cfg.first_retry } else { cfg.retry };
                self.deadline = now + wait;
                let probe = n == 2 && !pong_seen && cfg.fallback != FallbackProbe::None;
                if probe {
                    self.probe_sent = Some(now);
                }
                Step::Ping {
                    n,
                    escalated: n == 2,
                    probe,
                }
            }
            Mode::Crlf => Step::Dead(DeadReason::NoPong {
                unanswered: self.unanswered,
            }),
            Mode::Fallback if self.probe_sent.is_none() => {
                self.send_probe(now, cfg);
                Step::Probe
            }
            Mode::Fallback => Step::Dead(DeadReason::NoProbeAnswer {
                probe: cfg.fallback,
            }),
        }
    }

    fn send_probe(&mut self, now: Instant, cfg: &KeepaliveConfig) {
        self.probe_sent = Some(now);
        self.deadline = now + cfg.probe_timeout;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn the_notes_schedule() {
        let cfg = KeepaliveConfig::default();
        let mut k = Keepalive::new(at(0), cfg.idle, Mode::Crlf);
        let mut seen = Vec::new();
        while seen.len() < 5 {
            let now = k.deadline();
            seen.push((now.as_millis(), k.step(now, &cfg, true)));
        }
        assert_eq!(
            seen,
            [
                (
                    10_000,
                    Step::Ping {
                        n: 1,
                        escalated: false,
                        probe: false
                    }
                ),
                (
                    15_000,
                    Step::Ping {
                        n: 2,
                        escalated: true,
                        probe: false
                    }
                ),
                (
                    17_500,
                    Step::Ping {
                        n: 3,
                        escalated: false,
                        probe: false
                    }
                ),
                (
                    20_000,
                    Step::Ping {
                        n: 4,
                        escalated: false,
                        probe: false
                    }
                ),
                (22_500, Step::Dead(DeadReason::NoPong { unanswered: 4 })),
            ]
        );
    }

    #[test]
    fn never_ponged_server_gets_the_probe_with_ping_2_and_the_same_verdict() {
        let cfg = KeepaliveConfig::default();
        let mut k = Keepalive::new(at(0), cfg.idle, Mode::Crlf);
        let mut probes = Vec::new();
        for _ in 0..4 {
            let now = k.deadline();
            if let Step::Ping { probe: true, .. } = k.step(now, &cfg, false) {
                probes.push(now.as_millis());
            }
        }
        assert_eq!(probes, [15_000]);
        assert!(k.probe_outstanding());
        assert_eq!(k.probe_rtt(at(15_300)), Some(Duration::from_millis(300)));
        // Nothing answered at all: dead on the note's timeline.
        assert_eq!(
            k.step(at(22_500), &cfg, false),
            Step::Dead(DeadReason::NoPong { unanswered: 4 })
        );
    }

    #[test]
    fn fallback_mode_probes_after_idle_and_dies_on_a_missed_probe() {
        let cfg = KeepaliveConfig::default();
        let mut k = Keepalive::new(at(0), cfg.idle, Mode::Fallback);
        assert_eq!(k.step(at(10_000), &cfg, false), Step::Probe);
        assert_eq!(k.deadline(), at(15_000));
        k.on_life(at(10_200), cfg.idle);
        assert!(!k.probe_outstanding());
        assert_eq!(k.step(at(20_200), &cfg, false), Step::Probe);
        assert_eq!(
            k.step(at(25_200), &cfg, false),
            Step::Dead(DeadReason::NoProbeAnswer {
                probe: FallbackProbe::WsPing
            })
        );
    }

    #[test]
    fn no_early_probe_when_the_server_ponged_before_or_none_is_configured() {
        let mut cfg = KeepaliveConfig::default();
        for (pong_seen, fallback) in [(true, FallbackProbe::WsPing), (false, FallbackProbe::None)] {
            cfg.fallback = fallback;
            let mut k = Keepalive::new(at(0), cfg.idle, Mode::Crlf);
            for _ in 0..4 {
                let now = k.deadline();
                let step = k.step(now, &cfg, pong_seen);
                assert!(matches!(step, Step::Ping { probe: false, .. }), "{step:?}");
            }
            assert!(!k.probe_outstanding());
        }
    }
}
