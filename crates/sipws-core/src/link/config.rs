//! Link configuration: servers, keepalive schedule, reconnect policy and
//! send-queue bounds. Defaults reproduce the design note exactly
//! (`DESIGN.md` §4); every number can be changed.

use core::fmt;
use core::time::Duration;

/// Everything a [`Link`](super::Link) needs to know before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Server URLs (`ws://` or `wss://`), tried in rotation (failover).
    /// At least one is required.
    pub urls: Vec<String>,
    /// The CRLF keepalive schedule and the fallback liveness probe.
    pub keepalive: KeepaliveConfig,
    /// When and how often to reconnect.
    pub reconnect: ReconnectConfig,
    /// Bounds of the queue of frames sent while the link is down.
    pub queue: QueueConfig,
}

impl LinkConfig {
    /// Default settings for the given server URLs.
    #[must_use]
    pub fn new<I, S>(urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        LinkConfig {
            urls: urls.into_iter().map(Into::into).collect(),
            keepalive: KeepaliveConfig::default(),
            reconnect: ReconnectConfig::default(),
            queue: QueueConfig::default(),
        }
    }

    /// Check the settings; [`Link::new`](super::Link::new) calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.urls.is_empty() {
            return Err(ConfigError::NoUrls);
        }
        let k = &self.keepalive;
        for (name, d) in [
            ("keepalive.idle", k.idle),
            ("keepalive.first_retry", k.first_retry),
            ("keepalive.retry", k.retry),
            ("keepalive.probe_timeout", k.probe_timeout),
            ("reconnect.connect_timeout", self.reconnect.connect_timeout),
        ] {
            if d < Duration::from_millis(1) {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        if let Some(d) = self.reconnect.stable_after {
            if d < Duration::from_millis(1) {
                return Err(ConfigError::ZeroDuration("reconnect.stable_after"));
            }
        }
        if k.max_unanswered == 0 {
            return Err(ConfigError::ZeroMaxUnanswered);
        }
        if k.jitter_permille > 1000 {
            return Err(ConfigError::JitterTooLarge(k.jitter_permille));
        }
        if self.reconnect.jitter_permille > 1000 {
            return Err(ConfigError::JitterTooLarge(self.reconnect.jitter_permille));
        }
        if self.reconnect.max_attempts > 0 && self.reconnect.delays.is_empty() {
            return Err(ConfigError::NoDelays);
        }
        if self.queue.max_frame_bytes == 0 {
            return Err(ConfigError::ZeroFrameSize);
        }
        Ok(())
    }
}

/// The CRLF keepalive schedule (`DESIGN.md` §4).
///
/// With the defaults: ping 10 s after open or the last sign of life; no
/// pong within 5 s → ping #2; then every 2.5 s; 4 unanswered pings (at
/// +10, +15, +17.5, +20 s) → the connection is dead at +22.5 s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeepaliveConfig {
    /// Quiet time after open, a pong or any inbound frame before ping #1
    /// (default 10 s).
    pub idle: Duration,
    /// Wait after ping #1 before ping #2 (default 5 s).
    pub first_retry: Duration,
    /// Wait after ping #2 and every later ping (default 2.5 s); also the
    /// wait after the last ping before the connection is declared dead.
    pub retry: Duration,
    /// Unanswered pings that make the connection dead (default 4).
    pub max_unanswered: u32,
    /// Random spread of `idle`, in thousandths either way (default 0: the
    /// note's exact schedule; 100 = ±10 %).
    pub jitter_permille: u16,
    /// How to prove liveness on a server that has never answered a CRLF
    /// ping (default [`FallbackProbe::WsPing`]).
    pub fallback: FallbackProbe,
    /// How long a fallback probe may stay unanswered before the connection
    /// is dead (default 5 s).
    pub probe_timeout: Duration,
}

impl Default for KeepaliveConfig {
    fn default() -> Self {
        KeepaliveConfig {
            idle: Duration::from_secs(10),
            first_retry: Duration::from_secs(5),
            retry: Duration::from_millis(2_500),
            max_unanswered: 4,
            jitter_permille: 0,
            fallback: FallbackProbe::WsPing,
            probe_timeout: Duration::from_secs(5),
        }
    }
}

