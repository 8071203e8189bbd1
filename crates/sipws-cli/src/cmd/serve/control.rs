//! The run-time commands of `sipws serve`, read line by line from its
//! standard input: switch faults, aim one-shot faults at connections,
//! steer the scripted peer, ask for the status.
//!
//! The grammar is [`GRAMMAR`] (also printed by `sipws serve --help` and
//! by the `help` command). Every command answers exactly one line
//! ([`Reply`]); what it causes shows up afterwards as ordinary event lines.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sipws_testbed::{ConnFaults, ConnId, Faults, TestbedHandle};

/// The command grammar, for `--help` and the `help` command.
pub(crate) const GRAMMAR: &str = "\
Run-time commands (one per line on standard input; each answers one line,
`ok: …` or `error: …`, or a JSON object with --json):
  drop-pongs on|off [CONN|all]     never answer CRLF pings (or answer again)
  pong-delay MS|off [CONN|all]     hold each pong back MS milliseconds
  pongs N|all [CONN|all]           answer only the first N pings of a connection
  close 1006 [CONN|all]            drop the TCP connection, no close frame
  close CODE [REASON] [CONN|all]   close cleanly with CODE (1000-4999) and REASON
  refuse N                         refuse the next N handshakes with HTTP 503
  no-subprotocol on|off            answer upgrades without Sec-WebSocket-Protocol
  stop-reading [CONN|all]          stop reading (half-open)
  resume-reading [CONN|all]        read again
  drop-registrations               forget every binding, as a restart would
  clear-faults                     every fault off, overrides removed
  ws-ping                          send a WebSocket Ping frame to every connection
  peer call USER                   the scripted peer calls a registered USER
  peer notify USER|CALL-ID [BODY]  NOTIFY (in the call's dialog for a Call-ID)
  peer info USER|CALL-ID BODY      INFO
  peer message USER|CALL-ID BODY   MESSAGE
  peer hangup [CALL-ID]            BYE (without CALL-ID: the peer's only call)
  status                           connections, registrations, peer calls, faults
  help                             this list
CONN is a connection number as printed in the event lines (`#3` or `3`);
without CONN|all a command applies to all connections, and a standing fault
(`all`) also applies to connections opened later, while a per-connection one
lasts as long as that connection. Empty lines and lines starting with `#`
are ignored. End of input does not stop the server (Ctrl-C or SIGTERM do).
With --json a reply is {\"reply\":\"ok\",\"command\":LINE,\"detail\":TEXT} or
{\"reply\":\"error\",\"command\":LINE,\"reason\":TEXT}; status adds \"data\"
(connections, registrations, peer_calls, faults).";

/// Which connections a command is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aim {
    /// Every connection (standing faults: also the ones opened later).
    All,
    /// One open connection.
    Conn(ConnId),
}

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Control {
    DropPongs(bool, Aim),
    PongDelay(Option<Duration>, Aim),
    Pongs(Option<u32>, Aim),
    /// `None`: 1006 (no close frame).
    Close(Option<u16>, String, Aim),
    Refuse(u32),
    NoSubprotocol(bool),
    StopReading(bool, Aim),
    DropRegistrations,
    ClearFaults,
    WsPing,
    PeerCall(String),
    /// Method, user or Call-ID, body.
    PeerRequest(&'static str, String, String),
    PeerHangup(Option<String>),
    Status,
    Help,
}

/// The one-line answer to a command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// The command line as given.
    pub(crate) command: String,
    /// What happened (`Ok`) or why nothing did (`Err`).
    pub(crate) outcome: Result<String, String>,
    /// Structured details (`status`), for JSON output.
    pub(crate) data: Option<Value>,
}

impl Reply {
    /// The line to print.
    pub(crate) fn line(&self, json: bool) -> String {
        if json {
            let mut v = match &self.outcome {
                Ok(detail) => json!({ "reply": "ok", "command": self.command, "detail": detail }),
                Err(reason) => {
                    json!({ "reply": "error", "command": self.command, "reason": reason })
                }
            };
            if let (Some(o), Some(data)) = (v.as_object_mut(), &self.data) {
                o.insert("data".into(), data.clone());
            }
            v.to_string()
        } else {
            match &self.outcome {
                Ok(detail) => format!("ok: {detail}"),
                Err(reason) => format!("error: {reason}"),
            }
        }
    }
}

/// A line split into words, keeping the rest of the line for bodies.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        let (word, rest) = s.split_at(end);
        self.rest = rest;
        Some(word)
    }

    /// Everything left, trimmed.
    fn rest(&mut self) -> &'a str {
        let s = self.rest.trim();
        self.rest = "";
        s
    }

    fn end(&mut self, command: &str) -> Result<(), String> {
        match self.next() {
            None => Ok(()),
            Some(w) => Err(format!("{command}: unexpected {w:?} (try help)")),
        }
    }
}

