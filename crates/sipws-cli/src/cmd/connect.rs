//! `sipws connect URL [URL…]`: open a supervised link and keep it alive,
//! printing each link event as a line with its time since start — how an
//! operator checks a server's keepalive behaviour (pongs, escalation,
//! death, reconnects).
//!
//! Every keepalive, reconnect and queue setting of the link is a flag.
//! When the link asks for a liveness request (`--fallback request`), an
//! OPTIONS to the server is sent; its answer proves the connection alive.
//! Exit codes: 0 when `--duration` or `--pongs` is reached (or on
//! Ctrl-C), 2 for invalid settings, 3 when the link fails (reconnect
//! attempts exhausted).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sipws::transport::TransportError;
use sipws::LinkHandle;
use sipws::{DriverConfig, Event, TimedEvent};
use sipws_core::link::{FallbackProbe, LinkEvent, Liveness, Opcode};
use sipws_core::message::{HeaderName, RequestBuilder};

/// Exit code for invalid settings (same as a command-line usage error).
const EXIT_USAGE: u8 = 2;
/// Exit code when the link failed.
const EXIT_LINK_FAILED: u8 = 3;

/// Arguments of `sipws connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Server URLs (`ws://` or `wss://`); several rotate on reconnect.
    #[arg(value_name = "URL", required = true)]
    urls: Vec<String>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// Stop (exit 0) after this long, e.g. `90s`, `2.5s`, `500ms`.
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    duration: Option<Duration>,
    /// Stop (exit 0) after this many CRLF pongs.
    #[arg(long, value_name = "N")]
    pongs: Option<u32>,

    /// Keepalive: quiet time before ping #1 (after open, a pong or any
    /// frame).
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DUR")]
    idle: Duration,
    /// Keepalive: wait after ping #1 before ping #2.
    #[arg(long, value_parser = parse_duration, default_value = "5s", value_name = "DUR")]
    first_retry: Duration,
    /// Keepalive: wait after ping #2 and every later ping (and before death).
    #[arg(long, value_parser = parse_duration, default_value = "2.5s", value_name = "DUR")]
    retry: Duration,
    /// Keepalive: unanswered pings that make the connection dead.
    #[arg(long, default_value_t = 4, value_name = "N")]
    max_unanswered: u32,
    /// Keepalive: random spread of the idle time, in thousandths (100 = ±10 %).
    #[arg(long, default_value_t = 0, value_name = "PERMILLE")]
    keepalive_jitter: u16,
    /// Liveness probe for servers that never answer CRLF pings.
    #[arg(long, value_enum, default_value = "ws-ping")]
    fallback: Fallback,
    /// Time a fallback probe may stay unanswered.
    #[arg(long, value_parser = parse_duration, default_value = "5s", value_name = "DUR")]
    probe_timeout: Duration,

    /// Reconnect: attempts before the link fails.
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_attempts: u32,
    /// Reconnect: time one connection attempt may take.
    #[arg(long, value_parser = parse_duration, default_value = "5s", value_name = "DUR")]
    connect_timeout: Duration,
    /// Reconnect: delays before attempts 1, 2, … (the last repeats).
    #[arg(long, value_delimiter = ',', value_parser = parse_duration, default_value = "1s,2s,4s", value_name = "DUR,…")]
    delays: Vec<Duration>,
    /// Reconnect: random spread of each delay, in thousandths (200 = ±20 %).
    #[arg(long, default_value_t = 200, value_name = "PERMILLE")]
    reconnect_jitter: u16,
    /// Reconnect: a reconnected link also counts as live after staying open
    /// this long.
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    stable_after: Option<Duration>,

    /// Send queue: frames held while down.
    #[arg(long, default_value_t = 64, value_name = "N")]
    queue_frames: usize,
    /// Send queue: bytes held while down.
    #[arg(long, default_value_t = 256 * 1024, value_name = "BYTES")]
    queue_bytes: usize,
    /// Largest frame sent or accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    max_frame: usize,
    /// Read buffer per connection, in bytes.
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    read_buffer: usize,

    /// Extra trusted CA certificates (PEM) for `wss://`.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Accept any `wss://` server certificate (test servers only).
    #[arg(long)]
    danger_accept_invalid_certs: bool,
    /// Seed of the jitter generator (default: random).
    #[arg(long)]
    seed: Option<u64>,
}

/// `--fallback` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Fallback {
    /// WebSocket Ping frames.
    WsPing,
    /// An OPTIONS request to the server; any inbound frame (its answer)
    /// proves the connection alive.
    Request,
    /// None: unanswered CRLF pings always mean a dead connection.
    None,
}

/// Parses `10s`, `2.5s`, `500ms`, `1m` or a bare number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (try 10s, 2.5s, 500ms)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{s:?}: {e}"))
}

