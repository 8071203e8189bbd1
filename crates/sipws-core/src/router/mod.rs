//! The router (DESIGN.md §5): classify every inbound frame and pick, by
//! rules in priority order, the handler that takes it.
//!
//! - [`classify`]: structural classification (ping, pong, request, response,
//!   malformed) on top of [`message::classify`](crate::message::classify).
//! - [`rule`]: a rule's structural part (kind, method, status or class,
//!   CSeq method, Call-ID, dialog) and refinements (header value exact /
//!   token / regex, body regex), consume or tap.
//! - [`text`]: the rule text syntax (`NOTIFY event=dialog`,
//!   `response 4xx cseq=REGISTER`, `tap: any`, …).
//! - [`stats`]: counters per kind, per outcome and per rule.
//!
//! [`Router<K>`] holds rules with a handler key `K` each: the core stays
//! callback-free, drivers map keys to callbacks or channels. For every
//! frame, [`Router::route`]:
//! 1. classifies it once (no regex, no allocation);
//! 2. walks the rules from the highest [`Priority`] down (ties: the rule
//!    added first); a rule whose structural part does not match is skipped
//!    without evaluating anything else; refinements run only after the
//!    structural part matched, on a full parse made at most once per frame
//!    and only when such a rule is reached;
//! 3. a matching tap is recorded and the walk goes on; the first matching
//!    consuming rule takes the frame and ends the walk (taps with a lower
//!    priority than it do not see the frame: put a logging tap at
//!    [`Priority::HIGHEST`] to see everything);
//! 4. returns a [`Route`]: [`Route::Handled`], [`Route::Unrouted`] with the
//!    classification, or [`Route::Malformed`] with the parse error. Every
//!    frame gets exactly one outcome; the router never panics.
//!
//! The signaling layer installs its default rules (responses → transactions,
//! requests → user agent) at [`Priority::LOWEST`] so the application can take
//! any message first.
//!
//! A frame is malformed when classification fails (start line, CSeq,
//! Call-ID, Content-Length and header framing). A frame that classifies but
//! whose other headers are broken is routed on its structural points; a
//! refinement rule never matches it (counted in
//! [`Stats::full_parse_failures`]) and the handler's own parse reports it.

pub mod classify;
pub mod rule;
pub mod stats;
pub mod text;

use std::collections::BTreeMap;

use crate::message::{HeaderName, Limits, Message, ParseError};

pub use classify::{Classified, FrameKind};
pub use rule::{
    DialogId, DialogMatch, HeaderKey, HeaderMatch, Mode, Pattern, Rule, StatusMatch, ValueTest,
};
pub use stats::{Counter, RuleStats, Stats};
pub use text::{RuleErrorKind, RuleParseError};

use rule::{method_id, Facts};

/// Identifies a rule in its router; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(u64);

impl RuleId {
    /// The number behind the id (ids count up from 1 per router).
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Where a rule sits in the walk: higher priorities are tried first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Priority(pub i32);

impl Priority {
    /// Tried before everything else (e.g. a logging tap).
    pub const HIGHEST: Priority = Priority(i32::MAX);
    /// The application's rules, by default.
    pub const APPLICATION: Priority = Priority(0);
    /// Tried last: the signaling layer's default rules sit here.
    pub const LOWEST: Priority = Priority(i32::MIN);
}

struct Entry<K> {
    id: RuleId,
    priority: Priority,
    needs_parse: bool,
    rule: Rule,
    key: K,
    stats: RuleStats,
}

/// The rules that observed a frame without consuming it, in walk order.
pub struct Taps<'a, K> {
    entries: &'a [Entry<K>],
    hits: &'a [usize],
}

impl<K> Clone for Taps<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Taps<'_, K> {}

impl<K: core::fmt::Debug> core::fmt::Debug for Taps<'_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, K> Taps<'a, K> {
    /// How many taps observed the frame.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether no tap observed the frame.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// The taps' ids and keys, in walk order.
    pub fn iter(&self) -> impl Iterator<Item = (RuleId, &'a K)> + 'a {
        let entries = self.entries;
        self.hits
            .iter()
            .filter_map(move |&i| entries.get(i).map(|e| (e.id, &e.key)))
    }
}

/// The outcome of routing one frame. Deliberately exhaustive: a driver
/// matching on it handles every frame.
#[derive(Debug)]
pub enum Route<'a, K> {
    /// A consuming rule took the frame (a `malformed` rule may take a
    /// malformed frame: `frame` is then [`Classified::Malformed`]).
    Handled {
        /// The rule.
        rule: RuleId,
        /// Its handler key.
        key: &'a K,
        /// The frame's classification.
        frame: Classified<'a>,
        /// Taps that observed the frame before the rule took it.
        taps: Taps<'a, K>,
    },
    /// A well-formed frame (SIP message or keepalive) no consuming rule took.
    Unrouted {
        /// The frame's classification.
        summary: Classified<'a>,
        /// Taps that observed it.
        taps: Taps<'a, K>,
    },
    /// A malformed frame no consuming rule took.
    Malformed {
        /// Why it did not classify.
        error: ParseError,
        /// Taps that observed it.
        taps: Taps<'a, K>,
    },
}