/// The liveness probe used on servers that never answer CRLF pings.
///
/// Some servers (older Kamailio, OpenSIPS 3.1, drachtio) ignore `"\r\n\r\n"`.
/// Declaring them dead every 22.5 s would reconnect in a loop, so on a
/// server that has never sent a pong, ping #2 goes out together with this
/// probe: if the probe is answered while the CRLF pings are not, the link
/// learns that the server never pongs and keeps the connection on the probe
/// alone. If nothing is answered, the connection is dead at 22.5 s as usual.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FallbackProbe {
    /// A WebSocket Ping frame ([`Transmit::Ping`](super::Transmit::Ping));
    /// the driver reports the Pong with
    /// [`Link::handle_ws_pong`](super::Link::handle_ws_pong). Native drivers
    /// only: browsers cannot send WebSocket Pings.
    WsPing,
    /// Ask the layer above to send a request (typically `OPTIONS`) with
    /// [`LinkEvent::ProbeRequested`](super::LinkEvent::ProbeRequested); any
    /// inbound frame, or
    /// [`Link::handle_probe_answered`](super::Link::handle_probe_answered),
    /// answers it.
    Request,
    /// No fallback: unanswered CRLF pings always mean a dead connection,
    /// even on a server that never answers them.
    None,
}

impl fmt::Display for FallbackProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FallbackProbe::WsPing => "websocket ping",
            FallbackProbe::Request => "request (OPTIONS)",
            FallbackProbe::None => "none",
        })
    }
}

/// The reconnect policy (`DESIGN.md` §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconnectConfig {
    /// Reconnect attempts in one round before the link reports `Failed`
    /// (default 3). The count resets once a new connection proves live.
    pub max_attempts: u32,
    /// Time a connection attempt may take before it counts as failed
    /// (default 5 s).
    pub connect_timeout: Duration,
    /// Delay before attempt *n* is `delays[n - 1]`, the last entry repeating
    /// (default 1 s, 2 s, 4 s).
    pub delays: Vec<Duration>,
    /// Random spread of each delay, in thousandths either way (default 200
    /// = ±20 %).
    pub jitter_permille: u16,
    /// A reconnected link also counts as live after staying open this long,
    /// even without a pong or an inbound frame (default `None`: only a pong,
    /// an answered probe or an inbound frame proves it).
    pub stable_after: Option<Duration>,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            max_attempts: 3,
            connect_timeout: Duration::from_secs(5),
            delays: vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4),
            ],
            jitter_permille: 200,
            stable_after: None,
        }
    }
}

/// Bounds of the send queue used while the link is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Frames the queue holds at most (default 64).
    pub max_frames: usize,
    /// Payload bytes the queue holds at most (default 256 KiB).
    pub max_bytes: usize,
    /// Largest frame [`Link::send`](super::Link::send) accepts (default
    /// 64 KiB); larger is a [`SendError::TooLarge`](super::SendError).
    pub max_frame_bytes: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_frames: 64,
            max_bytes: 256 * 1024,
            max_frame_bytes: 64 * 1024,
        }
    }
}

/// A [`LinkConfig`] that cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No server URL was given.
    NoUrls,
    /// A duration that must be at least 1 ms is zero (the field is named).
    ZeroDuration(&'static str),
    /// `keepalive.max_unanswered` is zero.
    ZeroMaxUnanswered,
    /// A jitter above 1000 ‰ (100 %).
    JitterTooLarge(u16),
    /// Reconnect attempts are allowed but no delay is given.
    NoDelays,
    /// `queue.max_frame_bytes` is zero.
    ZeroFrameSize,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoUrls => f.write_str("no server URL configured"),
            ConfigError::ZeroDuration(name) => write!(f, "{name} must be at least 1 ms"),
            ConfigError::ZeroMaxUnanswered => {
                f.write_str("keepalive.max_unanswered must be at least 1")
            }
            ConfigError::JitterTooLarge(p) => write!(f, "jitter {p}‰ is above 1000‰"),
            ConfigError::NoDelays => f.write_str("reconnect.delays is empty"),
            ConfigError::ZeroFrameSize => f.write_str("queue.max_frame_bytes must be positive"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_notes_numbers_and_valid() {
        let c = LinkConfig::new(["ws://127.0.0.1:8080"]);
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.keepalive.idle, Duration::from_secs(10));
        assert_eq!(c.keepalive.first_retry, Duration::from_secs(5));
        assert_eq!(c.keepalive.retry, Duration::from_millis(2500));
        assert_eq!(c.keepalive.max_unanswered, 4);
        assert_eq!(c.reconnect.max_attempts, 3);
        assert_eq!(c.reconnect.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.reconnect.jitter_permille, 200);
    }

    #[test]
    fn invalid_settings_are_named() {
        assert_eq!(
            LinkConfig::new(Vec::<String>::new()).validate(),
            Err(ConfigError::NoUrls)
        );
        let mut c = LinkConfig::new(["ws://127.0.0.1:1"]);
        c.keepalive.retry = Duration::ZERO;
        assert_eq!(
            c.validate(),
            Err(ConfigError::ZeroDuration("keepalive.retry"))
        );
        let mut c = LinkConfig::new(["ws://127.0.0.1:1"]);
        c.reconnect.delays.clear();
        assert_eq!(c.validate(), Err(ConfigError::NoDelays));
        c.reconnect.max_attempts = 0;
        assert_eq!(c.validate(), Ok(()));
    }
}