impl Args {
    fn config(&self) -> DriverConfig {
        let mut c = DriverConfig::new(self.urls.iter().cloned());
        let k = &mut c.link.keepalive;
        k.idle = self.idle;
        k.first_retry = self.first_retry;
        k.retry = self.retry;
        k.max_unanswered = self.max_unanswered;
        k.jitter_permille = self.keepalive_jitter;
        k.fallback = match self.fallback {
            Fallback::WsPing => FallbackProbe::WsPing,
            Fallback::Request => FallbackProbe::Request,
            Fallback::None => FallbackProbe::None,
        };
        k.probe_timeout = self.probe_timeout;
        let r = &mut c.link.reconnect;
        r.max_attempts = self.max_attempts;
        r.connect_timeout = self.connect_timeout;
        r.delays.clone_from(&self.delays);
        r.jitter_permille = self.reconnect_jitter;
        r.stable_after = self.stable_after;
        let q = &mut c.link.queue;
        q.max_frames = self.queue_frames;
        q.max_bytes = self.queue_bytes;
        q.max_frame_bytes = self.max_frame;
        c.transport.max_frame_size = self.max_frame;
        c.transport.read_buffer_size = self.read_buffer;
        c.transport.connect_timeout = self.connect_timeout;
        c.transport.tls.ca_file.clone_from(&self.ca_file);
        c.transport.tls.danger_accept_invalid_certs = self.danger_accept_invalid_certs;
        c.seed = self.seed;
        c
    }
}

/// Runs `sipws connect`.
pub(crate) fn run(args: &Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sipws connect: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(connect(args))
}

