//! Router counters, readable at run time: per frame kind, per outcome and
//! per rule. Plain integers updated by [`super::Router::route`]; reading
//! them costs nothing and they feed the `sipws` statistics.

use super::classify::FrameKind;

/// A count of frames and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    /// Frames counted.
    pub frames: u64,
    /// Their total size in bytes.
    pub bytes: u64,
}

impl Counter {
    #[inline]
    pub(crate) fn add(&mut self, bytes: usize) {
        self.frames = self.frames.wrapping_add(1);
        self.bytes = self.bytes.wrapping_add(bytes as u64);
    }
}

/// Counters of one rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Frames the rule matched (consumed, or observed for a tap).
    pub matched: Counter,
    /// Regex evaluations the rule ran (header and body refinements).
    pub regex_evaluations: u64,
}

/// Counters of a whole router.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every routed frame by kind, indexed by [`FrameKind::index`];
    /// read with [`Stats::kind`].
    pub kinds: [Counter; 5],
    /// Frames a consuming rule took.
    pub handled: Counter,
    /// Well-formed frames (SIP messages and keepalives) no consuming rule took.
    pub unrouted: Counter,
    /// Malformed frames no consuming rule took.
    pub malformed: Counter,
    /// Tap observations (one frame seen by two taps counts twice).
    pub tapped: u64,
    /// Regex evaluations over all rules.
    pub regex_evaluations: u64,
    /// Full parses done for refinements (at most one per frame).
    pub full_parses: u64,
    /// Full parses that failed; the refinements of that frame did not match.
    pub full_parse_failures: u64,
}

impl Stats {
    /// The counter of one frame kind.
    #[must_use]
    pub fn kind(&self, kind: FrameKind) -> Counter {
        self.kinds.get(kind.index()).copied().unwrap_or_default()
    }

    /// Frames routed, of every kind.
    #[must_use]
    pub fn frames(&self) -> u64 {
        self.kinds.iter().map(|c| c.frames).sum()
    }

    #[inline]
    pub(crate) fn kind_mut(&mut self, kind: FrameKind) -> Option<&mut Counter> {
        self.kinds.get_mut(kind.index())
    }
}
