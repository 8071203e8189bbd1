//! The link's timers: one closed enum and a fixed table. The link's next
//! deadline ([`Link::poll_timeout`](super::Link::poll_timeout)) is the
//! minimum over the table.

use crate::time::Instant;

/// Every timer a link can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// Next keepalive step: ping, escalation, fallback probe or death.
    Keepalive,
    /// The connect timeout of the attempt in progress.
    Connect,
    /// The delay before the next reconnect attempt.
    Backoff,
    /// A reconnected link counts as live after staying open this long.
    Stable,
}

impl Timer {
    /// All timers, in the order expired ones fire.
    pub(crate) const VALUES: [Timer; 4] = [
        Timer::Connect,
        Timer::Keepalive,
        Timer::Stable,
        Timer::Backoff,
    ];

    const fn index(self) -> usize {
        match self {
            Timer::Keepalive => 0,
            Timer::Connect => 1,
            Timer::Backoff => 2,
            Timer::Stable => 3,
        }
    }
}

/// Deadlines of the running timers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimerTable {
    data: [Option<Instant>; 4],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.data[timer.index()] = Some(at);
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.data[timer.index()]
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.data[timer.index()] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.data = [None; 4];
    }

    /// The earliest deadline of any running timer.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.data.iter().flatten().min().copied()
    }

    /// Stop `timer` and say whether it was due at `now`.
    pub(crate) fn take_expired(&mut self, timer: Timer, now: Instant) -> bool {
        match self.get(timer) {
            Some(at) if at <= now => {
                self.stop(timer);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_timeout_is_the_minimum_and_expiry_stops() {
        let mut t = TimerTable::default();
        assert_eq!(t.next_timeout(), None);
        t.set(Timer::Backoff, Instant::from_millis(300));
        t.set(Timer::Keepalive, Instant::from_millis(200));
        assert_eq!(t.next_timeout(), Some(Instant::from_millis(200)));
        assert!(!t.take_expired(Timer::Keepalive, Instant::from_millis(199)));
        assert!(t.take_expired(Timer::Keepalive, Instant::from_millis(200)));
        assert!(!t.take_expired(Timer::Keepalive, Instant::from_millis(200)));
        assert_eq!(t.next_timeout(), Some(Instant::from_millis(300)));
        t.stop_all();
        assert_eq!(t.next_timeout(), None);
    }
}