async fn connect(args: &Args) -> ExitCode {
    let (link, mut events) = match sipws::spawn(args.config()) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("sipws connect: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let deadline = async {
        match args.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut pongs = 0u32;
    let mut probe = OptionsProbe::new();
    let mut out = std::io::stdout().lock();
    loop {
        let event = tokio::select! {
            e = events.next() => e,
            () = &mut deadline => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(event) = event else {
            eprintln!("sipws connect: the link task stopped");
            return ExitCode::FAILURE;
        };
        let line = if args.json {
            json_line(&event)
        } else {
            text_line(&event)
        };
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            // stdout closed (`| head`): nobody is watching any more.
            return ExitCode::SUCCESS;
        }
        match &event.event {
            Event::Link(LinkEvent::PongReceived { .. }) => {
                pongs += 1;
                if args.pongs.is_some_and(|n| pongs >= n) {
                    break;
                }
            }
            Event::Link(LinkEvent::Failed { reason }) => {
                eprintln!("sipws connect: {reason}");
                return ExitCode::from(EXIT_LINK_FAILED);
            }
            Event::Link(LinkEvent::Connected { url, .. } | LinkEvent::Reconnected { url, .. }) => {
                probe.server.clone_from(url);
            }
            Event::Link(LinkEvent::ProbeRequested) => probe.send(&link).await,
            _ => {}
        }
    }
    let _ = link.close().await;
    // Print what the close produced (the Disconnected event).
    while let Some(event) = events.try_next() {
        let line = if args.json {
            json_line(&event)
        } else {
            text_line(&event)
        };
        let _ = writeln!(out, "{line}");
    }
    ExitCode::SUCCESS
}

/// The OPTIONS requests sent when the link asks for a liveness probe
/// (`--fallback request`): out of dialog, to the server itself.
struct OptionsProbe {
    server: String,
    cseq: u32,
    id: u64,
}

impl OptionsProbe {
    fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        OptionsProbe {
            server: String::new(),
            cseq: 0,
            id: h.finish(),
        }
    }

    /// `ws://host:port/path` → (`sip:host:port`, Via transport). The port
    /// is kept: a server recognises requests to itself by host and port
    /// (Kamailio's `myself` answers `sip:127.0.0.1` on another port with
    /// 403). Any answer proves the connection alive all the same.
    fn target(&self) -> (String, &'static str) {
        let (transport, rest) = match self.server.split_once("://") {
            Some(("wss", rest)) => ("WSS", rest),
            Some((_, rest)) => ("WS", rest),
            None => ("WS", self.server.as_str()),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        (format!("sip:{authority}"), transport)
    }

    async fn send(&mut self, link: &LinkHandle) {
        self.cseq += 1;
        let (uri, transport) = self.target();
        let tag = format!("{:x}", self.id ^ u64::from(self.cseq));
        let request = RequestBuilder::new("OPTIONS", uri.clone())
            .header(
                HeaderName::Via,
                format!("SIP/2.0/{transport} sipws.invalid;branch=z9hG4bK{tag}"),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(HeaderName::To, format!("<{uri}>"))
            .header(
                HeaderName::From,
                format!("<sip:sipws@sipws.invalid>;tag={tag}"),
            )
            .header(
                HeaderName::CallId,
                format!("{:x}-{}@sipws.invalid", self.id, self.cseq),
            )
            .header(HeaderName::CSeq, format!("{} OPTIONS", self.cseq))
            .build();
        let mut frame = Vec::new();
        match request {
            Ok(request) => request.write_to(&mut frame),
            Err(e) => {
                eprintln!("sipws connect: cannot build the OPTIONS probe: {e}");
                return;
            }
        }
        if let Err(e) = link.send(frame, Opcode::Text).await {
            eprintln!("sipws connect: OPTIONS probe not sent: {e}");
        }
    }
}

fn text_line(e: &TimedEvent) -> String {
    let t = e.elapsed;
    let what = match &e.event {
        Event::Link(LinkEvent::Frame { data, opcode }) => format!(
            "frame received ({opcode}, {} bytes): {}",
            data.len(),
            first_line(data)
        ),
        Event::Link(l) => l.to_string(),
        Event::Transport(err) => format!("transport error: {err}"),
        other => format!("{other:?}"),
    };
    format!("{:>4}.{:03}s  {what}", t.as_secs(), t.subsec_millis())
}

fn first_line(data: &[u8]) -> String {
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len())
        .min(120);
    String::from_utf8_lossy(data.get(..end).unwrap_or_default()).into_owned()
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn json_line(e: &TimedEvent) -> String {
    let mut m = Map::new();
    m.insert("t_ms".into(), json!(ms(e.elapsed)));
    let (name, fields) = match &e.event {
        Event::Link(l) => link_fields(l),
        Event::Transport(err) => ("transport_error", transport_fields(err)),
        _ => ("other", json!({})),
    };
    m.insert("event".into(), json!(name));
    if let Value::Object(fields) = fields {
        m.extend(fields);
    }
    m.insert(
        "text".into(),
        json!(match &e.event {
            Event::Link(l) => l.to_string(),
            Event::Transport(err) => err.to_string(),
            other => format!("{other:?}"),
        }),
    );
    Value::Object(m).to_string()
}

fn transport_fields(err: &TransportError) -> Value {
    match err {
        TransportError::FrameTooLarge { size, max } => json!({"size": size, "max": max}),
        _ => json!({}),
    }
}

fn link_fields(e: &LinkEvent) -> (&'static str, Value) {
    match e {
        LinkEvent::Connecting { url, attempt } => {
            ("connecting", json!({"url": url, "attempt": attempt}))
        }
        LinkEvent::Connected { url, protocol } => {
            ("connected", json!({"url": url, "protocol": protocol}))
        }
        LinkEvent::ConnectFailed { url, reason } => (
            "connect_failed",
            json!({"url": url, "reason": reason.to_string()}),
        ),
        LinkEvent::PingSent { n } => ("ping_sent", json!({"n": n})),
        LinkEvent::PongReceived { rtt } => ("pong_received", json!({"rtt_ms": rtt.map(ms)})),
        LinkEvent::ProbingEscalated { unanswered } => {
            ("probing_escalated", json!({"unanswered": unanswered}))
        }
        LinkEvent::ServerPingAnswered { opcode } => (
            "server_ping_answered",
            json!({"opcode": opcode.to_string()}),
        ),
        LinkEvent::LivenessLearned { url, liveness } => (
            "liveness_learned",
            json!({"url": url, "answers_crlf": matches!(liveness, Liveness::AnswersCrlf)}),
        ),
        LinkEvent::ProbeSent { probe } => ("probe_sent", json!({"probe": probe.to_string()})),
        LinkEvent::ProbeRequested => ("probe_requested", json!({})),
        LinkEvent::ProbeAnswered { rtt } => ("probe_answered", json!({"rtt_ms": ms(*rtt)})),
        LinkEvent::ConnectionDead { reason } => {
            ("connection_dead", json!({"reason": reason.to_string()}))
        }
        LinkEvent::Disconnected { reason } => {
            ("disconnected", json!({"reason": reason.to_string()}))
        }
        LinkEvent::Reconnecting {
            attempt,
            of,
            delay,
            url,
        } => (
            "reconnecting",
            json!({"attempt": attempt, "of": of, "delay_ms": ms(*delay), "url": url}),
        ),
        LinkEvent::Reconnected { url, protocol } => {
            ("reconnected", json!({"url": url, "protocol": protocol}))
        }
        LinkEvent::Failed { reason } => ("failed", json!({"reason": reason.to_string()})),
        LinkEvent::SendFailed { data, reason, .. } => (
            "send_failed",
            json!({"bytes": data.len(), "reason": reason.to_string()}),
        ),
        LinkEvent::Frame { data, opcode } => (
            "frame",
            json!({"bytes": data.len(), "opcode": opcode.to_string(), "first_line": first_line(data)}),
        ),
        _ => ("other", json!({})),
    }
}
