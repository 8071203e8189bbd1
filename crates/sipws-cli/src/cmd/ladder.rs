//! The SIP ladder: how `sipws` shows SIP messages, shared by `sipws demo`
//! and the SIP commands (`register`, `call`, `send`, `options`, `listen`).
//!
//! [`Summary`] reads what a ladder line shows from one SIP message (start
//! line, CSeq, Call-ID, From/To, whether it carries credentials — never
//! their value); [`timestamp`] formats the time column. [`Output`] prints
//! a SIP command's run, in one of two forms:
//!
//! - **human** (default): one line per SIP message,
//!   `   0.012s → sip:sipws.test           REGISTER sip:sipws.test  CSeq: 1 REGISTER`
//!   (time since start, direction `→` sent / `←` received, the other
//!   party, start line and CSeq), a line per notable event (`registered
//!   expires=600s …`, `answered`, `link: reconnected …`) and a closing
//!   result line (`200 OK`, `unregistered`, `ended: hung up locally`).
//!   Coloured when stdout is a terminal (requests bold, 1xx dim, 2xx
//!   green, 3xx yellow, 4xx–6xx red), unless `NO_COLOR` is set or
//!   `--color never`; `--color always` forces it. Long runs (`register
//!   --stay`, `listen`) keep a live status line at the bottom of a
//!   terminal (link state, pings, pongs, reconnects, registrations,
//!   requests), rewritten in place;
//! - **`--json`**: JSON lines, no colour, no status line. Each object has
//!   `type` and `t` (seconds since start, a float):
//!   - `{"type":"message","t":0.012,"dir":"out"|"in","party":"sip:…",
//!     "start":"REGISTER sip:sipws.test","method":"REGISTER"|null,
//!     "status":401|null,"reason":"Unauthorized"|null,"cseq":"1 REGISTER",
//!     "call_id":"…","authorization":false}` — one per SIP message; a
//!     MESSAGE request also has `"body"` (its text, lossily decoded);
//!   - `{"type":"event","t":…,"event":"registered"|"unregistered"|
//!     "answered"|"info"|"incoming_call"|"call_confirmed"|"call_ended"|
//!     "link", …}` — notable steps, with fields of their own (`expires`,
//!     `bindings`, `status`, `reason`, `from`, `detail`);
//!   - `{"type":"result","t":…,"command":"register","outcome":"ok"|
//!     "sip_failure"|"usage"|"connection_failed"|"timeout",
//!     "exit":0,"message":"…"}` — exactly one, last, with the process exit
//!     code; commands add their own fields (`status`, `reason`, `rtt_ms`,
//!     `requests`).
//!
//! Messages that do not parse as SIP show as `(unparseable frame, N
//! bytes)`. Passwords and `Authorization` values never appear in either
//! form (`authorization: true` / `+Authorization` only says one was sent).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use sipws::ua::Direction;
use sipws_core::link::LinkEvent;
use sipws_core::message::{HeaderName, Limits, Message, NameAddr, Uri};
use sipws_core::router::{Priority, Router, Rule};

/// The time column: seconds since start, `  1.234s`.
pub(crate) fn timestamp(d: Duration) -> String {
    format!("{:>7.3}s", d.as_secs_f64())
}

/// What a ladder line shows of one SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    /// `METHOD request-uri` or `SIP/2.0 STATUS reason`.
    pub(crate) start: String,
    /// The method of a request.
    pub(crate) method: Option<String>,
    /// The status of a response.
    pub(crate) status: Option<u16>,
    /// The reason phrase of a response.
    pub(crate) reason: Option<String>,
    /// The CSeq value (`1 REGISTER`).
    pub(crate) cseq: Option<String>,
    /// The Call-ID.
    pub(crate) call_id: Option<String>,
    /// The From URI, `scheme:user@host` (no password, no parameters).
    pub(crate) from: Option<String>,
    /// The To URI, `scheme:user@host`.
    pub(crate) to: Option<String>,
    /// The user part of the To URI.
    pub(crate) to_user: Option<String>,
    /// Whether it carries an Authorization header (its value is not kept).
    pub(crate) authorized: bool,
    /// The body of a MESSAGE request, as text.
    pub(crate) message_body: Option<String>,
}