impl<'a, K> Route<'a, K> {
    /// The consuming handler's key, if a rule took the frame.
    #[must_use]
    pub fn key(&self) -> Option<&'a K> {
        match self {
            Route::Handled { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The consuming rule, if any.
    #[must_use]
    pub fn rule(&self) -> Option<RuleId> {
        match self {
            Route::Handled { rule, .. } => Some(*rule),
            _ => None,
        }
    }

    /// The taps that observed the frame.
    #[must_use]
    pub fn taps(&self) -> Taps<'a, K> {
        match self {
            Route::Handled { taps, .. }
            | Route::Unrouted { taps, .. }
            | Route::Malformed { taps, .. } => *taps,
        }
    }

    /// The frame's classification.
    #[must_use]
    pub fn classified(&self) -> Classified<'a> {
        match self {
            Route::Handled { frame, .. } => *frame,
            Route::Unrouted { summary, .. } => *summary,
            Route::Malformed { error, .. } => Classified::Malformed(*error),
        }
    }
}

/// A registered rule as listed by [`Router::rules`].
#[derive(Debug)]
pub struct RuleInfo<'a, K> {
    /// Its id.
    pub id: RuleId,
    /// Its priority.
    pub priority: Priority,
    /// The rule.
    pub rule: &'a Rule,
    /// Its handler key.
    pub key: &'a K,
    /// Its counters.
    pub stats: RuleStats,
}

/// The dispatch table: rules with handler keys, in priority order.
pub struct Router<K> {
    rules: Vec<Entry<K>>,
    /// For each bucket (see [`bucket_of`]), the indices of the rules whose
    /// structural part may match a frame of that bucket, in walk order.
    index: Vec<Vec<usize>>,
    next_id: u64,
    limits: Limits,
    dialogs: BTreeMap<String, Vec<DialogId>>,
    stats: Stats,
    taps: Vec<usize>,
}

impl<K> Default for Router<K> {
    fn default() -> Self {
        Router::new()
    }
}

impl<K: core::fmt::Debug> core::fmt::Debug for Router<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Router")
            .field("rules", &self.rules().collect::<Vec<_>>())
            .field("dialogs", &self.dialogs)
            .field("stats", &self.stats)
            .finish()
    }
}

/// The lazily made full parse of the frame being routed.
enum Parsed<'a> {
    NotYet,
    Ok(Box<Message<'a>>),
    Failed,
}

impl<K> Router<K> {
    /// An empty router with default [`Limits`].
    #[must_use]
    pub fn new() -> Self {
        Router::with_limits(Limits::default())
    }

