//! Virtual-time tests of the link: a fake server reacts to every command at
//! the same instant, and the clock jumps to `poll_timeout()`.

use super::*;

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn ms(d: u64) -> Duration {
    Duration::from_millis(d)
}

/// What the fake server does in reaction to a command.
#[derive(Clone, Debug)]
enum Reply {
    Open(Option<&'static str>),
    Fail(ConnectError),
    Frame(&'static [u8], Opcode),
    WsPong,
    Closed(CloseInfo),
}

type Script = Box<dyn FnMut(Instant, &Transmit) -> Vec<Reply>>;

struct Harness {
    link: Link<Sequence>,
    now: Instant,
    events: Vec<(u64, LinkEvent)>,
    sent: Vec<(u64, Transmit)>,
    server: Script,
    /// Answer `ProbeRequested` at once (the layer above sends OPTIONS and
    /// gets an answer).
    answer_probe_requests: bool,
}

impl Harness {
    fn new(config: LinkConfig, rng: Vec<u64>, server: Script) -> Self {
        Harness {
            link: Link::new(config, Sequence::new(rng)).unwrap(),
            now: Instant::ZERO,
            events: Vec::new(),
            sent: Vec::new(),
            server,
            answer_probe_requests: false,
        }
    }

    /// Drain every output, feeding commands to the fake server.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(tx) = self.link.poll_transmit() {
                progressed = true;
                let replies = (self.server)(self.now, &tx);
                self.sent.push((self.now.as_millis(), tx));
                for r in replies {
                    self.apply(r);
                }
            }
            while let Some(e) = self.link.poll_event() {
                progressed = true;
                if self.answer_probe_requests && e == LinkEvent::ProbeRequested {
                    self.link.handle_probe_answered(self.now);
                }
                self.events.push((self.now.as_millis(), e));
            }
            if !progressed {
                break;
            }
        }
    }

    fn apply(&mut self, r: Reply) {
        let now = self.now;
        match r {
            Reply::Open(p) => self.link.handle_open(now, p),
            Reply::Fail(e) => self.link.handle_connect_failed(now, e),
            Reply::Frame(d, op) => self.link.handle_frame(now, d, op),
            Reply::WsPong => self.link.handle_ws_pong(now),
            Reply::Closed(c) => self.link.handle_closed(now, c),
        }
    }

    /// Run timers up to and including `until`, then set the clock there.
    fn run_until(&mut self, until: u64) {
        self.drain();
        while let Some(next) = self.link.poll_timeout() {
            assert!(
                next >= self.now,
                "timeout {next:?} before now {:?}",
                self.now
            );
            if next > t(until) {
                break;
            }
            self.now = next;
            self.link.handle_timeout(next);
            self.drain();
        }
        self.now = self.now.max(t(until));
    }

    fn at(&mut self, when: u64, f: impl FnOnce(&mut Link<Sequence>, Instant)) {
        self.run_until(when);
        f(&mut self.link, self.now);
        self.drain();
    }

    fn pings(&self) -> Vec<u64> {
        self.sent
            .iter()
            .filter(|(_, tx)| matches!(tx, Transmit::Frame { data, .. } if data == CRLF_PING))
            .map(|(at, _)| *at)
            .collect()
    }

    fn times_of(&self, pred: impl Fn(&LinkEvent) -> bool) -> Vec<u64> {
        self.events
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(at, _)| *at)
            .collect()
    }
}

fn cfg() -> LinkConfig {
    LinkConfig::new(["ws://127.0.0.1:5060"])
}

/// A server that opens with `sip`, answers the first `pongs` CRLF pings,
/// then goes silent.
fn pong_first(pongs: usize) -> Script {
    let mut left = pongs;
    Box::new(move |_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        Transmit::Frame { data, opcode } if data == CRLF_PING && left > 0 => {
            left -= 1;
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        _ => vec![],
    })
}

#[test]
fn notes_timeline_from_open() {
    let mut c = cfg();
    c.keepalive.fallback = FallbackProbe::None;
    let mut h = Harness::new(c, vec![200], pong_first(0));
    h.at(0, |l, now| l.connect(now));
    h.run_until(22_499);
    assert_eq!(h.pings(), [10_000, 15_000, 17_500, 20_000]);
    assert!(h
        .times_of(|e| matches!(e, LinkEvent::ConnectionDead { .. }))
        .is_empty());
    h.run_until(22_500);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::ConnectionDead {
                reason: DeadReason::NoPong { unanswered: 4 }
            }
        )),
        [22_500]
    );
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::ProbingEscalated { .. })),
        [15_000]
    );
    assert!(h
        .sent
        .iter()
        .any(|(at, tx)| *at == 22_500 && matches!(tx, Transmit::Close { code: 1001, .. })));
    // Reconnect attempt 1 after 1 s (rng 200 → no jitter).
    assert!(h.events.iter().any(|(at, e)| *at == 22_500
        && matches!(e, LinkEvent::Reconnecting { attempt: 1, of: 3, delay, .. } if *delay == ms(1000))));
    assert_eq!(h.link.state(), LinkState::Waiting);
    assert_eq!(h.link.poll_timeout(), Some(t(23_500)));
}

