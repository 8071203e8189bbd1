//! `sipws serve`: run the embedded SIP-over-WebSocket testbed on loopback
//! — registrar with digest, relay between registered clients, scripted
//! peer (`sip:peer@DOMAIN`), fault injection — and print one line per
//! thing it does.
//!
//! The first line printed is always the URL (`ws://127.0.0.1:PORT`, or
//! `wss://` with `--tls-cert`/`--tls-key`), so scripts can read it when
//! `--listen` asks for any free port (`:0`). Then one line per testbed
//! event, as text or JSON lines (`--json`). Runs until Ctrl-C or SIGTERM.
//! Exit codes: 0 after Ctrl-C or SIGTERM, 2 for invalid settings, 1 when
//! the testbed cannot start (address in use, unreadable certificate).
//!
//! Faults are switched while it runs by commands read line by line from
//! standard input ([`control`]; the grammar is [`control::GRAMMAR`], also
//! in `sipws serve --help`): `drop-pongs on`, `pong-delay 300`,
//! `pongs 2`, `close 1006 #3`, `close 4000 maintenance`, `refuse 2`,
//! `no-subprotocol on`, `stop-reading #1`, `drop-registrations`,
//! `peer call alice`, `status`, `help`… Each command answers one line
//! (`ok: …` or `error: …`; a JSON object with `--json`), then its effects
//! print as ordinary event lines. An unknown or malformed command is an
//! `error:` line and the server goes on; the end of standard input does
//! not stop it. The faults that make sense from the start are also flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sipws_core::auth::Algorithm;
use sipws_testbed::{
    parse_users, Faults, SipConfig, Testbed, TestbedConfig, TestbedEvent, TlsFiles, User,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

mod control;

/// The run-time command grammar, shown by `sipws serve --help`.
pub(crate) const COMMANDS_HELP: &str = control::GRAMMAR;

/// Exit code for invalid settings (same as a command-line usage error).
const EXIT_USAGE: u8 = 2;

/// Arguments of `sipws serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where to listen (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The SIP domain (also the digest realm).
    #[arg(long, default_value = "sipws.test")]
    domain: String,
    /// A user allowed to register, `USER:PASSWORD` (repeatable). Without
    /// any user, REGISTER is accepted without a challenge.
    #[arg(long = "user", value_name = "USER:PASSWORD")]
    users: Vec<String>,
    /// A file of `user:password` lines (`#` comments allowed).
    #[arg(long, value_name = "FILE")]
    users_file: Option<PathBuf>,
    /// The digest algorithm of the challenges.
    #[arg(long, value_enum, default_value = "md5")]
    algorithm: AlgorithmArg,
    /// Wrong credentials in a row answered 401 before a 403.
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_auth_failures: u32,
    /// The scripted peer's user name.
    #[arg(long, default_value = "peer", value_name = "USER")]
    peer_user: String,
    /// Serve `wss://` with this certificate chain (PEM); needs `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) for `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Fault: never answer CRLF pings.
    #[arg(long)]
    drop_pongs: bool,
    /// Fault: hold each CRLF pong back this many milliseconds.
    #[arg(long, value_name = "MS")]
    pong_delay_ms: Option<u64>,
    /// Fault: answer only the first N CRLF pings of each connection.
    #[arg(long, value_name = "N")]
    pongs: Option<u32>,
    /// Fault: refuse the next N WebSocket handshakes with HTTP 503.
    #[arg(long, default_value_t = 0, value_name = "N")]
    refuse: u32,
    /// Fault: answer the upgrade without `Sec-WebSocket-Protocol`.
    #[arg(long)]
    no_subprotocol: bool,
    /// Fault: never read any connection (half-open) until
    /// `resume-reading`.
    #[arg(long)]
    stop_reading: bool,
    /// Fault: drop every connection without a close frame (1006) this
    /// long after its upgrade, e.g. `5s`.
    #[arg(long, value_parser = super::connect::parse_duration, value_name = "DUR")]
    drop_after: Option<Duration>,

    /// Print JSON lines (after the URL line) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AlgorithmArg {
    /// MD5 (RFC 3261).
    Md5,
    /// SHA-256 (RFC 8760).
    #[value(name = "sha-256", alias = "sha256")]
    Sha256,
}