/// `scheme:user@host[:port]` of a From/To value (no display name,
/// password or parameters), or the value itself when it does not parse.
pub(crate) fn party_of(value: &str) -> String {
    short_uri(value).map_or_else(|| value.to_owned(), |u| u.0)
}

/// `scheme:user@host[:port]` of a From/To value: the parts a ladder shows.
fn short_uri(value: &str) -> Option<(String, Option<String>, String)> {
    let na = NameAddr::parse(value).ok()?;
    let uri = Uri::parse(na.uri).ok()?;
    let host = match uri.port {
        Some(p) => format!("{}:{p}", uri.host),
        None => uri.host.to_owned(),
    };
    let text = match uri.user {
        Some(u) => format!("{}:{u}@{host}", uri.scheme),
        None => format!("{}:{host}", uri.scheme),
    };
    Some((text, uri.user.map(str::to_owned), host))
}

impl Summary {
    /// Reads a SIP message; `None` when it does not parse.
    pub(crate) fn parse(data: &[u8]) -> Option<Summary> {
        let msg = Message::parse(data, &Limits::default()).ok()?;
        let start = match (msg.method(), msg.request_uri(), msg.status()) {
            (Some(m), Some(uri), _) => format!("{m} {uri}"),
            (_, _, Some(status)) => {
                format!("SIP/2.0 {status} {}", msg.reason().unwrap_or_default())
            }
            _ => String::from("?"),
        };
        let from = msg.header(HeaderName::From).and_then(short_uri);
        let to = msg.header(HeaderName::To).and_then(short_uri);
        let message_body = (msg.method() == Some("MESSAGE") && !msg.body().is_empty())
            .then(|| String::from_utf8_lossy(msg.body()).into_owned());
        Some(Summary {
            start,
            method: msg.method().map(str::to_owned),
            status: msg.status(),
            reason: msg
                .status()
                .map(|_| msg.reason().unwrap_or_default().to_owned()),
            cseq: msg.header(HeaderName::CSeq).map(str::to_owned),
            call_id: msg.header(HeaderName::CallId).map(str::to_owned),
            from: from.as_ref().map(|f| f.0.clone()),
            to_user: to.as_ref().and_then(|t| t.1.clone()),
            to: to.map(|t| t.0),
            authorized: msg.header(HeaderName::Authorization).is_some(),
            message_body,
        })
    }

    /// `START  CSeq: N METHOD` plus ` +Authorization` when credentials
    /// were sent: the message column of a ladder line.
    pub(crate) fn describe(&self) -> String {
        let auth = if self.authorized {
            " +Authorization"
        } else {
            ""
        };
        format!(
            "{}  CSeq: {}{auth}",
            self.start,
            self.cseq.as_deref().unwrap_or("-")
        )
    }

    /// Whether it is a request.
    pub(crate) fn is_request(&self) -> bool {
        self.method.is_some()
    }

    /// The CSeq method.
    fn cseq_method(&self) -> Option<&str> {
        self.cseq.as_deref()?.split_whitespace().nth(1)
    }

    /// The other party of a message seen from our side: the To of what we
    /// send and of the answers we get, the From of what we are sent and
    /// of the answers we give; for REGISTER, the registrar (`sip:DOMAIN`).
    pub(crate) fn party(&self, dir: Direction) -> String {
        let ours = matches!(
            (dir, self.is_request()),
            (Direction::Sent, true) | (Direction::Received, false)
        );
        let uri = if ours { &self.to } else { &self.from };
        let uri = uri.as_deref().unwrap_or("?");
        if self.cseq_method() == Some("REGISTER") {
            if let Some((scheme, rest)) = uri.split_once(':') {
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                return format!("{scheme}:{host}");
            }
        }
        uri.to_owned()
    }
}