fn on_off(command: &str, word: Option<&str>) -> Result<bool, String> {
    match word {
        Some("on" | "true" | "yes") => Ok(true),
        Some("off" | "false" | "no") => Ok(false),
        Some(w) => Err(format!("{command}: expected on or off, not {w:?}")),
        None => Err(format!("{command}: expected on or off")),
    }
}

/// `#3`, `3` or `all`.
fn parse_aim(word: &str) -> Option<Aim> {
    if word.eq_ignore_ascii_case("all") {
        return Some(Aim::All);
    }
    word.strip_prefix('#')
        .unwrap_or(word)
        .parse()
        .ok()
        .map(|n| Aim::Conn(ConnId(n)))
}

/// An optional trailing `CONN|all`, then the end of the line.
fn aim(command: &str, words: &mut Words<'_>) -> Result<Aim, String> {
    let aim = match words.next() {
        None => Aim::All,
        Some(w) => parse_aim(w)
            .ok_or_else(|| format!("{command}: {w:?} is not a connection (#N, N or all)"))?,
    };
    words.end(command)?;
    Ok(aim)
}

fn number<T: std::str::FromStr>(
    command: &str,
    what: &str,
    word: Option<&str>,
) -> Result<T, String> {
    let w = word.ok_or_else(|| format!("{command}: expected {what}"))?;
    w.parse()
        .map_err(|_| format!("{command}: {w:?} is not {what}"))
}

/// Parses one line; `Ok(None)` for an empty line or a comment.
pub(crate) fn parse(line: &str) -> Result<Option<Control>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut words = Words { rest: line };
    let Some(command) = words.next() else {
        return Ok(None);
    };
    let c = command.to_ascii_lowercase();
    let control = match c.as_str() {
        "drop-pongs" => {
            let on = on_off(command, words.next())?;
            Control::DropPongs(on, aim(command, &mut words)?)
        }
        "pong-delay" => {
            let delay = match words.next() {
                Some("off" | "0") => None,
                w => Some(Duration::from_millis(number(
                    command,
                    "a number of milliseconds (or off)",
                    w,
                )?)),
            };
            Control::PongDelay(delay, aim(command, &mut words)?)
        }
        "pongs" => {
            let n = match words.next() {
                Some("all" | "off") => None,
                w => Some(number(command, "a number of pings (or all)", w)?),
            };
            Control::Pongs(n, aim(command, &mut words)?)
        }
        "close" => parse_close(command, &mut words)?,
        "refuse" => {
            let n = number(command, "a number of handshakes", words.next())?;
            words.end(command)?;
            Control::Refuse(n)
        }
        "no-subprotocol" => {
            let on = on_off(command, words.next())?;
            words.end(command)?;
            Control::NoSubprotocol(on)
        }
        "stop-reading" => Control::StopReading(true, aim(command, &mut words)?),
        "resume-reading" => Control::StopReading(false, aim(command, &mut words)?),
        "drop-registrations" => {
            words.end(command)?;
            Control::DropRegistrations
        }
        "clear-faults" => {
            words.end(command)?;
            Control::ClearFaults
        }
        "ws-ping" => {
            words.end(command)?;
            Control::WsPing
        }
        "peer" => parse_peer(&mut words)?,
        "status" => {
            words.end(command)?;
            Control::Status
        }
        "help" | "?" => Control::Help,
        _ => return Err(format!("unknown command {command:?} (try help)")),
    };
    Ok(Some(control))
}

