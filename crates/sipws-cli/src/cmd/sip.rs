//! `sipws register`, `sipws call`, `sipws send`, `sipws options`: one SIP
//! operation each, run by the tokio user agent (`sipws::ua`) over one
//! link; `sipws listen` (in `listen.rs`) shares the settings and the
//! plumbing here.
//!
//! Every command prints a SIP ladder (one line per message sent or
//! received, from the user agent's message trace), notable events and a
//! closing result line; `--json` prints the same as JSON lines. The
//! formats are described in `ladder.rs`.
//!
//! The password comes from `--password`, else `SIPWS_PASSWORD`, else a
//! prompt on the terminal (read as a line; the terminal still echoes it);
//! it is never printed, and neither is an Authorization value. Exit codes
//! (as for `sipws connect`): 0 success, 1 SIP failure (error status,
//! rejected call, no answer), 2 usage, 3 connection failure (the link
//! gave up).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use sipws::ua::{
    Direction, TimedUaEvent, UaApiError, UaEvents, UaStreamEvent, UserAgent, UserAgentConfig,
};
use sipws_core::link::LinkEvent;
use sipws_core::ua::{Target, UaEvent};

use super::connect::parse_duration;
use super::ladder::{ColorChoice, Output, Shown, Summary};
use super::media::{self, SdpShape};

/// Exit code of a SIP failure (error status, rejected call, no answer).
pub(crate) const EXIT_SIP: u8 = 1;
/// Exit code of a usage error (bad URL, bad rule, bad settings).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of a connection failure (the link gave up).
pub(crate) const EXIT_CONNECTION: u8 = 3;

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
    /// Print JSON lines (one object per SIP message, per event, and one
    /// result object with the exit code) instead of the ladder.
    #[arg(long)]
    json: bool,
    /// Colour the ladder: `auto` (on a terminal, unless `NO_COLOR` is
    /// set), `always` or `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
}

impl Common {
    /// The output of command `name` as these flags ask.
    pub(crate) fn output(&self, name: &'static str) -> Output {
        Output::new(name, self.json, self.color)
    }

