//! Transaction timers (RFC 3261 §17, Table 4; RFC 6026 Timers L and M),
//! as they are over a reliable transport (RFC 3261 §17.1.1.2, §17.1.2.2,
//! §17.2.1, §17.2.2): no retransmission timers (A, E, G), the absorbing
//! timers (D, I, J, K) zero, and the give-up timers 64·T1.

use core::fmt;
use core::time::Duration;

/// Every timer a transaction over a reliable transport can run. Each
/// transaction runs at most one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// INVITE client, Calling: no response at all (64·T1).
    B,
    /// INVITE client, Completed: absorb response retransmissions (0).
    D,
    /// Non-INVITE client, Trying/Proceeding: no final response (64·T1).
    F,
    /// INVITE server, Completed: no ACK for the non-2xx final (64·T1).
    H,
    /// INVITE server, Confirmed: absorb ACK retransmissions (0).
    I,
    /// Non-INVITE server, Completed: absorb request retransmissions (0).
    J,
    /// Non-INVITE client, Completed: absorb response retransmissions (0).
    K,
    /// INVITE server, Accepted (RFC 6026): absorb INVITE retransmissions
    /// after a 2xx (64·T1).
    L,
    /// INVITE client, Accepted (RFC 6026): pass 2xx retransmissions to
    /// the user agent (64·T1).
    M,
}

impl Timer {
    /// The RFC's name, e.g. `"Timer B"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Timer::B => "Timer B",
            Timer::D => "Timer D",
            Timer::F => "Timer F",
            Timer::H => "Timer H",
            Timer::I => "Timer I",
            Timer::J => "Timer J",
            Timer::K => "Timer K",
            Timer::L => "Timer L",
            Timer::M => "Timer M",
        }
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The base timer values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip estimate (default 500 ms).
    pub t1: Duration,
    /// T2, the cap of retransmission intervals (default 4 s); used by the
    /// user agent's 2xx retransmission, not by these timers.
    pub t2: Duration,
    /// T4, how long the network keeps a message (default 5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// How long `timer` runs over a reliable transport.
    #[must_use]
    pub fn duration(&self, timer: Timer) -> Duration {
        match timer {
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M => self.t1.saturating_mul(64),
            Timer::D | Timer::I | Timer::J | Timer::K => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliable_transport_values() {
        let c = TimerConfig::default();
        for t in [Timer::B, Timer::F, Timer::H, Timer::L, Timer::M] {
            assert_eq!(c.duration(t), Duration::from_secs(32), "{t}");
        }
        for t in [Timer::D, Timer::I, Timer::J, Timer::K] {
            assert_eq!(c.duration(t), Duration::ZERO, "{t}");
        }
        let slow = TimerConfig {
            t1: Duration::from_secs(2),
            ..c
        };
        assert_eq!(slow.duration(Timer::B), Duration::from_secs(128));
    }
}