fn parse_close(command: &str, words: &mut Words<'_>) -> Result<Control, String> {
    let code: u16 = number(command, "a close code (1006, or 1000-4999)", words.next())?;
    let mut rest: Vec<&str> = Vec::new();
    while let Some(w) = words.next() {
        rest.push(w);
    }
    // A last word that names connections is the aim; the words between
    // the code and it are the reason.
    let aim = match rest.last().and_then(|w| parse_aim(w)) {
        Some(a) => {
            rest.pop();
            a
        }
        None => Aim::All,
    };
    let reason = rest.join(" ");
    if code == 1006 {
        if !reason.is_empty() {
            return Err(format!(
                "{command}: 1006 carries no reason (no close frame)"
            ));
        }
        return Ok(Control::Close(None, reason, aim));
    }
    if !(1000..=4999).contains(&code) || matches!(code, 1004 | 1005 | 1015) {
        return Err(format!(
            "{command}: {code} cannot be sent in a close frame (use 1000-4999, or 1006 to drop)"
        ));
    }
    if reason.len() > 123 {
        return Err(format!("{command}: the reason is longer than 123 bytes"));
    }
    Ok(Control::Close(Some(code), reason, aim))
}

fn parse_peer(words: &mut Words<'_>) -> Result<Control, String> {
    let Some(what) = words.next() else {
        return Err("peer: expected call, notify, info, message or hangup".into());
    };
    let target = |words: &mut Words<'_>| {
        words
            .next()
            .map(str::to_owned)
            .ok_or_else(|| format!("peer {what}: expected a user or a Call-ID"))
    };
    Ok(match what.to_ascii_lowercase().as_str() {
        "call" => {
            let user = target(words)?;
            words.end("peer call")?;
            Control::PeerCall(user)
        }
        "notify" => {
            let t = target(words)?;
            Control::PeerRequest("NOTIFY", t, words.rest().to_owned())
        }
        "info" | "message" => {
            let t = target(words)?;
            let body = words.rest();
            if body.is_empty() {
                return Err(format!("peer {what}: expected a body"));
            }
            let method = if what.eq_ignore_ascii_case("info") {
                "INFO"
            } else {
                "MESSAGE"
            };
            Control::PeerRequest(method, t, body.to_owned())
        }
        "hangup" | "bye" => {
            let id = words.next().map(str::to_owned);
            words.end("peer hangup")?;
            Control::PeerHangup(id)
        }
        _ => {
            return Err(format!(
                "peer: unknown action {what:?} (call, notify, info, message, hangup)"
            ))
        }
    })
}

/// Runs a command on the testbed; the reply's outcome says what it did.
pub(crate) fn apply(
    handle: &TestbedHandle,
    control: &Control,
) -> (Result<String, String>, Option<Value>) {
    match control {
        Control::Status => {
            let (line, data) = status(handle);
            (Ok(line), Some(data))
        }
        other => (apply_action(handle, other), None),
    }
}