/// Opens the first `opens` connections, refuses the rest; answers CRLF
/// pings.
fn open_then_refuse(opens: usize) -> Script {
    let mut left = opens;
    Box::new(move |_, tx| match tx {
        Transmit::Connect { .. } if left > 0 => {
            left -= 1;
            vec![Reply::Open(Some("sip"))]
        }
        Transmit::Connect { .. } => vec![Reply::Fail(ConnectError::Refused)],
        Transmit::Frame { data, opcode } if data == CRLF_PING => {
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        _ => vec![],
    })
}

fn abnormal() -> CloseInfo {
    CloseInfo {
        code: None,
        reason: "connection reset".into(),
        clean: false,
    }
}

#[test]
fn reconnect_delays_with_fixed_rng_and_three_attempt_limit() {
    // Draws 0, 200, 400 → factors 0.8, 1.0, 1.2.
    let mut h = Harness::new(cfg(), vec![0, 200, 400], open_then_refuse(1));
    h.at(0, |l, now| l.connect(now));
    h.at(5_000, |l, now| l.handle_closed(now, abnormal()));
    h.run_until(60_000);
    let reconnecting: Vec<(u64, u32, Duration)> = h
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            LinkEvent::Reconnecting {
                attempt,
                of: 3,
                delay,
                ..
            } => Some((*at, *attempt, *delay)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reconnecting,
        [
            (5_000, 1, ms(800)),
            (5_800, 2, ms(2_000)),
            (7_800, 3, ms(4_800))
        ]
    );
    let connects: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Connect { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(connects, [0, 5_800, 7_800, 12_600]);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::Failed {
                reason: FailReason::AttemptsExhausted {
                    attempts: 3,
                    last: Failure::Connect(ConnectError::Refused)
                }
            }
        )),
        [12_600]
    );
    assert_eq!(h.link.state(), LinkState::Failed);
    assert_eq!(h.link.poll_timeout(), None);
}

#[test]
fn never_pong_server_is_probed_not_reconnected_for_ten_minutes() {
    // Ignores CRLF, answers WebSocket Pings.
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        Transmit::Ping => vec![Reply::WsPong],
        _ => vec![],
    });
    let mut h = Harness::new(cfg(), vec![200], server);
    h.at(0, |l, now| l.connect(now));
    h.run_until(600_000);
    assert!(h
        .times_of(|e| matches!(
            e,
            LinkEvent::Disconnected { .. }
                | LinkEvent::Reconnecting { .. }
                | LinkEvent::ConnectionDead { .. }
        ))
        .is_empty());
    assert_eq!(h.pings(), [10_000, 15_000, 17_500, 20_000]);
    assert_eq!(
        h.times_of(|e| matches!(
            e,
            LinkEvent::LivenessLearned {
                liveness: Liveness::NeverPongs {
                    probe: FallbackProbe::WsPing
                },
                ..
            }
        )),
        [22_500]
    );
    let probes: Vec<u64> = h
        .sent
        .iter()
        .filter(|(_, tx)| matches!(tx, Transmit::Ping))
        .map(|(at, _)| *at)
        .collect();
    // One probe when learned, then one every 10 s of quiet.
    assert_eq!(probes.len(), 1 + (600_000 - 22_500) / 10_000);
    assert_eq!(&probes[..3], [22_500, 32_500, 42_500]);
    assert!(h.link.health()[0].never_pongs);
    assert_eq!(h.link.state(), LinkState::Open);
}

#[test]
fn server_close_reconnects_local_close_does_not() {
    // The server closes cleanly (1001) when it sees "quit".
    let server: Script = Box::new(|_, tx| match tx {
        Transmit::Connect { .. } => vec![Reply::Open(Some("sip"))],
        Transmit::Frame { data, .. } if data == b"quit" => vec![Reply::Closed(CloseInfo {
            code: Some(1001),
            reason: "shutting down".into(),
            clean: true,
        })],
        Transmit::Frame { data, opcode } if data == CRLF_PING => {
            vec![Reply::Frame(CRLF_PONG, *opcode)]
        }
        _ => vec![],
    });
    let mut h = Harness::new(cfg(), vec![200], server);
    h.at(0, |l, now| l.connect(now));
    h.at(3_000, |l, now| {
        l.send(now, b"quit".to_vec(), Opcode::Text).unwrap()
    });
    assert!(h.events.iter().any(|(at, e)| *at == 3_000
        && *e
            == LinkEvent::Disconnected {
                reason: DisconnectReason::ServerClosed {
                    code: 1001,
                    reason: "shutting down".into()
                }
            }));
    h.run_until(4_000);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnected { .. })),
        [4_000]
    );
    h.at(5_000, |l, now| l.close(now));
    h.run_until(120_000);
    assert_eq!(h.link.state(), LinkState::Idle);
    assert_eq!(h.link.poll_timeout(), None);
    assert_eq!(
        h.times_of(|e| matches!(e, LinkEvent::Reconnecting { .. })),
        [3_000]
    );
    assert!(matches!(
        h.sent.last(),
        Some((5_000, Transmit::Close { code: 1000, .. }))
    ));
}
