//! Monotonic time as an input.
//!
//! The core never reads a clock (`std::time::Instant::now()` panics on
//! `wasm32-unknown-unknown`). Drivers convert their clock into an
//! [`Instant`]: milliseconds since an epoch of the driver's choosing
//! (process start natively, `performance.timeOrigin` in the browser).
//! Tests use a virtual clock and jump it to the next `poll_timeout()`.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point on a monotonic clock, in whole milliseconds since the driver's
/// epoch. Cheap to copy, totally ordered, works on every target.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The epoch itself (time zero of the driver's clock).
    pub const ZERO: Instant = Instant(0);

    /// An instant `ms` milliseconds after the epoch.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the far future instead of overflowing.
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(duration_millis(d)))
    }
}

/// Whole milliseconds of `d`, rounded up so a sub-millisecond delay is
/// never turned into "already due", saturating at `u64::MAX`.
fn duration_millis(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_rounds_up() {
        let t = Instant::from_millis(10_000);
        assert_eq!((t + Duration::from_millis(2_500)).as_millis(), 12_500);
        assert_eq!((t + Duration::from_micros(1)).as_millis(), 10_001);
        assert_eq!(
            Instant::from_millis(u64::MAX) + Duration::from_secs(1),
            Instant::from_millis(u64::MAX)
        );
        assert_eq!(Instant::from_millis(5) - t, Duration::ZERO);
        assert_eq!(t - Instant::ZERO, Duration::from_secs(10));
        assert_eq!(format!("{t:?}"), "10.000s");
    }
}