impl Args {
    fn config(&self) -> Result<TestbedConfig, String> {
        if !self.listen.ip().is_loopback() {
            return Err(format!("{} is not a loopback address", self.listen));
        }
        let mut users: Vec<User> = Vec::new();
        for u in &self.users {
            match parse_users(u) {
                Ok(mut one) if one.len() == 1 => users.append(&mut one),
                _ => return Err(format!("--user {u:?}: expected USER:PASSWORD")),
            }
        }
        if let Some(path) = &self.users_file {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut more = parse_users(&text)
                .map_err(|line| format!("{}:{line}: expected user:password", path.display()))?;
            users.append(&mut more);
        }
        let mut faults = Faults::default();
        faults.drop_pongs = self.drop_pongs;
        faults.pong_delay = self.pong_delay_ms.map(Duration::from_millis);
        faults.answer_first_pings = self.pongs;
        faults.refuse_handshakes = self.refuse;
        faults.omit_subprotocol = self.no_subprotocol;
        faults.stop_reading = self.stop_reading;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        Ok(TestbedConfig {
            bind: self.listen,
            faults,
            tls,
            sip: SipConfig {
                domain: self.domain.clone(),
                users,
                algorithm: match self.algorithm {
                    AlgorithmArg::Md5 => Algorithm::Md5,
                    AlgorithmArg::Sha256 => Algorithm::Sha256,
                },
                max_auth_failures: self.max_auth_failures.max(1),
                peer_user: self.peer_user.clone(),
                ..SipConfig::default()
            },
            ..TestbedConfig::default()
        })
    }
}

/// Runs `sipws serve`.
pub(crate) fn run(args: &Args) -> ExitCode {
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sipws serve: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sipws serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config, args.json, args.drop_after))
}

/// Standard input, line by line, from a thread (reading it blocks); the
/// channel closes at its end.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("sipws-serve-stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            loop {
                line.clear();
                match std::io::BufRead::read_line(&mut stdin.lock(), &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx
                            .send(line.trim_end_matches(['\r', '\n']).to_owned())
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("sipws serve: cannot read commands from standard input: {e}");
    }
    rx
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. Create it once: a signal
/// arriving between two polls of the same future is not lost.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn serve(config: TestbedConfig, json: bool, drop_after: Option<Duration>) -> ExitCode {
    let testbed = match Testbed::start(config).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sipws serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut events = testbed.handle().subscribe();
    println!("{}", testbed.url());
    let handle = testbed.handle();
    let start = Instant::now();
    let mut commands = stdin_lines();
    let mut reading = true;
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return ExitCode::SUCCESS,
            line = commands.recv(), if reading => match line {
                Some(line) => {
                    if let Some(reply) = command(&handle, &line) {
                        println!("{}", reply.line(json));
                    }
                }
                // End of input: keep serving.
                None => reading = false,
            },
            e = events.recv() => match e {
                Ok(e) => {
                    print_event(start.elapsed(), &e, json);
                    if let (Some(after), TestbedEvent::Upgraded { conn, .. }) = (drop_after, &e) {
                        let (handle, conn) = (handle.clone(), *conn);
                        tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            handle.drop_conn(conn);
                        });
                    }
                }
                Err(RecvError::Lagged(n)) => eprintln!("sipws serve: {n} events not shown (output too slow)"),
                Err(RecvError::Closed) => return ExitCode::SUCCESS,
            },
        }
    }
}

/// Runs one command line; `None` for an empty line or a comment.
fn command(handle: &sipws_testbed::TestbedHandle, line: &str) -> Option<control::Reply> {
    let (outcome, data) = match control::parse(line) {
        Ok(None) => return None,
        Ok(Some(c)) => control::apply(handle, &c),
        Err(e) => (Err(e), None),
    };
    match &outcome {
        Ok(detail) => tracing::debug!(command = line.trim(), %detail, "command done"),
        Err(reason) => tracing::debug!(command = line.trim(), %reason, "command refused"),
    }
    Some(control::Reply {
        command: line.trim().to_owned(),
        outcome,
        data,
    })
}

fn print_event(t: Duration, e: &TestbedEvent, json: bool) {
    let (name, fields) = describe(e);
    if json {
        let mut obj = json!({ "t": t.as_secs_f64(), "conn": e.conn().0, "event": name });
        if let (Some(o), Value::Object(f)) = (obj.as_object_mut(), fields) {
            o.extend(f);
        }
        println!("{obj}");
    } else {
        let mut line = format!(
            "{:>9.3}s {:<4} {name}",
            t.as_secs_f64(),
            e.conn().to_string()
        );
        if let Value::Object(f) = fields {
            for (k, v) in f {
                match v {
                    Value::String(s) => line.push_str(&format!(" {k}={s}")),
                    other => line.push_str(&format!(" {k}={other}")),
                }
            }
        }
        println!("{line}");
    }
}