/// When to colour the human output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always (even when piped).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// What the live status line counts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LiveStats {
    link: &'static str,
    pings: u32,
    pongs: u32,
    reconnects: u32,
    registrations: u32,
    requests: u32,
}

/// Prints one SIP command's run: ladder lines, events, the live status
/// line and the closing result (see the module docs for both forms).
#[derive(Debug)]
pub(crate) struct Output {
    command: &'static str,
    json: bool,
    color: bool,
    /// Keep a live status line (terminal, not JSON, asked for).
    live: bool,
    /// Whether the status line is on screen now.
    shown: bool,
    start: Instant,
    stats: LiveStats,
    /// `--route` rules: only messages one of them matches are shown.
    filter: Option<Router<()>>,
}

/// Whether a ladder line was printed, and what it was.
pub(crate) type Shown = Option<Summary>;

impl Output {
    /// Output for `sipws COMMAND`, JSON lines or human (coloured as
    /// `color` says).
    pub(crate) fn new(command: &'static str, json: bool, color: ColorChoice) -> Output {
        Output {
            command,
            json,
            color: !json && color.enabled(),
            live: false,
            shown: false,
            start: Instant::now(),
            stats: LiveStats {
                link: "connecting",
                pings: 0,
                pongs: 0,
                reconnects: 0,
                registrations: 0,
                requests: 0,
            },
            filter: None,
        }
    }

    /// From now on keep the live status line, when stdout is a terminal
    /// and the output is human.
    pub(crate) fn enable_live(&mut self) {
        self.live = !self.json && std::io::stdout().is_terminal();
        self.redraw();
    }

