//! `sipws register`, `sipws call`, `sipws send`, `sipws options`: one SIP
//! operation each, run by the tokio user agent (`sipws::ua`) over one
//! link.
//!
//! The password comes from `--password`, else `SIPWS_PASSWORD`, else a
//! prompt on the terminal (read as a line; the terminal still echoes it);
//! it is never printed. Exit codes (as for `sipws connect`): 0 success,
//! 1 SIP failure (error status, rejected call, no answer), 2 usage,
//! 3 connection failure (the link gave up).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sipws::ua::{UaApiError, UaEvents, UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::link::LinkEvent;
use sipws_core::ua::{Target, UaEvent};

use super::connect::parse_duration;

const EXIT_SIP: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_CONNECTION: u8 = 3;

/// Settings shared by every SIP command.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// Server URL (`ws://` or `wss://`).
    #[arg(value_name = "URL")]
    url: String,
    /// User name (AOR user and digest user).
    #[arg(long, default_value = "sipws")]
    user: String,
    /// SIP domain (AOR host, registrar); default: the URL's host.
    #[arg(long)]
    domain: Option<String>,
    /// Digest password (else `SIPWS_PASSWORD`, else a prompt).
    #[arg(long)]
    password: Option<String>,
    /// Give up after this long, e.g. `30s`.
    #[arg(long, value_parser = parse_duration, default_value = "30s", value_name = "DUR")]
    timeout: Duration,
    /// Connection attempts before giving up (exit 3).
    #[arg(long, default_value_t = 2, value_name = "N")]
    attempts: u32,
    /// PEM file of the CA that signed the server certificate (`wss://`).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

impl Common {
    fn domain(&self) -> String {
        self.domain.clone().unwrap_or_else(|| {
            let rest = self
                .url
                .split_once("://")
                .map_or(self.url.as_str(), |(_, r)| r);
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            match host.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h.to_owned(),
                _ => host.to_owned(),
            }
        })
    }

    fn password(&self, needed: bool) -> Option<String> {
        if let Some(p) = &self.password {
            return Some(p.clone());
        }
        if let Ok(p) = std::env::var("SIPWS_PASSWORD") {
            return Some(p);
        }
        if needed && std::io::stdin().is_terminal() {
            eprint!("password for {}: ", self.user);
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).ok()?;
            return Some(line.trim_end_matches(['\r', '\n']).to_owned());
        }
        None
    }

    fn config(&self, password: Option<String>) -> UserAgentConfig {
        let mut c = UserAgentConfig::new(
            self.url.clone(),
            format!("sip:{}@{}", self.user, self.domain()),
        );
        if let Some(p) = password {
            c = c.with_credentials(self.user.clone(), p);
        }
        let r = &mut c.driver.link.reconnect;
        r.max_attempts = self.attempts.max(1);
        r.delays = vec![Duration::from_millis(250), Duration::from_millis(500)];
        c.driver.transport.tls.ca_file.clone_from(&self.ca_file);
        c
    }
}

/// Arguments of `sipws register`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    common: Common,
    /// Requested lifetime in seconds.
    #[arg(long, default_value_t = 600, value_name = "S")]
    expires: u64,
    /// Stay registered (refreshing, re-registering after reconnects) and
    /// print events until Ctrl-C; then un-REGISTER.
    #[arg(long)]
    stay: bool,
}

/// Arguments of `sipws call`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    common: Common,
    /// Who to call (SIP URI).
    #[arg(value_name = "TARGET")]
    target: String,
    /// Hang up this long after the answer (default: at once).
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    hangup_after: Option<Duration>,
    /// Send this body in an INFO (`text/plain`) once answered.
    #[arg(long, value_name = "BODY")]
    info: Option<String>,
}

/// Arguments of `sipws send`.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    common: Common,
    /// Where to send it (SIP URI).
    #[arg(value_name = "TARGET")]
    target: String,
    /// The method (MESSAGE, INFO, NOTIFY, OPTIONS, …).
    #[arg(long, default_value = "MESSAGE")]
    method: String,
    /// The body.
    #[arg(long, default_value = "")]
    body: String,
    /// Its Content-Type (default `text/plain` when there is a body).
    #[arg(long)]
    content_type: Option<String>,
}

/// Arguments of `sipws options`.
#[derive(Debug, clap::Args)]
pub(crate) struct OptionsArgs {
    #[command(flatten)]
    common: Common,
    /// Who to ask (default: the server, `sip:DOMAIN`).
    #[arg(long, value_name = "URI")]
    target: Option<String>,
}

