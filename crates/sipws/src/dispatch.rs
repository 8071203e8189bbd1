//! The application side of the router (DESIGN.md §5): register a callback,
//! or get a stream (a bounded tokio mpsc channel) of messages, for a rule.
//!
//! [`Dispatcher`] owns a [`sipws_core::router::Router`] whose handler keys
//! are slots in its own table of callbacks and channels. Feed it every
//! inbound frame the link reports ([`LinkEvent::Frame`]) with
//! [`Dispatcher::dispatch`]; it routes the frame, hands an [`Incoming`] to
//! each tap that observed it and to the consuming handler, and returns what
//! happened. Nothing is dropped without an outcome: a frame no rule takes
//! comes back in [`Dispatched::Unrouted`] / [`Dispatched::Malformed`], a
//! frame whose stream is full comes back in [`Dispatched::Full`].
//!
//! ```
//! use sipws::dispatch::{Dispatched, Dispatcher};
//! use sipws_core::router::Priority;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut d = Dispatcher::new();
//! let (_id, mut notifies) = d.stream_text("NOTIFY event=dialog", Priority::APPLICATION, 16)?;
//! d.on_text("tap: any", Priority::HIGHEST, |m| println!("<- {} bytes", m.bytes().len()))?;
//! let frame = b"NOTIFY sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: c1\r\nCSeq: 2 NOTIFY\r\n\
//! Event: dialog\r\nContent-Length: 0\r\n\r\n";
//! assert!(matches!(d.dispatch(frame.to_vec()), Dispatched::Handled { .. }));
//! let m = notifies.try_next().expect("queued");
//! assert_eq!(m.message()?.method(), Some("NOTIFY"));
//! # Ok(()) }
//! ```
//!
//! With a running link, route what it reports:
//!
//! ```no_run
//! # async fn demo(mut events: sipws::LinkEvents, mut d: sipws::dispatch::Dispatcher) {
//! use sipws::Event;
//! use sipws_core::link::LinkEvent;
//! while let Some(e) = events.next().await {
//!     if let Event::Link(LinkEvent::Frame { data, .. }) = e.event {
//!         let _outcome = d.dispatch(data);
//!     }
//! }
//! # }
//! ```
//!
//! Replying to a request (a 200 to an INFO, answering an INVITE) goes
//! through the signaling layer (transactions and user agent), which comes
//! with a later change: it will install its default rules at
//! [`Priority::LOWEST`] in this same dispatcher and give [`Incoming`] a
//! reply handle. Until then a handler gets the message only.
//!
//! [`LinkEvent::Frame`]: sipws_core::link::LinkEvent::Frame
//! [`Priority::LOWEST`]: sipws_core::router::Priority::LOWEST

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use sipws_core::message::{Limits, Message, ParseError};
use sipws_core::router::{
    Classified, FrameKind, Priority, Route, Router, Rule, RuleId, RuleParseError, RuleStats, Stats,
};
use tokio::sync::mpsc;

/// One frame delivered to a handler: the bytes (shared between the taps and
/// the consumer, never copied per handler) and the rule that matched. Parse
/// it on demand with [`Incoming::message`].
#[derive(Clone)]
pub struct Incoming {
    frame: Arc<[u8]>,
    rule: Option<RuleId>,
    tap: bool,
    kind: FrameKind,
    limits: Limits,
}

impl fmt::Debug for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("rule", &self.rule)
            .field("tap", &self.tap)
            .field("kind", &self.kind)
            .field("bytes", &self.frame.len())
            .finish()
    }
}