    /// An empty router parsing frames with `limits`.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Router {
            rules: Vec::new(),
            index: vec![Vec::new(); BUCKETS],
            next_id: 1,
            limits,
            dialogs: BTreeMap::new(),
            stats: Stats::default(),
            taps: Vec::new(),
        }
    }

    /// The limits frames are parsed with.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Add a rule with its handler key. Among rules of equal priority, the
    /// one added first is tried first.
    pub fn add(&mut self, rule: Rule, key: K, priority: Priority) -> RuleId {
        let id = RuleId(self.next_id);
        self.next_id += 1;
        let at = self.rules.partition_point(|e| e.priority >= priority);
        self.rules.insert(
            at,
            Entry {
                id,
                priority,
                needs_parse: rule.needs_full_parse(),
                rule,
                key,
                stats: RuleStats::default(),
            },
        );
        self.reindex();
        id
    }

    /// Rebuild the bucket index after the rule list changed.
    fn reindex(&mut self) {
        for (b, list) in self.index.iter_mut().enumerate() {
            list.clear();
            list.extend(
                self.rules
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| may_match(&e.rule, b))
                    .map(|(i, _)| i),
            );
        }
    }

    /// Remove a rule; returns it with its key and counters.
    pub fn remove(&mut self, id: RuleId) -> Option<(Rule, K, RuleStats)> {
        let at = self.rules.iter().position(|e| e.id == id)?;
        let e = self.rules.remove(at);
        self.reindex();
        Some((e.rule, e.key, e.stats))
    }

    /// Remove every rule whose key satisfies `pred`; returns how many.
    pub fn remove_where(&mut self, mut pred: impl FnMut(RuleId, &K) -> bool) -> usize {
        let before = self.rules.len();
        self.rules.retain(|e| !pred(e.id, &e.key));
        self.reindex();
        before - self.rules.len()
    }

    /// The number of rules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the router has no rule.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules in walk order.
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_, K>> + '_ {
        self.rules.iter().map(|e| RuleInfo {
            id: e.id,
            priority: e.priority,
            rule: &e.rule,
            key: &e.key,
            stats: e.stats,
        })
    }

    /// One rule's counters.
    #[must_use]
    pub fn rule_stats(&self, id: RuleId) -> Option<RuleStats> {
        self.rules.iter().find(|e| e.id == id).map(|e| e.stats)
    }

    /// The router's counters.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Zero every counter (router and rules).
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        for e in &mut self.rules {
            e.stats = RuleStats::default();
        }
    }

    /// Register a dialog the layer above holds, for `dialog` rules.
    /// Returns `false` if it was already registered.
    pub fn register_dialog(&mut self, dialog: DialogId) -> bool {
        let list = self.dialogs.entry(dialog.call_id.clone()).or_default();
        if list.contains(&dialog) {
            return false;
        }
        list.push(dialog);
        true
    }

    /// Forget a dialog; returns whether it was registered.
    pub fn unregister_dialog(&mut self, dialog: &DialogId) -> bool {
        let Some(list) = self.dialogs.get_mut(dialog.call_id.as_str()) else {
            return false;
        };
        let before = list.len();
        list.retain(|d| d != dialog);
        let removed = list.len() != before;
        if list.is_empty() {
            self.dialogs.remove(dialog.call_id.as_str());
        }
        removed
    }

    /// The registered dialogs.
    pub fn dialogs(&self) -> impl Iterator<Item = &DialogId> + '_ {
        self.dialogs.values().flatten()
    }

    /// Route one inbound frame. See the module doc for the walk.
    pub fn route<'a>(&'a mut self, frame: &'a [u8]) -> Route<'a, K> {
        let classified = classify::classify(frame, &self.limits);
        let facts = facts_of(&classified);
        let (kind, status) = (facts.kind, facts.status);
        if let Some(c) = self.stats.kind_mut(kind) {
            c.add(frame.len());
        }
        self.taps.clear();
        let mut parsed = Parsed::NotYet;
        let mut consumer = None;
        let bucket = bucket_of(kind, facts.method_id, status);
        let candidates = self.index.get(bucket).map_or(&[][..], Vec::as_slice);
        for &i in candidates {
            let Some(e) = self.rules.get_mut(i) else {
                continue;
            };
            if !e.rule.matches_structure(&facts) {
                continue;
            }
            if e.needs_parse
                && !refine(
                    &e.rule,
                    &facts,
                    frame,
                    &self.limits,
                    &self.dialogs,
                    &mut parsed,
                    &mut e.stats,
                    &mut self.stats,
                )
            {
                continue;
            }
            e.stats.matched.add(frame.len());
            match e.rule.mode {
                Mode::Tap => {
                    self.stats.tapped += 1;
                    self.taps.push(i);
                }
                Mode::Consume => {
                    consumer = Some(i);
                    break;
                }
            }
        }
        let taps = Taps {
            entries: &self.rules,
            hits: &self.taps,
        };
        if let Some(e) = consumer.and_then(|i| self.rules.get(i)) {
            self.stats.handled.add(frame.len());
            return Route::Handled {
                rule: e.id,
                key: &e.key,
                frame: classified,
                taps,
            };
        }
        match classified {
            Classified::Malformed(error) => {
                self.stats.malformed.add(frame.len());
                Route::Malformed { error, taps }
            }
            summary => {
                self.stats.unrouted.add(frame.len());
                Route::Unrouted { summary, taps }
            }
        }
    }
}

/// The structural facts rules compare against, computed once per frame.
fn facts_of<'a>(classified: &Classified<'a>) -> Facts<'a> {
    let method = classified.method().unwrap_or("");
    let cseq_method = classified.cseq_method();
    Facts {
        kind: classified.kind(),
        method_id: if method.is_empty() {
            0
        } else {
            method_id(method)
        },
        method,
        status: classified.status().unwrap_or(0),
        cseq_method,
        call_id: classified.call_id(),
    }
}

/// Buckets of the rule index: ping, pong, malformed, one per request
/// method id (0 = any other method, 1..=14 the well-known ones), one per
/// response class 1xx..6xx, and one for responses outside those classes.
const BUCKETS: usize = 3 + 15 + 6 + 1;