fn block_on(name: &str, f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("sipws {name}: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Start the user agent or report a usage error.
fn start(name: &str, config: UserAgentConfig) -> Result<(UserAgent, UaEvents), ExitCode> {
    let url = config
        .driver
        .link
        .urls
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("ws" | "wss")) {
        eprintln!("sipws {name}: {url:?} is not a ws:// or wss:// URL");
        return Err(ExitCode::from(EXIT_USAGE));
    }
    UserAgent::spawn(config).map_err(|e| {
        eprintln!("sipws {name}: {e}");
        ExitCode::from(EXIT_USAGE)
    })
}

/// Waits until the link gives up.
async fn link_failed(events: &mut UaEvents, print: bool) -> String {
    while let Some(e) = events.next().await {
        if print {
            println!("{:>8.3}s {:?}", e.elapsed.as_secs_f64(), e.event);
        }
        if let UaStreamEvent::Ua(UaEvent::Link(LinkEvent::Failed { reason, .. })) = &e.event {
            return format!("{reason:?}");
        }
    }
    "user agent stopped".to_owned()
}

/// Whether the link gave up among the events already delivered (a
/// request failing for that reason resolves in the same batch).
fn gave_up(events: &mut UaEvents) -> Option<String> {
    while let Some(e) = events.try_next() {
        if let UaStreamEvent::Ua(UaEvent::Link(LinkEvent::Failed { reason, .. })) = &e.event {
            return Some(format!("{reason:?}"));
        }
    }
    None
}

/// Runs `op`, failing with exit 3 when the link gives up and exit 1 at the
/// timeout.
async fn guarded<T>(
    name: &str,
    timeout: Duration,
    events: &mut UaEvents,
    op: impl std::future::Future<Output = Result<T, UaApiError>>,
) -> Result<T, ExitCode> {
    tokio::select! {
        r = tokio::time::timeout(timeout, op) => match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(UaApiError::Ua(e))) => {
                eprintln!("sipws {name}: {e}");
                Err(ExitCode::from(EXIT_USAGE))
            }
            Ok(Err(e)) => {
                if let Some(why) = gave_up(events) {
                    eprintln!("sipws {name}: connection failed: {why}");
                    return Err(ExitCode::from(EXIT_CONNECTION));
                }
                println!("{e}");
                Err(ExitCode::from(EXIT_SIP))
            }
            Err(_) => {
                println!("no answer within {timeout:?}");
                Err(ExitCode::from(EXIT_SIP))
            }
        },
        why = link_failed(events, false) => {
            eprintln!("sipws {name}: connection failed: {why}");
            Err(ExitCode::from(EXIT_CONNECTION))
        }
    }
}

/// Runs `sipws register`.
pub(crate) fn register(args: &RegisterArgs) -> ExitCode {
    block_on("register", async {
        let mut config = args.common.config(args.common.password(true));
        config.ua.expires = Duration::from_secs(args.expires);
        let (ua, mut events) = match start("register", config) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let t = args.common.timeout;
        let reg = match guarded("register", t, &mut events, ua.register()).await {
            Ok(r) => r,
            Err(code) => return code,
        };
        println!(
            "registered expires={}s bindings={}",
            reg.expires.as_secs(),
            reg.bindings.join(",")
        );
        if args.stay {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                why = link_failed(&mut events, true) => {
                    eprintln!("sipws register: connection failed: {why}");
                    return ExitCode::from(EXIT_CONNECTION);
                }
            }
        }
        match guarded("register", t, &mut events, ua.unregister()).await {
            Ok(()) => println!("unregistered"),
            Err(code) => return code,
        }
        let _ = tokio::time::timeout(t, ua.shutdown()).await;
        ExitCode::SUCCESS
    })
}

const OFFER: &[u8] = b"v=0\r\no=sipws 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 9 RTP/AVP 0\r\n";

/// Runs `sipws call`.
pub(crate) fn call(args: &CallArgs) -> ExitCode {
    block_on("call", async {
        let password = args.common.password(false);
        let registers = password.is_some();
        let (ua, mut events) = match start("call", args.common.config(password)) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let t = args.common.timeout;
        if registers {
            if let Err(code) = guarded("call", t, &mut events, ua.register()).await {
                return code;
            }
            println!("registered");
        }
        let code = async {
            let mut call = guarded("call", t, &mut events, ua.call(&args.target, OFFER)).await?;
            guarded("call", t, &mut events, call.answered()).await?;
            println!("answered");
            if let Some(body) = &args.info {
                let r = guarded(
                    "call",
                    t,
                    &mut events,
                    call.info("text/plain", body.as_bytes()),
                )
                .await?;
                println!("INFO {} {}", r.status, r.reason);
            }
            if let Some(d) = args.hangup_after {
                tokio::time::sleep(d).await;
            }
            let why = guarded("call", t, &mut events, call.hangup()).await?;
            println!("ended: {why}");
            Ok::<_, ExitCode>(ExitCode::SUCCESS)
        }
        .await;
        let _ = tokio::time::timeout(t, ua.shutdown()).await;
        code.unwrap_or_else(|c| c)
    })
}

/// Runs `sipws send`.
pub(crate) fn send(args: &SendArgs) -> ExitCode {
    let method = args.method.to_ascii_uppercase();
    block_on("send", async {
        let (ua, mut events) = match start("send", args.common.config(args.common.password(false)))
        {
            Ok(s) => s,
            Err(code) => return code,
        };
        let ct = args
            .content_type
            .clone()
            .or_else(|| (!args.body.is_empty()).then(|| "text/plain".to_owned()));
        let op = ua.send_request(
            Target::Uri(args.target.clone()),
            &method,
            ct.as_deref(),
            args.body.as_bytes(),
        );
        let code = answer_code("send", args.common.timeout, &mut events, op).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), ua.shutdown()).await;
        code
    })
}

/// Runs `sipws options`.
pub(crate) fn options(args: &OptionsArgs) -> ExitCode {
    block_on("options", async {
        let target = args
            .target
            .clone()
            .unwrap_or_else(|| format!("sip:{}", args.common.domain()));
        let (ua, mut events) = match start("options", args.common.config(None)) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let op = ua.options(Target::Uri(target));
        let code = answer_code("options", args.common.timeout, &mut events, op).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), ua.shutdown()).await;
        code
    })
}

async fn answer_code(
    name: &str,
    timeout: Duration,
    events: &mut UaEvents,
    op: impl std::future::Future<Output = Result<sipws::ua::Response, UaApiError>>,
) -> ExitCode {
    match guarded(name, timeout, events, op).await {
        Ok(r) => {
            if !r.is_success() {
                if let Some(why) = gave_up(events) {
                    eprintln!("sipws {name}: connection failed: {why}");
                    return ExitCode::from(EXIT_CONNECTION);
                }
            }
            println!("{} {}", r.status, r.reason);
            if r.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_SIP)
            }
        }
        Err(code) => code,
    }
}