/// A short name and the fields of an event.
fn describe(e: &TestbedEvent) -> (&'static str, Value) {
    match e {
        TestbedEvent::Accepted { peer, .. } => ("accepted", json!({ "peer": peer.to_string() })),
        TestbedEvent::HandshakeRefused { status, .. } => {
            ("handshake-refused", json!({ "status": status }))
        }
        TestbedEvent::HandshakeFailed { reason, .. } => {
            ("handshake-failed", json!({ "reason": reason }))
        }
        TestbedEvent::Upgraded { protocol, .. } => ("upgraded", json!({ "protocol": protocol })),
        TestbedEvent::PingReceived { count, .. } => ("ping", json!({ "count": count })),
        TestbedEvent::PongSent { delay, .. } => {
            ("pong", json!({ "delay_ms": delay.as_millis() as u64 }))
        }
        TestbedEvent::PongWithheld { reason, .. } => {
            ("pong-withheld", json!({ "reason": format!("{reason:?}") }))
        }
        TestbedEvent::PongReceived { .. } => ("pong-received", json!({})),
        TestbedEvent::FrameReceived { data, text, .. } => (
            "frame",
            json!({ "len": data.len(), "text": text, "first_line": first_line(data) }),
        ),
        TestbedEvent::FrameSent { len, .. } => ("frame-sent", json!({ "len": len })),
        TestbedEvent::Registered {
            aor,
            contact,
            expires,
            ..
        } => (
            "registered",
            json!({ "aor": aor, "contact": contact, "expires": expires }),
        ),
        TestbedEvent::Unregistered {
            aor,
            contact,
            reason,
            ..
        } => (
            "unregistered",
            json!({ "aor": aor, "contact": contact, "reason": reason }),
        ),
        TestbedEvent::AuthChallenged { aor, algorithm, .. } => (
            "auth-challenged",
            json!({ "aor": aor, "algorithm": algorithm }),
        ),
        TestbedEvent::AuthFailed {
            aor,
            reason,
            forbidden,
            ..
        } => (
            "auth-failed",
            json!({ "aor": aor, "reason": reason, "forbidden": forbidden }),
        ),
        TestbedEvent::SipAnswered { method, status, .. } => {
            ("answered", json!({ "method": method, "status": status }))
        }
        TestbedEvent::SipDropped { reason, .. } => ("dropped", json!({ "reason": reason })),
        TestbedEvent::RequestRelayed {
            to,
            method,
            call_id,
            ..
        } => (
            "relayed-request",
            json!({ "to": to.0, "method": method, "call_id": call_id }),
        ),
        TestbedEvent::ResponseRelayed {
            to, status, method, ..
        } => (
            "relayed-response",
            json!({ "to": to.0, "status": status, "method": method }),
        ),
        TestbedEvent::PeerCall { call_id, state, .. } => (
            "peer-call",
            json!({ "call_id": call_id, "state": format!("{state:?}") }),
        ),
        TestbedEvent::PeerRequest {
            call_id,
            method,
            status,
            ..
        } => (
            "peer-answered",
            json!({ "call_id": call_id, "method": method, "status": status }),
        ),
        TestbedEvent::PeerResponse {
            call_id,
            method,
            status,
            ..
        } => (
            "peer-response",
            json!({ "call_id": call_id, "method": method, "status": status }),
        ),
        TestbedEvent::WsPingReceived { .. } => ("ws-ping", json!({})),
        TestbedEvent::WsPongReceived { payload, .. } => {
            ("ws-pong", json!({ "len": payload.len() }))
        }
        TestbedEvent::ReadingStopped { .. } => ("reading-stopped", json!({})),
        TestbedEvent::ReadingResumed { .. } => ("reading-resumed", json!({})),
        TestbedEvent::DroppedAbnormally { .. } => ("dropped-1006", json!({})),
        TestbedEvent::CloseSent { code, .. } => ("close-sent", json!({ "code": code })),
        TestbedEvent::CloseReceived { code, .. } => ("close-received", json!({ "code": code })),
        TestbedEvent::Disconnected { reason, .. } => ("disconnected", json!({ "reason": reason })),
        other => ("other", json!({ "debug": format!("{other:?}") })),
    }
}

/// The first line of a frame, for the event line (JSON frames: whole, cut).
fn first_line(data: &[u8]) -> String {
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len())
        .min(120);
    String::from_utf8_lossy(&data[..end]).into_owned()
}