impl Incoming {
    /// The frame as received.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.frame
    }

    /// The shared frame buffer.
    #[must_use]
    pub fn shared(&self) -> Arc<[u8]> {
        Arc::clone(&self.frame)
    }

    /// The rule that delivered it (`None` for a frame handed back unrouted).
    #[must_use]
    pub fn rule(&self) -> Option<RuleId> {
        self.rule
    }

    /// Whether a tap delivered it (the frame also went on to other rules).
    #[must_use]
    pub fn is_tap(&self) -> bool {
        self.tap
    }

    /// The frame's kind.
    #[must_use]
    pub fn kind(&self) -> FrameKind {
        self.kind
    }

    /// Parse the SIP message (zero-copy, borrowing this `Incoming`).
    ///
    /// # Errors
    /// The parse error, for a keepalive or a malformed frame, or a frame
    /// whose headers beyond the routing points are broken.
    pub fn message(&self) -> Result<Message<'_>, ParseError> {
        Message::parse(&self.frame, &self.limits)
    }

    /// The structural classification the router made.
    #[must_use]
    pub fn classified(&self) -> Classified<'_> {
        sipws_core::router::classify::classify(&self.frame, &self.limits)
    }
}

/// The receiving end of a rule's stream.
#[derive(Debug)]
pub struct Messages {
    rx: mpsc::Receiver<Incoming>,
}

impl Messages {
    /// The next message; `None` once the rule is removed (or the
    /// dispatcher dropped) and every queued message has been read.
    pub async fn next(&mut self) -> Option<Incoming> {
        self.rx.recv().await
    }

    /// The next message if one is queued, without waiting.
    pub fn try_next(&mut self) -> Option<Incoming> {
        self.rx.try_recv().ok()
    }

    /// The underlying tokio receiver.
    #[must_use]
    pub fn into_inner(self) -> mpsc::Receiver<Incoming> {
        self.rx
    }
}

type Callback = Box<dyn FnMut(Incoming) + Send + 'static>;

enum Handler {
    Callback(Callback),
    Stream(mpsc::Sender<Incoming>),
}

/// What [`Dispatcher::dispatch`] did with a frame.
#[derive(Debug)]
#[non_exhaustive]
pub enum Dispatched {
    /// The consuming rule's callback ran, or its stream queued the frame.
    Handled {
        /// The rule.
        rule: RuleId,
        /// How many taps observed the frame.
        taps: usize,
    },
    /// A well-formed frame no consuming rule took: handed back.
    Unrouted(Incoming),
    /// A malformed frame no consuming rule took: handed back with the error.
    Malformed {
        /// Why it did not classify.
        error: ParseError,
        /// The frame.
        frame: Incoming,
    },
    /// The consuming rule's stream was full: the frame is handed back.
    Full {
        /// The rule.
        rule: RuleId,
        /// The frame.
        frame: Incoming,
    },
}

/// Counters of the dispatcher itself, beside the router's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchStats {
    /// Frames handed back because the consuming stream was full.
    pub full: u64,
    /// Tap deliveries skipped because the tap's stream was full.
    pub tap_full: u64,
    /// Rules removed because their stream's receiver was dropped.
    pub closed: u64,
}

