//! `sipws demo`: the testbed on a free loopback port and two user agents
//! (alice and bob, digest) playing the design note's table, printed as a
//! SIP ladder; then keepalive and reconnect: the testbed stops answering
//! alice's pings, the link declares the connection dead, reconnects and
//! registers again. Ends with a summary table.
//!
//! The ladder comes from the testbed's events (one per SIP action: every
//! frame it receives, every answer it gives, every request and response
//! it relays) and from the user agents' link events (pings, pongs, death,
//! reconnect). Keepalive timers are divided by 10 unless `--real-time`.
//! Every wait is bounded: exit 0 when the whole table played, 1 (with the
//! step that failed) otherwise.
//!
//! With `--json` every line is one JSON object instead, in the same order:
//! `t` (seconds since start), `type`, `text` (the line's human form) and
//! fields by type:
//! - `info`: a set-up line (`url` on the first);
//! - `heading`: the start of a step of the script;
//! - `sip`: one SIP message of the ladder: `from`, `to` (`alice`, `bob`,
//!   `testbed`), and as known `method`, `status`, `cseq`,
//!   `authorization` (credentials sent), `relayed`, `expires`;
//! - `link`: keepalive and reconnect news of one `agent`: `event` is
//!   `ping` (`n`, `since_last_pong_ms` during the fault), `pong`, `dead`
//!   (`reason`), `disconnected` (`reason`), `reconnecting` (`attempt`,
//!   `of`, `delay_ms`), `reconnected` (`url`), `failed` (`reason`) or
//!   `registered` (`expires`, the re-registration after the reconnect);
//! - `connection`: a testbed connection gone (`party`, `conn`, `reason`);
//! - `summary`, last: `messages`, `registrations`, `calls`, `pings`,
//!   `pongs`, `reconnects`, `seconds`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sipws::ua::{Call, UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::link::{FallbackProbe, LinkEvent};
use sipws_core::message::reason_phrase;
use sipws_core::ua::UaEvent;
use sipws_testbed::{ConnId, SipConfig, Testbed, TestbedConfig, TestbedEvent, User};
use tokio::sync::{broadcast, mpsc};

use super::ladder::{timestamp, Summary};

/// `println!` that ignores a closed stdout (`sipws demo | head`).
macro_rules! out {
    () => {
        out!("")
    };
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

const DOMAIN: &str = "sipws.test";
const OFFER: &[u8] = b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 9 RTP/AVP 0\r\n";

/// Arguments of `sipws demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Use the real keepalive timers (ping after 10 s of quiet, dead at
    /// 22.5 s) instead of dividing them by 10.
    #[arg(long)]
    real_time: bool,
    /// Print JSON lines (one object per ladder line, link event and the
    /// summary) instead of text.
    #[arg(long)]
    json: bool,
}

/// What the summary table counts.
#[derive(Debug, Default)]
struct Stats {
    messages: u32,
    registrations: u32,
    calls: u32,
    pings: u32,
    pongs: u32,
    reconnects: u32,
}

/// State shared by the printing tasks and the script.
#[derive(Debug)]
struct Ladder {
    start: Instant,
    /// JSON lines instead of text.
    json: bool,
    stats: Mutex<Stats>,
    parties: Mutex<HashMap<ConnId, String>>,
    /// Per agent: when the fault phase started, the time (agent clock)
    /// of the last pong, to print each ping's offset from it.
    quiet_since: Mutex<HashMap<String, Duration>>,
}