    /// The user name.
    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// How long one operation may take.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The SIP domain: `--domain`, else the URL's host.
    pub(crate) fn domain(&self) -> String {
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

    /// The password: `--password`, `SIPWS_PASSWORD`, or (when `needed`
    /// and stdin is a terminal) a prompt.
    pub(crate) fn password(&self, needed: bool) -> Option<String> {
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

    /// The user agent's configuration (message trace on, for the ladder).
    pub(crate) fn config(&self, password: Option<String>) -> UserAgentConfig {
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
        c.with_message_trace()
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
    /// The shape of the SDP offer: `webrtc` for browsers (ICE, DTLS,
    /// rtcp-mux) or `plain` RTP/AVP for SIP phones. No media flows.
    #[arg(long, value_enum, default_value = "webrtc", value_name = "SHAPE")]
    sdp: SdpShape,
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

/// Runs `f` on a current-thread runtime.
pub(crate) fn block_on(name: &str, f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
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

/// Ctrl-C (SIGINT) as a future whose handler is installed at once, so
/// that an interrupt before the first wait is seen (not the default
/// action, which would kill the process without un-REGISTER).
pub(crate) async fn ctrl_c_armed(
) -> Pin<Box<impl std::future::Future<Output = std::io::Result<()>>>> {
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    // The first poll installs the handler.
    tokio::select! {
        biased;
        _ = &mut ctrl_c => {}
        () = std::future::ready(()) => {}
    }
    ctrl_c
}

/// One running command: the user agent's event stream and the output.
/// The [`UserAgent`] handle is kept apart, so that an operation on it can
/// run while the session prints.
#[derive(Debug)]
pub(crate) struct Session {
    /// Every event of the user agent.
    pub(crate) events: UaEvents,
    /// Where the ladder goes.
    pub(crate) out: Output,
    /// How long one operation may take.
    pub(crate) timeout: Duration,
    /// When (user agent clock) the last request went out and the last
    /// final response came in, for round-trip times.
    last_request: Option<Duration>,
    last_final: Option<Duration>,
    /// Why the link gave up, once it has.
    failed: Option<String>,
    /// Events shown by [`Session::show`] and not yet acted on, kept once
    /// [`Session::hold`] was called (with whether each was an inbound
    /// request shown on the ladder): events that arrive while an
    /// operation is awaited (an INVITE right after the REGISTER's 200) are
    /// printed then, and must still be answered.
    held: Option<Vec<(TimedUaEvent, bool)>>,
    /// The inbound requests seen, to tell a retransmission from a new one.
    seen: SeenRequests,
}

/// Inbound requests by Call-ID and CSeq: a request that repeats both is a
/// retransmission (an INVITE resent, or the ACK a caller sends again for
/// every retransmitted 200), shown on the ladder but not a new request.
#[derive(Debug, Default)]
struct SeenRequests(std::collections::HashSet<(String, String)>);

impl SeenRequests {
    /// Whether `m` is a request not seen before (and remembers it).
    fn first_time(&mut self, m: &Summary) -> bool {
        if !m.is_request() {
            return false;
        }
        // CSeq's number and method, whatever LWS separates them.
        let cseq = m
            .cseq
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let call_id = m.call_id.clone().unwrap_or_default();
        self.0.insert((call_id, cseq))
    }
}

impl Session {
    /// Start the user agent (exit 2 for a URL that is not `ws://` or
    /// `wss://`, or a configuration the user agent refuses).
    pub(crate) fn start(
        mut out: Output,
        config: UserAgentConfig,
        timeout: Duration,
    ) -> Result<(UserAgent, Session), ExitCode> {
        let url = config
            .driver
            .link
            .urls
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("ws" | "wss")) {
            let why = format!("{url:?} is not a ws:// or wss:// URL");
            return Err(out.result(EXIT_USAGE, "usage", &why, json!({})));
        }
        match UserAgent::spawn(config) {
            Ok((ua, events)) => Ok((
                ua,
                Session {
                    events,
                    out,
                    timeout,
                    last_request: None,
                    last_final: None,
                    failed: None,
                    held: None,
                    seen: SeenRequests::default(),
                },
            )),
            Err(e) => Err(out.result(EXIT_USAGE, "usage", &e.to_string(), json!({}))),
        }
    }

    /// Keep every event shown from now on for [`Session::take_held`].
    pub(crate) fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// The events shown since the last call (see [`Session::hold`]), each
    /// with whether it was an inbound request shown on the ladder (not a
    /// retransmission of one shown before).
    pub(crate) fn take_held(&mut self) -> Vec<(TimedUaEvent, bool)> {
        self.held.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Prints one event; returns the link's reason when it gave up, and
    /// the ladder line when a SIP message was shown.
    pub(crate) fn show(&mut self, e: &TimedUaEvent) -> (Option<String>, Shown) {
        let r = self.show_only(e);
        if let Some(held) = &mut self.held {
            let inbound_request = match (&r.1, &e.event) {
                (
                    Some(m),
                    UaStreamEvent::Message {
                        direction: Direction::Received,
                        ..
                    },
                ) => self.seen.first_time(m),
                _ => false,
            };
            held.push((e.clone(), inbound_request));
        }
        r
    }

    fn show_only(&mut self, e: &TimedUaEvent) -> (Option<String>, Shown) {
        match &e.event {
            UaStreamEvent::Message { direction, data } => {
                let shown = self.out.message(e.elapsed, *direction, data);
                if let Some(m) = &shown {
                    match (direction, m.status) {
                        (Direction::Sent, None) => self.last_request = Some(e.elapsed),
                        (Direction::Received, Some(200..)) => self.last_final = Some(e.elapsed),
                        _ => {}
                    }
                }
                (None, shown)
            }
            UaStreamEvent::Ua(UaEvent::Link(link)) => {
                self.out.link(link);
                match link {
                    LinkEvent::Failed { reason } => {
                        let why = reason.to_string();
                        self.failed = Some(why.clone());
                        (Some(why), None)
                    }
                    _ => (None, None),
                }
            }
            UaStreamEvent::Ua(UaEvent::Registered { .. }) => {
                self.out.count_registration();
                (None, None)
            }
            _ => (None, None),
        }
    }

    /// Prints every event already delivered; the link's reason if it has
    /// given up (now or before).
    pub(crate) fn pump(&mut self) -> Option<String> {
        while let Some(e) = self.events.try_next() {
            let _ = self.show(&e);
        }
        self.failed.clone()
    }

    /// Prints events until the link gives up; returns why.
    pub(crate) async fn until_failed(&mut self) -> String {
        while let Some(e) = self.events.next().await {
            if let (Some(why), _) = self.show(&e) {
                return why;
            }
        }
        "user agent stopped".to_owned()
    }

    /// Lets the user agent's task finish what it is sending, then prints
    /// what it reported (so a result line comes after the messages that
    /// led to it).
    pub(crate) async fn settle(&mut self) -> Option<String> {
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        self.pump()
    }

    /// Exit 3: the connection failed.
    pub(crate) fn connection_failed(&mut self, why: &str) -> ExitCode {
        let human = format!("connection failed: {why}");
        self.out
            .result(EXIT_CONNECTION, "connection_failed", &human, json!({}))
    }

    /// Runs `op` while printing the ladder: exit 3 when the link gives
    /// up, 1 on a SIP failure or at the timeout, 2 on local misuse.
    pub(crate) async fn guarded<T>(
        &mut self,
        op: impl std::future::Future<Output = Result<T, UaApiError>>,
    ) -> Result<T, ExitCode> {
        let t = self.timeout;
        let r = tokio::select! {
            r = tokio::time::timeout(t, op) => r,
            why = self.until_failed() => return Err(self.connection_failed(&why)),
        };
        let failed = self.settle().await;
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(UaApiError::Ua(e))) => {
                Err(self
                    .out
                    .result(EXIT_USAGE, "usage", &e.to_string(), json!({})))
            }
            Ok(Err(e)) => {
                if let Some(why) = failed {
                    return Err(self.connection_failed(&why));
                }
                let mut human = e.to_string();
                let mut fields = json!({});
                if let UaApiError::Registration { status, reason } = &e {
                    fields = json!({ "status": status, "reason": reason });
                    if matches!(status, 401 | 403 | 407) {
                        human.push_str(" (wrong user name or password?)");
                    }
                }
                Err(self.out.result(EXIT_SIP, "sip_failure", &human, fields))
            }
            Err(_) => {
                let human = format!("no answer within {t:?}");
                Err(self.out.result(EXIT_SIP, "timeout", &human, json!({})))
            }
        }
    }

    /// Prints what is left and shuts the user agent down (bounded).
    pub(crate) async fn finish(&mut self, ua: &UserAgent, limit: Duration) {
        let _ = tokio::time::timeout(limit, ua.shutdown()).await;
    }
}

/// Runs `sipws register`.
pub(crate) fn register(args: &RegisterArgs) -> ExitCode {
    block_on("register", async {
        let c = &args.common;
        let mut config = c.config(c.password(true));
        config.ua.expires = Duration::from_secs(args.expires);
        // Only a long run handles Ctrl-C; otherwise it stops the process.
        let mut ctrl_c = match args.stay {
            true => Some(ctrl_c_armed().await),
            false => None,
        };
        let (ua, mut s) = match Session::start(c.output("register"), config, c.timeout) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let reg = match s.guarded(ua.register()).await {
            Ok(r) => r,
            Err(code) => return code,
        };
        s.out.event(
            "registered",
            &format!(
                "registered expires={}s bindings={}",
                reg.expires.as_secs(),
                reg.bindings.join(",")
            ),
            json!({ "expires": reg.expires.as_secs(), "bindings": reg.bindings }),
        );
        if let Some(ctrl_c) = &mut ctrl_c {
            s.out.enable_live();
            tokio::select! {
                _ = ctrl_c => {}
                why = s.until_failed() => return s.connection_failed(&why),
            }
        }
        if let Err(code) = s.guarded(ua.unregister()).await {
            return code;
        }
        s.finish(&ua, c.timeout).await;
        s.out.result(0, "ok", "unregistered", json!({}))
    })
}

/// Runs `sipws call`.
pub(crate) fn call(args: &CallArgs) -> ExitCode {
    block_on("call", async {
        let c = &args.common;
        let password = c.password(false);
        let registers = password.is_some();
        let (ua, mut s) = match Session::start(c.output("call"), c.config(password), c.timeout) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if registers {
            match s.guarded(ua.register()).await {
                Ok(r) => s.out.event(
                    "registered",
                    "registered",
                    json!({ "expires": r.expires.as_secs(), "bindings": r.bindings }),
                ),
                Err(code) => return code,
            }
        }
        let code = async {
            let offer = media::offer(args.sdp);
            let mut call = s.guarded(ua.call(&args.target, &offer)).await?;
            s.guarded(call.answered()).await?;
            s.out.event("answered", "answered", json!({}));
            if let Some(body) = &args.info {
                let r = s.guarded(call.info("text/plain", body.as_bytes())).await?;
                s.out.event(
                    "info",
                    &format!("INFO {} {}", r.status, r.reason),
                    json!({ "status": r.status, "reason": r.reason }),
                );
            }
            if let Some(d) = args.hangup_after {
                tokio::select! {
                    () = tokio::time::sleep(d) => {}
                    why = s.until_failed() => return Err(s.connection_failed(&why)),
                }
            }
            let why = s.guarded(call.hangup()).await?;
            Ok::<_, ExitCode>(why)
        }
        .await;
        let code = match code {
            Ok(why) => s.out.result(
                0,
                "ok",
                &format!("ended: {why}"),
                json!({ "ended": why.to_string() }),
            ),
            Err(code) => code,
        };
        s.finish(&ua, c.timeout).await;
        code
    })
}

/// Runs `sipws send`.
pub(crate) fn send(args: &SendArgs) -> ExitCode {
    let method = args.method.to_ascii_uppercase();
    block_on("send", async {
        let c = &args.common;
        let config = c.config(c.password(false));
        let (ua, mut s) = match Session::start(c.output("send"), config, c.timeout) {
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
        let code = answer_code(&mut s, op, false).await;
        s.finish(&ua, Duration::from_secs(2)).await;
        code
    })
}

/// Runs `sipws options`.
pub(crate) fn options(args: &OptionsArgs) -> ExitCode {
    block_on("options", async {
        let c = &args.common;
        let target = args
            .target
            .clone()
            .unwrap_or_else(|| format!("sip:{}", c.domain()));
        let (ua, mut s) = match Session::start(c.output("options"), c.config(None), c.timeout) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let op = ua.options(Target::Uri(target));
        let code = answer_code(&mut s, op, true).await;
        s.finish(&ua, Duration::from_secs(2)).await;
        code
    })
}

/// The final response as the result: exit 0 for a 2xx, else 1 (or 3
/// when the link gave up). With `rtt`, the round-trip time (request sent
/// to final response received, as the message trace saw them) is shown.
async fn answer_code(
    s: &mut Session,
    op: impl std::future::Future<Output = Result<sipws::ua::Response, UaApiError>>,
    rtt: bool,
) -> ExitCode {
    let r = match s.guarded(op).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    let rtt = match (rtt, s.last_request, s.last_final) {
        (true, Some(a), Some(b)) if b >= a => Some(b - a),
        _ => None,
    };
    if !r.is_success() {
        if let Some(why) = s.pump() {
            return s.connection_failed(&why);
        }
    }
    let mut human = format!("{} {}", r.status, r.reason);
    let mut fields = json!({ "status": r.status, "reason": r.reason });
    if let Some(rtt) = rtt {
        let ms = rtt.as_secs_f64() * 1000.0;
        human.push_str(&format!("  rtt={ms:.1}ms"));
        fields["rtt_ms"] = json!(ms);
    }
    let (exit, outcome) = if r.is_success() {
        (0, "ok")
    } else {
        (EXIT_SIP, "sip_failure")
    };
    s.out.result(exit, outcome, &human, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, call_id: &str, cseq: &str) -> Summary {
        let text = format!(
            "{method} sip:bob@sipws.test SIP/2.0\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\r\n"
        );
        Summary::parse(text.as_bytes()).expect("parses")
    }

    #[test]
    fn a_request_repeating_call_id_and_cseq_is_a_retransmission() {
        let mut seen = SeenRequests::default();
        assert!(seen.first_time(&request("INVITE", "a", "1 INVITE")));
        assert!(seen.first_time(&request("ACK", "a", "1 ACK")));
        // The ACK sent again for a retransmitted 200, with other LWS.
        assert!(!seen.first_time(&request("ACK", "a", "1  ACK")));
        assert!(!seen.first_time(&request("INVITE", "a", "1 INVITE")));
        assert!(seen.first_time(&request("BYE", "a", "2 BYE")));
        // Same CSeq in another call.
        assert!(seen.first_time(&request("BYE", "b", "2 BYE")));
        let response =
            Summary::parse(b"SIP/2.0 200 OK\r\nCall-ID: c\r\nCSeq: 1 BYE\r\n\r\n").expect("parses");
        assert!(!seen.first_time(&response));
    }
}