    /// Show only the messages one of these router rules (text grammar of
    /// `docs/router-rules.md`) matches; an error names the bad rule.
    pub(crate) fn set_filter(&mut self, rules: &[String]) -> Result<(), String> {
        if rules.is_empty() {
            return Ok(());
        }
        let mut router = Router::new();
        for text in rules {
            let rule = Rule::parse(text).map_err(|e| format!("--route {text:?}: {e}"))?;
            router.add(rule, (), Priority(0));
        }
        self.filter = Some(router);
        Ok(())
    }

    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn paint(&self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Prints one line above the status line.
    fn line(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        if self.shown {
            let _ = write!(out, "\r\x1b[2K");
            self.shown = false;
        }
        let _ = writeln!(out, "{text}");
        drop(out);
        self.redraw();
    }

    fn json_line(&mut self, value: &Value) {
        // A closed stdout (`| head`) is not an error of ours.
        let _ = writeln!(std::io::stdout().lock(), "{value}");
    }

    /// Rewrites the live status line.
    fn redraw(&mut self) {
        if !self.live {
            return;
        }
        let s = &self.stats;
        let text = format!(
            "[link {} | pings {} pongs {} | reconnects {} | registrations {} | requests {}]",
            s.link, s.pings, s.pongs, s.reconnects, s.registrations, s.requests
        );
        let text = self.paint("7", &text);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r\x1b[2K{text}");
        let _ = out.flush();
        self.shown = true;
    }

    /// Removes the status line for good.
    fn end_live(&mut self) {
        if self.shown {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
            self.shown = false;
        }
        self.live = false;
    }

    /// One SIP message sent or received, `elapsed` after start: a ladder
    /// line, unless a `--route` filter is set and no rule matches it.
    /// Returns what was shown.
    pub(crate) fn message(&mut self, elapsed: Duration, dir: Direction, data: &[u8]) -> Shown {
        if let Some(router) = &mut self.filter {
            let route = router.route(data);
            if route.rule().is_none() && route.taps().is_empty() {
                return None;
            }
        }
        let arrow = match dir {
            Direction::Sent => "→",
            Direction::Received => "←",
        };
        let Some(s) = Summary::parse(data) else {
            let what = format!("(unparseable frame, {} bytes)", data.len());
            if self.json {
                let v = json!({"type": "message", "t": elapsed.as_secs_f64(),
                    "dir": dir_name(dir), "start": what});
                self.json_line(&v);
            } else {
                self.line(&format!(
                    "{} {arrow} {:<24} {what}",
                    timestamp(elapsed),
                    "?"
                ));
            }
            return None;
        };
        if s.is_request() && dir == Direction::Received {
            self.stats.requests += 1;
        }
        let party = s.party(dir);
        if self.json {
            let mut v = json!({
                "type": "message",
                "t": elapsed.as_secs_f64(),
                "dir": dir_name(dir),
                "party": party,
                "start": s.start,
                "method": s.method,
                "status": s.status,
                "reason": s.reason,
                "cseq": s.cseq,
                "call_id": s.call_id,
                "authorization": s.authorized,
            });
            if let (Some(body), Some(obj)) = (&s.message_body, v.as_object_mut()) {
                obj.insert("body".into(), Value::String(body.clone()));
            }
            self.json_line(&v);
        } else {
            let sgr = match s.status {
                None => "1",
                Some(100..=199) => "2",
                Some(200..=299) => "32",
                Some(300..=399) => "33",
                Some(_) => "31",
            };
            let what = self.paint(sgr, &s.describe());
            self.line(&format!(
                "{} {arrow} {party:<24} {what}",
                timestamp(elapsed)
            ));
            if let Some(body) = &s.message_body {
                let body = body.replace(['\r', '\n'], " ");
                self.line(&format!("{:>8} {:<26} body: {body}", "", ""));
            }
        }
        Some(s)
    }

    /// A notable step: `human` as a line, or a JSON `event` object named
    /// `event` with `fields` added.
    pub(crate) fn event(&mut self, event: &str, human: &str, fields: Value) {
        if self.json {
            let mut obj = Map::new();
            obj.insert("type".into(), "event".into());
            obj.insert("t".into(), self.elapsed().into());
            obj.insert("event".into(), event.into());
            if let Value::Object(extra) = fields {
                obj.extend(extra);
            }
            self.json_line(&Value::Object(obj));
        } else {
            self.line(human);
        }
    }

    /// Link news: counted for the status line; death, reconnects and
    /// giving up are also shown as events.
    pub(crate) fn link(&mut self, e: &LinkEvent) {
        let shown = match e {
            LinkEvent::Connected { .. } => {
                self.stats.link = "up";
                false
            }
            LinkEvent::PingSent { .. } => {
                self.stats.pings += 1;
                false
            }
            LinkEvent::PongReceived { .. } => {
                self.stats.pongs += 1;
                false
            }
            LinkEvent::ConnectionDead { .. } | LinkEvent::Disconnected { .. } => {
                self.stats.link = "down";
                matches!(e, LinkEvent::ConnectionDead { .. })
            }
            LinkEvent::Reconnecting { .. } => {
                self.stats.link = "reconnecting";
                true
            }
            LinkEvent::Reconnected { .. } => {
                self.stats.link = "up";
                self.stats.reconnects += 1;
                true
            }
            LinkEvent::Failed { .. } => {
                self.stats.link = "failed";
                true
            }
            _ => false,
        };
        if shown {
            let detail = e.to_string();
            self.event(
                "link",
                &format!("{:>8} link: {detail}", ""),
                json!({ "detail": detail }),
            );
        } else {
            self.redraw();
        }
    }

    /// A registration (first or refresh or after a reconnect) succeeded.
    pub(crate) fn count_registration(&mut self) {
        self.stats.registrations += 1;
        self.redraw();
    }

    /// The closing result: `human` on stdout (exit 0 and 1) or as
    /// `sipws COMMAND: human` on stderr (usage and connection errors);
    /// with `--json` also one `result` object on stdout. Returns the exit
    /// code.
    pub(crate) fn result(
        &mut self,
        exit: u8,
        outcome: &str,
        human: &str,
        fields: Value,
    ) -> ExitCode {
        self.end_live();
        if self.json {
            let mut obj = Map::new();
            obj.insert("type".into(), "result".into());
            obj.insert("t".into(), self.elapsed().into());
            obj.insert("command".into(), self.command.into());
            obj.insert("outcome".into(), outcome.into());
            obj.insert("exit".into(), exit.into());
            obj.insert("message".into(), human.into());
            if let Value::Object(extra) = fields {
                obj.extend(extra);
            }
            self.json_line(&Value::Object(obj));
        }
        if exit >= 2 {
            let _ = writeln!(std::io::stderr().lock(), "sipws {}: {human}", self.command);
        } else if !self.json {
            let _ = writeln!(std::io::stdout().lock(), "{human}");
        }
        ExitCode::from(exit)
    }
}

fn dir_name(dir: Direction) -> &'static str {
    match dir {
        Direction::Sent => "out",
        Direction::Received => "in",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &[u8] = b"REGISTER sip:sipws.test SIP/2.0\r\n\
Via: SIP/2.0/WS h.invalid;branch=z9hG4bK1\r\n\
From: <sip:alice:secret@sipws.test>;tag=a\r\n\
To: \"Alice\" <sip:alice@sipws.test;transport=ws>\r\n\
Call-ID: c1\r\nCSeq: 2 REGISTER\r\n\
Authorization: Digest username=\"alice\", response=\"0123456789abcdef\"\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn summary_of_a_register_keeps_no_credentials() {
        let s = Summary::parse(REGISTER).expect("parses");
        assert_eq!(s.start, "REGISTER sip:sipws.test");
        assert_eq!(s.cseq.as_deref(), Some("2 REGISTER"));
        assert_eq!(s.call_id.as_deref(), Some("c1"));
        assert_eq!(s.from.as_deref(), Some("sip:alice@sipws.test"));
        assert_eq!(s.to.as_deref(), Some("sip:alice@sipws.test"));
        assert_eq!(s.to_user.as_deref(), Some("alice"));
        assert!(s.authorized);
        assert_eq!(
            s.describe(),
            "REGISTER sip:sipws.test  CSeq: 2 REGISTER +Authorization"
        );
        assert_eq!(s.party(Direction::Sent), "sip:sipws.test");
        let all = format!("{s:?}");
        assert!(!all.contains("secret") && !all.contains("0123456789abcdef"));
    }

    #[test]
    fn party_is_the_other_side() {
        let req = b"MESSAGE sip:bob@x.test SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK2\r\n\
From: <sip:alice@x.test>;tag=1\r\nTo: <sip:bob@x.test>\r\nCall-ID: m\r\nCSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
        let s = Summary::parse(req).expect("parses");
        assert_eq!(s.party(Direction::Sent), "sip:bob@x.test");
        assert_eq!(s.party(Direction::Received), "sip:alice@x.test");
        assert_eq!(s.message_body.as_deref(), Some("hi"));
        let resp = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS h;branch=z9hG4bK2\r\n\
From: <sip:alice@x.test>;tag=1\r\nTo: <sip:bob@x.test>;tag=2\r\nCall-ID: m\r\n\
CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
        let s = Summary::parse(resp).expect("parses");
        assert_eq!(s.party(Direction::Received), "sip:bob@x.test");
        assert_eq!(s.party(Direction::Sent), "sip:alice@x.test");
        assert_eq!(s.status, Some(200));
        assert_eq!(s.reason.as_deref(), Some("OK"));
        assert_eq!(s.message_body, None);
        assert_eq!(Summary::parse(b"not sip"), None);
    }

    #[test]
    fn filter_rules_parse_or_name_the_bad_one() {
        let mut out = Output::new("listen", true, ColorChoice::Never);
        assert!(out
            .set_filter(&["MESSAGE".into(), "tap: 4xx".into()])
            .is_ok());
        let err = out
            .set_filter(&["MESSAGE".into(), "status=abc".into()])
            .expect_err("bad rule");
        assert!(err.contains("status=abc"), "{err}");
    }
}