impl Ladder {
    fn t(&self) -> String {
        timestamp(self.start.elapsed())
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn party(&self, conn: ConnId) -> String {
        let parties = self.parties.lock().unwrap_or_else(PoisonError::into_inner);
        parties
            .get(&conn)
            .cloned()
            .unwrap_or_else(|| format!("conn{conn}"))
    }

    /// Prints one line: `text` after the time column, or (`--json`) an
    /// object of `kind`, `fields` and the text.
    fn emit(&self, kind: &str, text: &str, fields: Value) {
        if self.json {
            let mut obj = json!({
                "t": (self.start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
                "type": kind,
            });
            if let (Some(o), Value::Object(f)) = (obj.as_object_mut(), fields) {
                o.extend(f);
                o.insert("text".into(), json!(text.trim()));
            }
            out!("{obj}");
        } else {
            out!("{} {text}", self.t());
        }
    }

    /// One SIP message of the ladder.
    fn line(&self, from: &str, to: &str, what: &str) {
        self.sip(from, to, what, json!({}));
    }

    /// One SIP message of the ladder, with its fields for `--json`.
    fn sip(&self, from: &str, to: &str, what: &str, fields: Value) {
        let mut f = json!({ "from": from, "to": to });
        if let (Some(o), Value::Object(more)) = (f.as_object_mut(), fields) {
            o.extend(more);
        }
        self.emit("sip", &format!("{from:>7} -> {to:<7} {what}"), f);
    }

    /// A news line of one agent's link.
    fn link(&self, who: &str, event: &str, text: &str, fields: Value) {
        let mut f = json!({ "agent": who, "event": event });
        if let (Some(o), Value::Object(more)) = (f.as_object_mut(), fields) {
            o.extend(more);
        }
        self.emit("link", text, f);
    }

    /// One ladder line for a testbed event (most events print nothing).
    fn testbed_event(&self, e: &TestbedEvent) {
        match e {
            TestbedEvent::FrameReceived { conn, data, .. } => self.frame(*conn, data),
            TestbedEvent::AuthChallenged { conn, .. } => {
                self.stats().messages += 1;
                self.sip(
                    "testbed",
                    &self.party(*conn),
                    "SIP/2.0 401 Unauthorized  (REGISTER)",
                    json!({ "status": 401, "method": "REGISTER" }),
                );
            }
            TestbedEvent::Registered { conn, expires, .. } => {
                {
                    let mut s = self.stats();
                    s.messages += 1;
                    s.registrations += 1;
                }
                let what = format!("SIP/2.0 200 OK  (REGISTER, expires {expires}s)");
                let f = json!({ "status": 200, "method": "REGISTER", "expires": expires });
                self.sip("testbed", &self.party(*conn), &what, f);
            }
            TestbedEvent::Unregistered { conn, reason, .. } => {
                self.stats().messages += 1;
                let what = format!("SIP/2.0 200 OK  (REGISTER, binding removed: {reason})");
                let f = json!({ "status": 200, "method": "REGISTER", "expires": 0 });
                self.sip("testbed", &self.party(*conn), &what, f);
            }
            TestbedEvent::SipAnswered {
                conn,
                method,
                status,
            } => {
                self.stats().messages += 1;
                let reason = reason_phrase(*status).unwrap_or("");
                let what = format!("SIP/2.0 {status} {reason}  ({method})");
                let f = json!({ "status": status, "method": method });
                self.sip("testbed", &self.party(*conn), &what, f);
            }
            TestbedEvent::RequestRelayed { to, method, .. } => {
                self.stats().messages += 1;
                let f = json!({ "method": method, "relayed": true });
                self.sip(
                    "testbed",
                    &self.party(*to),
                    &format!("{method}  (relayed)"),
                    f,
                );
            }
            TestbedEvent::ResponseRelayed {
                to, status, method, ..
            } => {
                self.stats().messages += 1;
                let reason = reason_phrase(*status).unwrap_or("");
                let what = format!("SIP/2.0 {status} {reason}  ({method}, relayed)");
                let f = json!({ "status": status, "method": method, "relayed": true });
                self.sip("testbed", &self.party(*to), &what, f);
            }
            TestbedEvent::Disconnected { conn, reason } => {
                let party = self.party(*conn);
                let what = format!("{party:>7}    connection {conn} gone: {reason}");
                let f = json!({ "party": party, "conn": conn.0, "reason": reason });
                self.emit("connection", &what, f);
            }
            _ => {}
        }
    }

    /// A SIP message a client sent to the testbed: start line and CSeq
    /// (the shared ladder rendering, [`Summary::describe`]).
    fn frame(&self, conn: ConnId, data: &[u8]) {
        let Some(summary) = Summary::parse(data) else {
            let what = format!("(unparseable frame, {} bytes)", data.len());
            self.line(&self.party(conn), "testbed", &what);
            return;
        };
        if summary.method.as_deref() == Some("REGISTER") {
            // The registering user names the connection in the ladder.
            if let Some(user) = summary.to_user.clone() {
                self.parties
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(conn, user);
            }
        }
        self.stats().messages += 1;
        let mut f = json!({
            "cseq": summary.cseq,
            "authorization": summary.authorized,
        });
        if let Some(o) = f.as_object_mut() {
            if let Some(m) = &summary.method {
                o.insert("method".into(), json!(m));
            }
            if let Some(st) = summary.status {
                o.insert("status".into(), json!(st));
            }
        }
        self.sip(&self.party(conn), "testbed", &summary.describe(), f);
    }

    /// Link news of one agent (keepalive, death, reconnect).
    fn ua_event(&self, who: &str, elapsed: Duration, e: &UaEvent, last_pong: &mut Duration) {
        let UaEvent::Link(link) = e else {
            return;
        };
        let since = || {
            let q = self
                .quiet_since
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            q.get(who).map(|p| elapsed.saturating_sub(*p))
        };
        let since_text = |d: Option<Duration>| {
            d.map_or(String::new(), |d| {
                format!("  (+{:.3}s after the last pong)", d.as_secs_f64())
            })
        };
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match link {
            LinkEvent::PingSent { n } => {
                self.stats().pings += 1;
                let d = since();
                let text = format!("{who:>7} -> testbed CRLF ping #{n}{}", since_text(d));
                let f = json!({ "n": n, "since_last_pong_ms": d.map(ms) });
                self.link(who, "ping", &text, f);
            }
            LinkEvent::PongReceived { .. } => {
                self.stats().pongs += 1;
                *last_pong = elapsed;
                let text = format!("testbed -> {who:<7} CRLF pong");
                self.link(who, "pong", &text, json!({}));
            }
            LinkEvent::ConnectionDead { reason } => {
                let d = since();
                let text = format!(
                    "{who:>7}    connection declared dead: {reason}{}",
                    since_text(d)
                );
                let f = json!({ "reason": reason.to_string(), "since_last_pong_ms": d.map(ms) });
                self.link(who, "dead", &text, f);
            }
            LinkEvent::Disconnected { reason } => {
                let text = format!("{who:>7}    disconnected: {reason}");
                self.link(
                    who,
                    "disconnected",
                    &text,
                    json!({ "reason": reason.to_string() }),
                );
            }
            LinkEvent::Reconnecting {
                attempt, of, delay, ..
            } => {
                let text = format!(
                    "{who:>7}    reconnecting (attempt {attempt} of {of}) in {:.3}s",
                    delay.as_secs_f64()
                );
                let f = json!({ "attempt": attempt, "of": of, "delay_ms": ms(*delay) });
                self.link(who, "reconnecting", &text, f);
            }
            LinkEvent::Reconnected { url, .. } => {
                self.stats().reconnects += 1;
                let text = format!("{who:>7}    reconnected to {url}");
                self.link(who, "reconnected", &text, json!({ "url": url }));
            }
            LinkEvent::Failed { reason } => {
                let text = format!("{who:>7}    link gave up: {reason}");
                self.link(
                    who,
                    "failed",
                    &text,
                    json!({ "reason": reason.to_string() }),
                );
            }
            _ => {}
        }
    }
}

/// One agent: its handle and the events its printer forwards.
struct Agent {
    name: &'static str,
    ua: UserAgent,
    events: mpsc::UnboundedReceiver<(Duration, UaEvent)>,
}

impl Agent {
    /// The next forwarded event `pick` accepts, within `limit`.
    async fn wait<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut pick: impl FnMut(Duration, &UaEvent) -> Option<T>,
    ) -> Result<T, String> {
        let name = self.name;
        let found = tokio::time::timeout(limit, async {
            while let Some((t, e)) = self.events.recv().await {
                if let Some(v) = pick(t, &e) {
                    return Some(v);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(format!(
                "{name}: user agent stopped while waiting for {what}"
            )),
            Err(_) => Err(format!("{name}: no {what} within {limit:?}")),
        }
    }

    fn drain(&mut self) {
        while self.events.try_recv().is_ok() {}
    }
}

/// Runs `sipws demo`.
pub(crate) fn run(args: &Args) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sipws demo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(demo(args.real_time, args.json)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("sipws demo: failed: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Bounds one step.
async fn step<T, E: std::fmt::Display>(
    what: &str,
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no result within {limit:?}")),
    }
}

/// Lets the printers catch up before the next heading.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn heading(ladder: &Ladder, text: &str) {
    ladder.emit("heading", &format!("---- {text}"), json!({}));
}

/// A set-up line (no time column in text).
fn info(ladder: &Ladder, text: &str, fields: Value) {
    if ladder.json {
        ladder.emit("info", text, fields);
    } else {
        out!("{text}");
    }
}

fn agent_config(url: &str, user: &str, scale: u32, idle: Duration) -> UserAgentConfig {
    let mut c = UserAgentConfig::new(url, format!("sip:{user}@{DOMAIN}"))
        .with_credentials(user, format!("{user}-secret"));
    let k = &mut c.driver.link.keepalive;
    k.idle = idle / scale;
    k.first_retry /= scale;
    k.retry /= scale;
    k.jitter_permille = 0;
    // The testbed answers WebSocket Pings even while it drops CRLF pongs:
    // no fallback probe, so unanswered CRLF pings mean a dead connection.
    k.fallback = FallbackProbe::None;
    let r = &mut c.driver.link.reconnect;
    r.max_attempts = 5;
    r.delays = vec![Duration::from_millis(100), Duration::from_millis(250)];
    r.jitter_permille = 0;
    c
}

fn spawn_agent(
    name: &'static str,
    config: UserAgentConfig,
    ladder: &Arc<Ladder>,
) -> Result<Agent, String> {
    let (ua, mut events) = UserAgent::spawn(config).map_err(|e| format!("{name}: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let ladder = ladder.clone();
    tokio::spawn(async move {
        let mut last_pong = Duration::ZERO;
        while let Some(e) = events.next().await {
            if let UaStreamEvent::Ua(ev) = e.event {
                ladder.ua_event(name, e.elapsed, &ev, &mut last_pong);
                if let UaEvent::Link(LinkEvent::PongReceived { .. }) = ev {
                    // The script reads the pong's time from here.
                    let _ = tx.send((last_pong, ev));
                } else {
                    let _ = tx.send((e.elapsed, ev));
                }
            }
        }
    });
    Ok(Agent {
        name,
        ua,
        events: rx,
    })
}

async fn demo(real_time: bool, json: bool) -> Result<(), String> {
    let scale: u32 = if real_time { 1 } else { 10 };
    let limit = Duration::from_secs(10);
    let users = ["alice", "bob"]
        .map(|u| User {
            name: u.to_owned(),
            password: format!("{u}-secret"),
        })
        .to_vec();
    let testbed = Testbed::start(TestbedConfig {
        sip: SipConfig {
            domain: DOMAIN.to_owned(),
            users,
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    })
    .await
    .map_err(|e| format!("cannot start the testbed: {e}"))?;
    let handle = testbed.handle();
    let ladder = Arc::new(Ladder {
        start: Instant::now(),
        json,
        stats: Mutex::new(Stats::default()),
        parties: Mutex::new(HashMap::new()),
        quiet_since: Mutex::new(HashMap::new()),
    });
    let mut tb_events = handle.subscribe();
    let printer = ladder.clone();
    tokio::spawn(async move {
        loop {
            match tb_events.recv().await {
                Ok(e) => printer.testbed_event(&e),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    info(&printer, &format!("({n} testbed events lost)"), json!({}));
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let url = testbed.url();
    info(
        &ladder,
        &format!("sipws demo: testbed at {url} (domain {DOMAIN}, users alice and bob, digest)"),
        json!({ "url": url, "domain": DOMAIN }),
    );
    if real_time {
        info(
            &ladder,
            "keepalive timers: real (ping after 10s of quiet)",
            json!({ "scale": 1 }),
        );
    } else {
        info(
            &ladder,
            "keepalive timers divided by 10 (1s here = 10s real; --real-time for the real ones)",
            json!({ "scale": scale }),
        );
    }
    if !json {
        out!("   time    from  ->  to     message");
    }

    // Bob's keepalive idle is 60 s (scaled) so that only alice's
    // connection pings while the testbed drops pongs.
    let mut alice = spawn_agent(
        "alice",
        agent_config(&url, "alice", scale, Duration::from_secs(10)),
        &ladder,
    )?;
    let mut bob = spawn_agent(
        "bob",
        agent_config(&url, "bob", scale, Duration::from_secs(60)),
        &ladder,
    )?;

    heading(&ladder, "registration (digest)");
    step("alice REGISTER", limit, alice.ua.register()).await?;
    settle().await;
    step("bob REGISTER", limit, bob.ua.register()).await?;
    settle().await;

    heading(&ladder, "alice calls bob");
    let mut out = step(
        "alice INVITE",
        limit,
        alice.ua.call(&format!("sip:bob@{DOMAIN}"), OFFER),
    )
    .await?;
    let id = bob
        .wait("incoming INVITE", limit, |_, e| match e {
            UaEvent::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .await?;
    let mut inc: Call = step("bob takes the call", limit, bob.ua.incoming_call(id))
        .await?
        .ok_or("bob: the incoming call has no handle")?;
    step("bob 180", limit, inc.answer(180, None)).await?;
    step("bob 200", limit, inc.answer(200, Some(ANSWER))).await?;
    step("alice answered", limit, out.answered()).await?;
    step("bob ACK", limit, inc.confirmed()).await?;
    ladder.stats().calls += 1;
    settle().await;

    heading(&ladder, "bob NOTIFY in the dialog");
    let r = step(
        "bob NOTIFY",
        limit,
        inc.notify("dialog", "text/plain", b"state=confirmed"),
    )
    .await?;
    expect_ok("NOTIFY", r.status)?;
    settle().await;

    heading(&ladder, "alice INFO in the dialog");
    let r = step(
        "alice INFO",
        limit,
        out.info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
    )
    .await?;
    expect_ok("INFO", r.status)?;
    settle().await;

    heading(&ladder, "alice hangs up");
    step("alice BYE", limit, out.hangup()).await?;
    tokio::time::timeout(limit, inc.ended())
        .await
        .map_err(|_| "bob: BYE did not arrive".to_owned())?;
    settle().await;

    heading(&ladder, "bob calls alice");
    let mut out = step(
        "bob INVITE",
        limit,
        bob.ua.call(&format!("sip:alice@{DOMAIN}"), OFFER),
    )
    .await?;
    let id = alice
        .wait("incoming INVITE", limit, |_, e| match e {
            UaEvent::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .await?;
    let mut inc: Call = step("alice takes the call", limit, alice.ua.incoming_call(id))
        .await?
        .ok_or("alice: the incoming call has no handle")?;
    step("alice 200", limit, inc.answer(200, Some(ANSWER))).await?;
    step("bob answered", limit, out.answered()).await?;
    step("alice ACK", limit, inc.confirmed()).await?;
    ladder.stats().calls += 1;
    settle().await;
    heading(&ladder, "bob hangs up");
    step("bob BYE", limit, out.hangup()).await?;
    tokio::time::timeout(limit, inc.ended())
        .await
        .map_err(|_| "alice: BYE did not arrive".to_owned())?;
    settle().await;

    let keepalive_limit = limit + Duration::from_secs(30) / scale * 2;
    heading(
        &ladder,
        "keepalive: alice pings while quiet, the testbed answers",
    );
    alice.drain();
    let last_pong = alice
        .wait("pong", keepalive_limit, |t, e| {
            matches!(e, UaEvent::Link(LinkEvent::PongReceived { .. })).then_some(t)
        })
        .await?;
    heading(&ladder, "fault on: the testbed drops pongs");
    handle.set_drop_pongs(true);
    ladder
        .quiet_since
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert("alice".to_owned(), last_pong);
    alice
        .wait("connection declared dead", keepalive_limit, |_, e| {
            matches!(e, UaEvent::Link(LinkEvent::ConnectionDead { .. })).then_some(())
        })
        .await?;
    handle.set_drop_pongs(false);
    heading(&ladder, "fault off: reconnect and register again");
    alice
        .wait("reconnect", limit, |_, e| {
            matches!(e, UaEvent::Link(LinkEvent::Reconnected { .. })).then_some(())
        })
        .await?;
    ladder
        .quiet_since
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    let expires = alice
        .wait("registration after the reconnect", limit, |_, e| match e {
            UaEvent::Registered { expires, .. } => Some(*expires),
            _ => None,
        })
        .await?;
    settle().await;
    ladder.link(
        "alice",
        "registered",
        &format!(
            "{:>7}    re-registered on the new connection (expires {}s)",
            "alice",
            expires.as_secs()
        ),
        json!({ "expires": expires.as_secs() }),
    );

    heading(&ladder, "shutdown: both un-REGISTER and close");
    let _ = tokio::time::timeout(limit, alice.ua.shutdown()).await;
    let _ = tokio::time::timeout(limit, bob.ua.shutdown()).await;
    settle().await;
    let s = ladder.stats();
    let seconds = ladder.start.elapsed().as_secs_f64();
    if json {
        let summary = json!({
            "t": (seconds * 1000.0).round() / 1000.0,
            "type": "summary",
            "messages": s.messages,
            "registrations": s.registrations,
            "calls": s.calls,
            "pings": s.pings,
            "pongs": s.pongs,
            "reconnects": s.reconnects,
            "seconds": seconds,
            "text": format!("demo complete in {seconds:.3}s"),
        });
        out!("{summary}");
        return Ok(());
    }
    out!();
    out!("summary");
    out!("  {:<14} {:>5}", "messages", s.messages);
    out!("  {:<14} {:>5}", "registrations", s.registrations);
    out!("  {:<14} {:>5}", "calls", s.calls);
    out!("  {:<14} {:>5}", "pings", s.pings);
    out!("  {:<14} {:>5}", "pongs", s.pongs);
    out!("  {:<14} {:>5}", "reconnects", s.reconnects);
    out!("demo complete in {seconds:.3}s");
    Ok(())
}

fn expect_ok(what: &str, status: u16) -> Result<(), String> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("{what} answered {status}"))
    }
}