/// Rules → callbacks and streams. See the module doc.
pub struct Dispatcher {
    router: Router<u64>,
    handlers: BTreeMap<u64, Handler>,
    next_slot: u64,
    stats: DispatchStats,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Dispatcher::new()
    }
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("router", &self.router)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Dispatcher {
    /// A dispatcher with no rule and default parse limits.
    #[must_use]
    pub fn new() -> Self {
        Dispatcher::with_limits(Limits::default())
    }

    /// A dispatcher parsing frames with `limits`.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Dispatcher {
            router: Router::with_limits(limits),
            handlers: BTreeMap::new(),
            next_slot: 0,
            stats: DispatchStats::default(),
        }
    }

    fn install(&mut self, rule: Rule, priority: Priority, handler: Handler) -> RuleId {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.handlers.insert(slot, handler);
        self.router.add(rule, slot, priority)
    }

    /// Call `callback` with every frame `rule` matches. The callback runs
    /// inside [`Dispatcher::dispatch`]: keep it short (hand long work to a
    /// task, or use [`Dispatcher::stream`]).
    pub fn on(
        &mut self,
        rule: Rule,
        priority: Priority,
        callback: impl FnMut(Incoming) + Send + 'static,
    ) -> RuleId {
        self.install(rule, priority, Handler::Callback(Box::new(callback)))
    }

    /// [`Dispatcher::on`] with a rule in text form (docs/router-rules.md).
    ///
    /// # Errors
    /// The rule text's parse error.
    pub fn on_text(
        &mut self,
        rule: &str,
        priority: Priority,
        callback: impl FnMut(Incoming) + Send + 'static,
    ) -> Result<RuleId, RuleParseError> {
        Ok(self.on(Rule::parse(rule)?, priority, callback))
    }

    /// A stream of the frames `rule` matches, holding up to `capacity`
    /// (at least 1) unread frames. Dropping the [`Messages`] removes the
    /// rule at the next frame it matches (that frame goes on to the next
    /// rule).
    pub fn stream(
        &mut self,
        rule: Rule,
        priority: Priority,
        capacity: usize,
    ) -> (RuleId, Messages) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let id = self.install(rule, priority, Handler::Stream(tx));
        (id, Messages { rx })
    }

    /// [`Dispatcher::stream`] with a rule in text form.
    ///
    /// # Errors
    /// The rule text's parse error.
    pub fn stream_text(
        &mut self,
        rule: &str,
        priority: Priority,
        capacity: usize,
    ) -> Result<(RuleId, Messages), RuleParseError> {
        Ok(self.stream(Rule::parse(rule)?, priority, capacity))
    }

    /// Remove a rule and its handler (a stream then ends once drained).
    /// Returns whether it existed.
    pub fn remove(&mut self, id: RuleId) -> bool {
        match self.router.remove(id) {
            Some((_, slot, _)) => {
                self.handlers.remove(&slot);
                true
            }
            None => false,
        }
    }

    /// The router, to read its rules or register dialogs
    /// ([`Router::register_dialog`]).
    #[must_use]
    pub fn router(&self) -> &Router<u64> {
        &self.router
    }

    /// The router, mutably: register and unregister dialogs, reset counters.
    /// Rules added here directly have no handler and are ignored (their
    /// frames come back unrouted); add rules with [`Dispatcher::on`] or
    /// [`Dispatcher::stream`].
    pub fn router_mut(&mut self) -> &mut Router<u64> {
        &mut self.router
    }

    /// The router's counters (per kind, outcome, rule).
    #[must_use]
    pub fn stats(&self) -> &Stats {
        self.router.stats()
    }

    /// One rule's counters.
    #[must_use]
    pub fn rule_stats(&self, id: RuleId) -> Option<RuleStats> {
        self.router.rule_stats(id)
    }

    /// The dispatcher's own counters.
    #[must_use]
    pub fn dispatch_stats(&self) -> DispatchStats {
        self.stats
    }

    /// Route one inbound frame and deliver it. See [`Dispatched`].
    pub fn dispatch(&mut self, frame: impl Into<Arc<[u8]>>) -> Dispatched {
        let frame: Arc<[u8]> = frame.into();
        // A closed stream removes its rule and the frame is routed again;
        // each pass removes one rule, so this ends.
        loop {
            let limits = *self.router.limits();
            let incoming = |rule: Option<RuleId>, tap: bool, kind: FrameKind| Incoming {
                frame: Arc::clone(&frame),
                rule,
                tap,
                kind,
                limits,
            };
            let route = self.router.route(&frame);
            let kind = route.classified().kind();
            let mut closed = None;
            for (id, slot) in route.taps().iter() {
                match self.handlers.get_mut(slot) {
                    Some(Handler::Callback(f)) => f(incoming(Some(id), true, kind)),
                    Some(Handler::Stream(tx)) => {
                        match tx.try_send(incoming(Some(id), true, kind)) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => self.stats.tap_full += 1,
                            Err(mpsc::error::TrySendError::Closed(_)) => {
                                closed.get_or_insert(id);
                            }
                        }
                    }
                    None => {}
                }
            }
            let outcome = match route {
                Route::Handled {
                    rule, key, taps, ..
                } => {
                    let taps = taps.len();
                    match self.handlers.get_mut(key) {
                        Some(Handler::Callback(f)) => {
                            f(incoming(Some(rule), false, kind));
                            Some(Dispatched::Handled { rule, taps })
                        }
                        Some(Handler::Stream(tx)) => {
                            match tx.try_send(incoming(Some(rule), false, kind)) {
                                Ok(()) => Some(Dispatched::Handled { rule, taps }),
                                Err(mpsc::error::TrySendError::Full(frame)) => {
                                    self.stats.full += 1;
                                    Some(Dispatched::Full { rule, frame })
                                }
                                Err(mpsc::error::TrySendError::Closed(_)) => {
                                    closed = Some(rule);
                                    None
                                }
                            }
                        }
                        None => Some(Dispatched::Unrouted(incoming(None, false, kind))),
                    }
                }
                Route::Unrouted { .. } => Some(Dispatched::Unrouted(incoming(None, false, kind))),
                Route::Malformed { error, .. } => Some(Dispatched::Malformed {
                    error,
                    frame: incoming(None, false, kind),
                }),
            };
            if let Some(id) = closed {
                self.remove(id);
                self.stats.closed += 1;
            }
            match outcome {
                Some(o) => return o,
                None => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const NOTIFY: &[u8] = b"NOTIFY sip:a@127.0.0.1 SIP/2.0\r\nFrom: <sip:b@127.0.0.1>;tag=r\r\n\
To: <sip:a@127.0.0.1>;tag=l\r\nCall-ID: c1\r\nCSeq: 2 NOTIFY\r\nEvent: dialog;id=1\r\n\
Content-Length: 0\r\n\r\n";
    const INFO_200: &[u8] =
        b"SIP/2.0 200 OK\r\nCall-ID: c1\r\nCSeq: 3 INFO\r\nContent-Length: 0\r\n\r\n";

    fn collector() -> (
        Arc<Mutex<Vec<Incoming>>>,
        impl FnMut(Incoming) + Send + 'static,
    ) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        (seen, move |m| s.lock().unwrap().push(m))
    }

    #[test]
    fn callbacks_get_the_parsed_message() {
        let mut d = Dispatcher::new();
        let (seen, f) = collector();
        let id = d
            .on_text("NOTIFY event=dialog", Priority::APPLICATION, f)
            .unwrap();
        match d.dispatch(NOTIFY.to_vec()) {
            Dispatched::Handled { rule, taps } => assert_eq!((rule, taps), (id, 0)),
            other => panic!("{other:?}"),
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let m = &seen[0];
        assert_eq!(m.rule(), Some(id));
        assert!(!m.is_tap());
        assert_eq!(m.kind(), FrameKind::Request);
        let msg = m.message().unwrap();
        assert_eq!(msg.method(), Some("NOTIFY"));
        assert_eq!(msg.call_id(), Some("c1"));
        assert_eq!(m.classified().cseq_method(), Some("NOTIFY"));
    }

    #[test]
    fn unrouted_and_malformed_frames_come_back() {
        let mut d = Dispatcher::new();
        let (_seen, f) = collector();
        d.on_text("NOTIFY", Priority::APPLICATION, f).unwrap();
        match d.dispatch(INFO_200.to_vec()) {
            Dispatched::Unrouted(m) => {
                assert_eq!(m.bytes(), INFO_200);
                assert_eq!(m.rule(), None);
                assert_eq!(m.kind(), FrameKind::Response);
            }
            other => panic!("{other:?}"),
        }
        match d.dispatch(b"nonsense".to_vec()) {
            Dispatched::Malformed { error, frame } => {
                assert_eq!(frame.bytes(), b"nonsense");
                assert_eq!(frame.message().unwrap_err().kind, error.kind);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(d.stats().unrouted.frames, 1);
        assert_eq!(d.stats().malformed.frames, 1);
    }

    #[test]
    fn taps_and_consumer_share_one_buffer() {
        let mut d = Dispatcher::new();
        let (taps, tap) = collector();
        let (_s, mut log) = d.stream_text("tap: any", Priority::HIGHEST, 8).unwrap();
        d.on(Rule::any().tap(), Priority::HIGHEST, tap);
        let (id, mut notifies) = d.stream_text("NOTIFY", Priority::APPLICATION, 8).unwrap();
        match d.dispatch(NOTIFY.to_vec()) {
            Dispatched::Handled { rule, taps } => assert_eq!((rule, taps), (id, 2)),
            other => panic!("{other:?}"),
        }
        let a = log.try_next().unwrap();
        let b = notifies.try_next().unwrap();
        assert!(a.is_tap() && !b.is_tap());
        assert!(Arc::ptr_eq(&a.shared(), &b.shared()));
        assert_eq!(taps.lock().unwrap().len(), 1);
        // The tap also sees what nobody consumes.
        assert!(matches!(
            d.dispatch(INFO_200.to_vec()),
            Dispatched::Unrouted(_)
        ));
        assert_eq!(log.try_next().unwrap().kind(), FrameKind::Response);
        assert!(notifies.try_next().is_none());
    }

    #[test]
    fn a_full_stream_hands_the_frame_back() {
        let mut d = Dispatcher::new();
        let (id, mut s) = d.stream(Rule::request(), Priority::APPLICATION, 1);
        let (_t, _tap_rx) = d.stream(Rule::any().tap(), Priority::HIGHEST, 1);
        assert!(matches!(
            d.dispatch(NOTIFY.to_vec()),
            Dispatched::Handled { .. }
        ));
        match d.dispatch(NOTIFY.to_vec()) {
            Dispatched::Full { rule, frame } => {
                assert_eq!(rule, id);
                assert_eq!(frame.bytes(), NOTIFY);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            d.dispatch_stats(),
            DispatchStats {
                full: 1,
                tap_full: 1,
                closed: 0
            }
        );
        assert!(s.try_next().is_some());
        assert!(matches!(
            d.dispatch(NOTIFY.to_vec()),
            Dispatched::Handled { .. }
        ));
    }

    #[test]
    fn a_dropped_stream_removes_its_rule_and_the_frame_goes_on() {
        let mut d = Dispatcher::new();
        let (fallback, f) = collector();
        let fb = d.on(Rule::request(), Priority::LOWEST, f);
        let (id, s) = d.stream_text("NOTIFY", Priority::APPLICATION, 4).unwrap();
        drop(s);
        match d.dispatch(NOTIFY.to_vec()) {
            Dispatched::Handled { rule, .. } => assert_eq!(rule, fb),
            other => panic!("{other:?}"),
        }
        assert_eq!(fallback.lock().unwrap().len(), 1);
        assert!(d.rule_stats(id).is_none());
        assert_eq!(d.dispatch_stats().closed, 1);
        assert_eq!(d.router().len(), 1);
    }

    #[test]
    fn remove_ends_the_stream() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut d = Dispatcher::new();
        let (id, mut s) = d.stream_text("NOTIFY", Priority::APPLICATION, 4).unwrap();
        assert!(matches!(
            d.dispatch(NOTIFY.to_vec()),
            Dispatched::Handled { .. }
        ));
        assert!(d.remove(id));
        assert!(!d.remove(id));
        rt.block_on(async {
            assert!(s.next().await.is_some());
            assert!(s.next().await.is_none());
        });
        assert!(matches!(
            d.dispatch(NOTIFY.to_vec()),
            Dispatched::Unrouted(_)
        ));
    }

    #[test]
    fn dialogs_registered_through_the_router() {
        let mut d = Dispatcher::new();
        let (seen, f) = collector();
        d.on_text("dialog", Priority::APPLICATION, f).unwrap();
        assert!(matches!(
            d.dispatch(NOTIFY.to_vec()),
            Dispatched::Unrouted(_)
        ));
        d.router_mut()
            .register_dialog(sipws_core::router::DialogId::new("c1", "l", "r"));
        assert!(matches!(
            d.dispatch(NOTIFY.to_vec()),
            Dispatched::Handled { .. }
        ));
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn rule_text_errors_surface() {
        let mut d = Dispatcher::new();
        let e = d
            .on_text("NOTIFY invite", Priority::APPLICATION, |_| {})
            .unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(d.router().is_empty());
    }
}
