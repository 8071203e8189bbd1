//! Reconnect policy as pure functions: which attempt comes next, after what
//! delay, to which server. Nothing here keeps time; the link passes `now`
//! and a random value in.

use core::time::Duration;

use super::config::ReconnectConfig;

/// Spread `base` by up to `permille` thousandths either way, using `r` as
/// the random draw: the factor is `1 + ((r mod (2p + 1)) - p) / 1000`.
/// Millisecond precision, never below 1 ms unless `base` is zero.
#[must_use]
pub fn jittered(base: Duration, permille: u16, r: u64) -> Duration {
    if permille == 0 {
        return base;
    }
    let p = i128::from(permille);
    let offset = i128::from(r % (2 * u64::from(permille) + 1)) - p;
    let base_ms = i128::try_from(base.as_millis()).unwrap_or(i128::MAX / 4000);
    let ms = base_ms.saturating_mul(1000 + offset) / 1000;
    let ms = u64::try_from(ms.max(i128::from(base_ms > 0))).unwrap_or(u64::MAX);
    Duration::from_millis(ms)
}

/// The delay before reconnect attempt `attempt` (1-based), jitter applied
/// with the random draw `r`. The last configured delay repeats.
#[must_use]
pub fn backoff_delay(config: &ReconnectConfig, attempt: u32, r: u64) -> Duration {
    let i = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
    let base = config
        .delays
        .get(i)
        .or(config.delays.last())
        .copied()
        .unwrap_or(Duration::ZERO);
    jittered(base, config.jitter_permille, r)
}

/// The server index after `current` among `count` servers (failover
/// rotation).
#[must_use]
pub fn next_server(current: usize, count: usize) -> usize {
    if count == 0 {
        0
    } else {
        (current + 1) % count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_spans_exactly_plus_minus() {
        let s = Duration::from_secs(1);
        assert_eq!(jittered(s, 200, 0), Duration::from_millis(800));
        assert_eq!(jittered(s, 200, 200), Duration::from_secs(1));
        assert_eq!(jittered(s, 200, 400), Duration::from_millis(1200));
        assert_eq!(jittered(s, 200, 401), Duration::from_millis(800));
        assert_eq!(jittered(s, 0, 12345), s);
        assert_eq!(jittered(Duration::ZERO, 200, 7), Duration::ZERO);
        assert_eq!(
            jittered(Duration::from_millis(1), 1000, 0),
            Duration::from_millis(1)
        );
    }

    #[test]
    fn delays_follow_the_table_and_repeat_the_last() {
        let mut c = ReconnectConfig {
            jitter_permille: 0,
            ..ReconnectConfig::default()
        };
        let d: Vec<u64> = (1..=5)
            .map(|a| backoff_delay(&c, a, 0).as_millis() as u64)
            .collect();
        assert_eq!(d, [1000, 2000, 4000, 4000, 4000]);
        c.delays.clear();
        assert_eq!(backoff_delay(&c, 1, 0), Duration::ZERO);
    }

    #[test]
    fn rotation_wraps() {
        assert_eq!(next_server(0, 3), 1);
        assert_eq!(next_server(2, 3), 0);
        assert_eq!(next_server(0, 1), 0);
        assert_eq!(next_server(5, 0), 0);
    }
}