fn on_off_word(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// A per-connection override, or the standing fault (and no overrides).
fn fault(
    handle: &TestbedHandle,
    aim: Aim,
    what: &str,
    standing: impl FnOnce(&mut Faults),
    one: impl FnOnce(&mut ConnFaults),
    clear: impl Fn(&mut ConnFaults),
) -> Result<String, String> {
    match aim {
        Aim::All => {
            handle.update_faults(standing);
            for conn in handle.connections() {
                handle.update_conn_faults(conn, &clear);
            }
            Ok(format!("{what} (all connections)"))
        }
        Aim::Conn(conn) => {
            if handle.update_conn_faults(conn, one) {
                Ok(format!("{what} on {conn}"))
            } else {
                Err(format!("no open connection {conn}"))
            }
        }
    }
}

fn apply_action(handle: &TestbedHandle, control: &Control) -> Result<String, String> {
    match control {
        Control::DropPongs(on, aim) => fault(
            handle,
            *aim,
            &format!("drop-pongs {}", on_off_word(*on)),
            |f| f.drop_pongs = *on,
            |o| o.drop_pongs = Some(*on),
            |o| o.drop_pongs = None,
        ),
        Control::PongDelay(delay, aim) => {
            let what = match delay {
                Some(d) => format!("pong-delay {}ms", d.as_millis()),
                None => "pong-delay off".to_owned(),
            };
            fault(
                handle,
                *aim,
                &what,
                |f| f.pong_delay = *delay,
                |o| o.pong_delay = Some(*delay),
                |o| o.pong_delay = None,
            )
        }
        Control::Pongs(n, aim) => {
            let what = match n {
                Some(n) => format!("pongs {n}"),
                None => "pongs all".to_owned(),
            };
            fault(
                handle,
                *aim,
                &what,
                |f| f.answer_first_pings = *n,
                |o| o.answer_first_pings = Some(*n),
                |o| o.answer_first_pings = None,
            )
        }
        Control::StopReading(on, aim) => fault(
            handle,
            *aim,
            if *on {
                "stop-reading"
            } else {
                "resume-reading"
            },
            |f| f.stop_reading = *on,
            |o| o.stop_reading = Some(*on),
            |o| o.stop_reading = None,
        ),
        Control::Close(code, reason, aim) => {
            let what = match code {
                Some(c) => format!("close {c}"),
                None => "close 1006 (no close frame)".to_owned(),
            };
            match aim {
                Aim::All => {
                    let n = match code {
                        Some(c) => handle.close_all(*c, reason),
                        None => handle.drop_all(),
                    };
                    Ok(format!("{what}: {n} connection(s)"))
                }
                Aim::Conn(conn) => {
                    let done = match code {
                        Some(c) => handle.close_conn(*conn, *c, reason),
                        None => handle.drop_conn(*conn),
                    };
                    if done {
                        Ok(format!("{what}: {conn}"))
                    } else {
                        Err(format!("no open connection {conn}"))
                    }
                }
            }
        }
        Control::Refuse(n) => {
            handle.refuse_next_handshakes(*n);
            Ok(format!("refuse the next {n} handshake(s) with 503"))
        }
        Control::NoSubprotocol(on) => {
            handle.set_omit_subprotocol(*on);
            Ok(format!("no-subprotocol {}", on_off_word(*on)))
        }
        Control::DropRegistrations => {
            let n = handle.drop_registrations();
            Ok(format!("dropped {n} binding(s)"))
        }
        Control::ClearFaults => {
            handle.update_faults(|f| *f = Faults::default());
            handle.clear_conn_faults();
            Ok("every fault off".to_owned())
        }
        Control::WsPing => Ok(format!(
            "ws-ping: {} connection(s)",
            handle.ws_ping_all(b"sipws")
        )),
        Control::PeerCall(user) => handle
            .peer_call(user)
            .map(|id| format!("peer calls {user}: call-id={id}"))
            .map_err(|e| format!("peer call: {e}")),
        Control::PeerRequest(method, target, body) => {
            let ct = (!body.is_empty()).then_some("text/plain");
            handle
                .peer_request(target, method, ct, body.as_bytes())
                .map(|id| format!("peer sent {method} to {target}: call-id={id}"))
                .map_err(|e| format!("peer {}: {e}", method.to_ascii_lowercase()))
        }
        Control::PeerHangup(id) => {
            let id = match id {
                Some(id) => id.clone(),
                None => {
                    let calls = handle.peer_calls();
                    match calls.as_slice() {
                        [(id, _)] => id.clone(),
                        [] => return Err("peer hangup: the peer has no call".to_owned()),
                        _ => {
                            let ids: Vec<&str> = calls.iter().map(|(i, _)| i.as_str()).collect();
                            return Err(format!(
                                "peer hangup: several calls, name one: {}",
                                ids.join(" ")
                            ));
                        }
                    }
                }
            };
            handle
                .peer_hangup(&id)
                .map(|()| format!("peer hangs up call-id={id}"))
                .map_err(|e| format!("peer hangup: {e}"))
        }
        Control::Help => Ok(help_line()),
        Control::Status => Ok(String::new()),
    }
}

/// The commands' synopses on one line (the `help` command's answer).
fn help_line() -> String {
    GRAMMAR
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split("  ").next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The standing faults in words (`none` when none is on).
fn describe_faults(f: &Faults) -> Vec<String> {
    let mut v = Vec::new();
    if f.drop_pongs {
        v.push("drop-pongs".to_owned());
    }
    if let Some(d) = f.pong_delay {
        v.push(format!("pong-delay {}ms", d.as_millis()));
    }
    if let Some(n) = f.answer_first_pings {
        v.push(format!("pongs {n}"));
    }
    if f.refuse_handshakes > 0 {
        v.push(format!("refuse {}", f.refuse_handshakes));
    }
    if f.omit_subprotocol {
        v.push("no-subprotocol".to_owned());
    }
    if f.stop_reading {
        v.push("stop-reading".to_owned());
    }
    v
}

fn describe_overrides(o: &ConnFaults) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(on) = o.drop_pongs {
        v.push(format!("drop-pongs {}", on_off_word(on)));
    }
    if let Some(d) = o.pong_delay {
        v.push(match d {
            Some(d) => format!("pong-delay {}ms", d.as_millis()),
            None => "pong-delay off".to_owned(),
        });
    }
    if let Some(n) = o.answer_first_pings {
        v.push(match n {
            Some(n) => format!("pongs {n}"),
            None => "pongs all".to_owned(),
        });
    }
    if let Some(on) = o.stop_reading {
        v.push(if on { "stop-reading" } else { "resume-reading" }.to_owned());
    }
    v
}

fn status(handle: &TestbedHandle) -> (String, Value) {
    let now = Instant::now();
    let conns = handle.connections();
    let mut conn_words = Vec::new();
    let mut conn_data = Vec::new();
    for c in &conns {
        let overrides = handle
            .conn_faults(*c)
            .map(|o| describe_overrides(&o))
            .unwrap_or_default();
        if overrides.is_empty() {
            conn_words.push(c.to_string());
        } else {
            conn_words.push(format!("{c}({})", overrides.join(", ")));
        }
        conn_data.push(json!({ "conn": c.0, "faults": overrides }));
    }
    let bindings = handle.bindings();
    let mut reg_words = Vec::new();
    let mut reg_data = Vec::new();
    for (aor, b) in &bindings {
        let left = b.remaining(now);
        reg_words.push(format!("{aor} {} ({}, {left}s)", b.contact, b.conn));
        reg_data.push(json!({
            "aor": aor, "contact": b.contact, "conn": b.conn.0, "expires_in": left,
        }));
    }
    let calls = handle.peer_calls();
    let call_words: Vec<String> = calls
        .iter()
        .map(|(id, state)| format!("{id} ({state:?})"))
        .collect();
    let faults = describe_faults(&handle.faults());
    let none = |v: &[String], sep: &str| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(sep)
        }
    };
    let line = format!(
        "connections: {}; registrations: {}; peer calls: {}; faults: {}",
        none(&conn_words, " "),
        none(&reg_words, ", "),
        none(&call_words, ", "),
        none(&faults, ", "),
    );
    let data = json!({
        "connections": conn_data,
        "registrations": reg_data,
        "peer_calls": calls.iter().map(|(id, s)| json!({"call_id": id, "state": format!("{s:?}")})).collect::<Vec<_>>(),
        "faults": faults,
    });
    (line, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Control {
        parse(line).unwrap().unwrap()
    }

    #[test]
    fn fault_commands_parse() {
        assert_eq!(ok("drop-pongs on"), Control::DropPongs(true, Aim::All));
        assert_eq!(
            ok("  drop-pongs off #3 "),
            Control::DropPongs(false, Aim::Conn(ConnId(3)))
        );
        assert_eq!(
            ok("pong-delay 250 2"),
            Control::PongDelay(Some(Duration::from_millis(250)), Aim::Conn(ConnId(2)))
        );
        assert_eq!(ok("pong-delay off"), Control::PongDelay(None, Aim::All));
        assert_eq!(ok("pongs 2 all"), Control::Pongs(Some(2), Aim::All));
        assert_eq!(ok("pongs all"), Control::Pongs(None, Aim::All));
        assert_eq!(ok("refuse 3"), Control::Refuse(3));
        assert_eq!(ok("no-subprotocol on"), Control::NoSubprotocol(true));
        assert_eq!(
            ok("stop-reading #1"),
            Control::StopReading(true, Aim::Conn(ConnId(1)))
        );
        assert_eq!(ok("resume-reading"), Control::StopReading(false, Aim::All));
        assert_eq!(ok("drop-registrations"), Control::DropRegistrations);
        assert_eq!(ok("STATUS"), Control::Status);
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# a comment").unwrap(), None);
    }

    #[test]
    fn close_takes_a_reason_and_an_aim() {
        assert_eq!(
            ok("close 1006"),
            Control::Close(None, String::new(), Aim::All)
        );
        assert_eq!(
            ok("close 1006 #4"),
            Control::Close(None, String::new(), Aim::Conn(ConnId(4)))
        );
        assert_eq!(
            ok("close 4000 going away now #2"),
            Control::Close(Some(4000), "going away now".into(), Aim::Conn(ConnId(2)))
        );
        assert_eq!(
            ok("close 1001 bye"),
            Control::Close(Some(1001), "bye".into(), Aim::All)
        );
        assert!(parse("close 1005").is_err());
        assert!(parse("close 999").is_err());
        assert!(parse("close 1006 why").is_err());
        assert!(parse("close").is_err());
    }

    #[test]
    fn peer_commands_keep_the_body_whole() {
        assert_eq!(ok("peer call alice"), Control::PeerCall("alice".into()));
        assert_eq!(
            ok("peer message alice hello  there"),
            Control::PeerRequest("MESSAGE", "alice".into(), "hello  there".into())
        );
        assert_eq!(
            ok("peer notify bob"),
            Control::PeerRequest("NOTIFY", "bob".into(), String::new())
        );
        assert_eq!(ok("peer hangup"), Control::PeerHangup(None));
        assert_eq!(
            ok("peer hangup abc@h"),
            Control::PeerHangup(Some("abc@h".into()))
        );
        assert!(parse("peer info alice").is_err());
        assert!(parse("peer dance").is_err());
        assert!(parse("peer").is_err());
    }

    #[test]
    fn bad_lines_say_why() {
        let e = parse("explode now").unwrap_err();
        assert!(e.contains("unknown command \"explode\""), "{e}");
        assert!(parse("drop-pongs maybe").unwrap_err().contains("on or off"));
        assert!(parse("drop-pongs on #x")
            .unwrap_err()
            .contains("not a connection"));
        assert!(parse("refuse many").unwrap_err().contains("not a number"));
        assert!(parse("status now").unwrap_err().contains("unexpected"));
    }

    #[test]
    fn replies_are_one_line() {
        let r = Reply {
            command: "x".into(),
            outcome: Err("unknown command \"x\"".into()),
            data: None,
        };
        assert_eq!(r.line(false), "error: unknown command \"x\"");
        let v: Value = serde_json::from_str(&r.line(true)).unwrap();
        assert_eq!(v["reply"], "error");
        assert!(!GRAMMAR.is_empty());
        let help = help_line();
        assert!(!help.contains('\n'));
        assert!(help.contains("drop-pongs on|off [CONN|all]"), "{help}");
        assert!(help.contains("peer hangup [CALL-ID]"), "{help}");
    }
}
