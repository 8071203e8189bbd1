//! Tokio time ↔ the core's [`Instant`]: milliseconds since the driver
//! started. Built on `tokio::time`, so `tokio::time::pause()` drives it in
//! tests.

use std::time::Duration;

use sipws_core::time::Instant;

/// The driver's epoch and conversions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    /// A clock whose epoch is now.
    pub(crate) fn start() -> Self {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// Time since the epoch.
    pub(crate) fn elapsed(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The current time as the core sees it (whole milliseconds, rounded
    /// down: a deadline is never reported as due before it is).
    pub(crate) fn now(&self) -> Instant {
        let ms = u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX);
        Instant::from_millis(ms)
    }

    /// The tokio instant of a core deadline.
    pub(crate) fn deadline(&self, at: Instant) -> tokio::time::Instant {
        self.epoch + Duration::from_millis(at.as_millis())
    }
}