/// The bucket of a frame.
fn bucket_of(kind: FrameKind, method_id: u8, status: u16) -> usize {
    match kind {
        FrameKind::Ping => 0,
        FrameKind::Pong => 1,
        FrameKind::Malformed => 2,
        FrameKind::Request => 3 + usize::from(method_id.min(14)),
        FrameKind::Response => match status / 100 {
            c @ 1..=6 => 18 + usize::from(c - 1),
            _ => 24,
        },
    }
}

/// Whether a rule's kind, method and status allow a frame of bucket `b`
/// (the rest of the structural part is checked per frame).
fn may_match(rule: &Rule, b: usize) -> bool {
    let kind = match b {
        0 => FrameKind::Ping,
        1 => FrameKind::Pong,
        2 => FrameKind::Malformed,
        3..=17 => FrameKind::Request,
        _ => FrameKind::Response,
    };
    if rule.kind.is_some_and(|k| k != kind) {
        return false;
    }
    if let Some(m) = &rule.method {
        if kind != FrameKind::Request || usize::from(m.id()) + 3 != b {
            return false;
        }
    }
    if let Some(st) = rule.status {
        if kind != FrameKind::Response {
            return false;
        }
        let class = match st {
            StatusMatch::Code(c) => c / 100,
            StatusMatch::Class(d) => u16::from(d),
        };
        let bucket_class = if b == 24 { None } else { Some(b as u16 - 17) };
        match bucket_class {
            Some(bc) => {
                if class != bc {
                    return false;
                }
            }
            None => {
                if (1..=6).contains(&class) {
                    return false;
                }
            }
        }
    }
    true
}

/// Evaluate the dialog constraint and the refinements of a rule whose
/// structural part matched. Order: cheap checks first (registered Call-ID,
/// full parse, token/exact header tests, dialog tags), regexes last.
#[allow(clippy::too_many_arguments)]
fn refine<'a>(
    rule: &Rule,
    facts: &Facts<'a>,
    frame: &'a [u8],
    limits: &Limits,
    dialogs: &BTreeMap<String, Vec<DialogId>>,
    parsed: &mut Parsed<'a>,
    rule_stats: &mut RuleStats,
    stats: &mut Stats,
) -> bool {
    if !facts.kind.is_message() {
        return false;
    }
    let registered: &[DialogId] = match &rule.dialog {
        Some(DialogMatch::Registered) => match facts.call_id.and_then(|c| dialogs.get(c)) {
            Some(list) => list,
            None => return false,
        },
        _ => &[],
    };
    if let Parsed::NotYet = parsed {
        stats.full_parses += 1;
        *parsed = match Message::parse(frame, limits) {
            Ok(m) => Parsed::Ok(Box::new(m)),
            Err(_) => {
                stats.full_parse_failures += 1;
                Parsed::Failed
            }
        };
    }
    let Parsed::Ok(msg) = parsed else {
        return false;
    };
    let mut regex_runs = 0u64;
    let ok = refine_message(rule, facts, msg, registered, &mut regex_runs);
    rule_stats.regex_evaluations += regex_runs;
    stats.regex_evaluations += regex_runs;
    ok
}

fn refine_message(
    rule: &Rule,
    facts: &Facts<'_>,
    msg: &Message<'_>,
    registered: &[DialogId],
    regex_runs: &mut u64,
) -> bool {
    let header_ok = |h: &HeaderMatch, runs: &mut u64| -> bool {
        match &h.key {
            HeaderKey::Known(name) => msg.headers_named(*name).any(|v| h.value_matches(v, runs)),
            HeaderKey::Other(raw) => msg
                .headers()
                .iter()
                .filter(|x| x.name == HeaderName::Other && x.raw_name.eq_ignore_ascii_case(raw))
                .any(|x| h.value_matches(x.value, runs)),
        }
    };
    for h in rule
        .headers
        .iter()
        .filter(|h| !matches!(h.test, ValueTest::Regex(_)))
    {
        if !header_ok(h, regex_runs) {
            return false;
        }
    }
    if let Some(d) = &rule.dialog {
        let from = msg.from().and_then(|n| n.tag());
        let to = msg.to().and_then(|n| n.tag());
        let (Some(from), Some(to)) = (from, to) else {
            return false;
        };
        let is_request = facts.kind == FrameKind::Request;
        let ok = match d {
            DialogMatch::Is(d) => d.tags_match(is_request, from, to),
            DialogMatch::Registered => registered
                .iter()
                .any(|d| d.tags_match(is_request, from, to)),
        };
        if !ok {
            return false;
        }
    }
    for h in rule
        .headers
        .iter()
        .filter(|h| matches!(h.test, ValueTest::Regex(_)))
    {
        if !header_ok(h, regex_runs) {
            return false;
        }
    }
    if let Some(p) = &rule.body {
        *regex_runs += 1;
        if !p.is_match(msg.body()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests;
