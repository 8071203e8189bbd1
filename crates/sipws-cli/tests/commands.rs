//! The SIP commands of `sipws` as real processes against an in-process
//! testbed on loopback (real sockets): `register` (ok, wrong password,
//! no subprotocol, closed port, bad URL), `options` (round-trip time),
//! `send` MESSAGE to a `listen` process, `call` from one process to a
//! `listen --answer` process and to a `listen --reject 486` one, `call`
//! to the testbed's scripted peer with `--info`, `listen` answering the
//! scripted peer's call, NOTIFY and INFO, `--json` lines, `--route`
//! filtering, Ctrl-C and `--duration`, and `listen` across a dropped
//! connection and a link that gives up. Assertions are on lines and exit codes; every wait is
//! bounded, nothing is timed.

mod support;

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sipws_testbed::{SipConfig, Testbed, TestbedConfig, User};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use support::Run;

const LIMIT: Duration = Duration::from_secs(40);
const DOMAIN: &str = "sipws.test";

async fn testbed() -> Testbed {
    let users = ["alice", "bob"]
        .map(|u| User {
            name: u.to_owned(),
            password: format!("{u}-pw"),
        })
        .to_vec();
    Testbed::start(TestbedConfig {
        sip: SipConfig {
            domain: DOMAIN.to_owned(),
            users,
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    })
    .await
    .expect("testbed starts")
}

/// `--user U --domain D --password U-pw`.
fn who(user: &str) -> Vec<String> {
    vec![
        "--user".into(),
        user.into(),
        "--domain".into(),
        DOMAIN.into(),
        "--password".into(),
        format!("{user}-pw"),
    ]
}

fn command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sipws"));
    c.args(args)
        .env_remove("SIPWS_PASSWORD")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

async fn sipws(args: Vec<String>) -> Run {
    support::run(command(&args), LIMIT).await
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A running `sipws listen` whose stdout lines arrive as it prints them.
struct Listen {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Listen {
    /// Starts `sipws listen URL` as `user` with `extra` flags and waits
    /// until it is registered.
    async fn start(url: &str, user: &str, extra: &[&str]) -> Listen {
        let mut a = args(&["listen", url]);
        a.extend(who(user));
        a.extend(args(extra));
        let ready = if extra.contains(&"--json") {
            r#""event":"registered""#
        } else {
            "listening as"
        };
        Listen::spawn(a, ready).await
    }

    /// Starts `sipws ARGS` and waits for a line containing `ready`.
    async fn spawn(a: Vec<String>, ready: &str) -> Listen {
        let mut child = command(&a).spawn().expect("spawn sipws");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut l = Listen {
            child,
            lines: rx,
            seen: Vec::new(),
        };
        l.wait_for(ready).await;
        l
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    async fn interrupt(&self) {
        let pid = self.child.id().expect("still running");
        let status = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .await
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for a line containing `text`.
    async fn wait_for(&mut self, text: &str) {
        self.wait_for_all(&[text]).await;
    }

    /// Waits for a line containing each of `texts`.
    async fn wait_for_all(&mut self, texts: &[&str]) {
        let text = texts.join(" … ");
        let found = tokio::time::timeout(LIMIT, async {
            while let Some(line) = self.lines.recv().await {
                let hit = texts.iter().all(|t| line.contains(t));
                self.seen.push(line);
                if hit {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(
            found,
            Ok(true),
            "no line with {text:?}:\n{}",
            self.seen.join("\n")
        );
    }

    /// Waits for the process to exit; its code and every line.
    async fn finish(mut self) -> Run {
        let status = tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("sipws listen exits within the limit")
            .expect("wait");
        while let Some(line) = self.lines.recv().await {
            self.seen.push(line);
        }
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr).await;
        }
        Run {
            code: status.code(),
            stdout: self.seen.join("\n") + "\n",
            stderr,
        }
    }
}

/// The ladder lines (time, arrow) of a run.
fn ladder(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.contains(" → ") || l.contains(" ← "))
        .collect()
}

fn has(lines: &[&str], arrow: &str, what: &str) -> bool {
    lines
        .iter()
        .any(|l| l.contains(&format!(" {arrow} ")) && l.contains(what))
}

#[tokio::test]
async fn register_succeeds_and_each_failure_has_its_exit_code() {
    let tb = testbed().await;
    let url = tb.url();

    let mut a = args(&["register", &url, "--expires", "60"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert!(
        has(&l, "→", "REGISTER sip:sipws.test  CSeq: 1 REGISTER"),
        "{}",
        run.all()
    );
    assert!(
        has(&l, "←", "SIP/2.0 401 Unauthorized  CSeq: 1 REGISTER"),
        "{}",
        run.all()
    );
    assert!(
        has(&l, "→", "CSeq: 2 REGISTER +Authorization"),
        "{}",
        run.all()
    );
    assert!(
        has(&l, "←", "SIP/2.0 200 OK  CSeq: 2 REGISTER"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("registered expires=60s"),
        "{}",
        run.all()
    );
    assert_eq!(run.last_line(), "unregistered", "{}", run.all());
    assert!(!run.stdout.contains("alice-pw") && !run.stderr.contains("alice-pw"));
    assert!(!run.stdout.contains("\x1b["), "no colour when piped");

    // --color always: requests bold, 4xx red, 2xx green, even when piped.
    let mut a = args(&["register", &url, "--color", "always"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("\x1b[1mREGISTER sip:sipws.test"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("\x1b[31mSIP/2.0 401 Unauthorized"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("\x1b[32mSIP/2.0 200 OK"),
        "{}",
        run.all()
    );

    // Wrong password: the registrar keeps refusing; exit 1, said plainly.
    let run = sipws(args(&[
        "register",
        &url,
        "--user",
        "alice",
        "--domain",
        DOMAIN,
        "--password",
        "nope",
    ]))
    .await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.last_line().starts_with("registration failed: 40"),
        "{}",
        run.all()
    );
    assert!(
        run.last_line().contains("wrong user name or password"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("nope"), "{}", run.all());

    // Bad URL: usage, exit 2, before any connection.
    let run = sipws(args(&["register", "http://127.0.0.1:1", "--password", "x"])).await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("not a ws:// or wss:// URL"),
        "{}",
        run.all()
    );

    // Closed port: the link gives up, exit 3.
    let run = sipws(args(&[
        "register",
        "ws://127.0.0.1:1",
        "--password",
        "x",
        "--attempts",
        "1",
    ]))
    .await;
    assert_eq!(run.code, Some(3), "{}", run.all());
    assert!(run.stderr.contains("connection failed"), "{}", run.all());

    // The server does not agree on the `sip` subprotocol: exit 3.
    tb.handle().set_omit_subprotocol(true);
    let mut a = args(&["register", &url, "--attempts", "1"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(3), "{}", run.all());
    assert!(run.stderr.contains("connection failed"), "{}", run.all());
    assert!(
        run.stderr.to_lowercase().contains("subprotocol"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn options_prints_the_answer_and_its_round_trip_time() {
    let tb = testbed().await;
    let run = sipws(args(&["options", &tb.url(), "--domain", DOMAIN])).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert!(
        has(&l, "→", "OPTIONS sip:sipws.test  CSeq: 1 OPTIONS"),
        "{}",
        run.all()
    );
    assert!(
        has(&l, "←", "SIP/2.0 200 OK  CSeq: 1 OPTIONS"),
        "{}",
        run.all()
    );
    assert!(run.last_line().starts_with("200 OK  rtt="), "{}", run.all());
    assert!(run.last_line().ends_with("ms"), "{}", run.all());

    // --color always colours the ladder even when piped.
    let run = sipws(args(&[
        "options",
        &tb.url(),
        "--domain",
        DOMAIN,
        "--color",
        "always",
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("\x1b[32mSIP/2.0 200 OK"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn send_message_to_a_listener_which_prints_the_body() {
    let tb = testbed().await;
    let url = tb.url();
    let listen = Listen::start(&url, "bob", &["--count", "1"]).await;
    let mut a = args(&["send", &url, "sip:bob@sipws.test", "--body", "hello bob"]);
    a.extend(who("alice"));
    let send = sipws(a).await;
    assert_eq!(send.code, Some(0), "{}", send.all());
    assert!(
        has(&ladder(&send), "→", "MESSAGE sip:bob@sipws.test"),
        "{}",
        send.all()
    );
    assert_eq!(send.last_line(), "200 OK", "{}", send.all());

    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert!(has(&l, "←", "CSeq: 1 MESSAGE"), "{}", run.all());
    assert!(
        has(&l, "→", "SIP/2.0 200 OK  CSeq: 1 MESSAGE"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("body: hello bob"), "{}", run.all());
    assert!(run.stdout.contains("unregistered"), "{}", run.all());
    assert!(
        run.last_line().starts_with("stopped (count) after 1"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn call_to_a_listener_that_answers() {
    let tb = testbed().await;
    let url = tb.url();
    // INVITE, ACK, INFO, BYE.
    let listen = Listen::start(&url, "bob", &["--answer", "--count", "4"]).await;
    let mut a = args(&[
        "call",
        &url,
        "sip:bob@sipws.test",
        "--info",
        "one",
        "--hangup-after",
        "50ms",
    ]);
    a.extend(who("alice"));
    let call = sipws(a).await;
    assert_eq!(call.code, Some(0), "{}", call.all());
    let l = ladder(&call);
    assert!(has(&l, "→", "INVITE sip:bob@sipws.test"), "{}", call.all());
    assert!(
        has(&l, "←", "SIP/2.0 180 Ringing  CSeq: 1 INVITE"),
        "{}",
        call.all()
    );
    assert!(
        has(&l, "←", "SIP/2.0 200 OK  CSeq: 1 INVITE"),
        "{}",
        call.all()
    );
    assert!(has(&l, "→", "CSeq: 1 ACK"), "{}", call.all());
    assert!(has(&l, "→", "CSeq: 3 BYE"), "{}", call.all());
    assert!(call.stdout.contains("\nanswered\n"), "{}", call.all());
    assert!(call.stdout.contains("INFO 200 OK"), "{}", call.all());
    assert_eq!(call.last_line(), "ended: hung up locally", "{}", call.all());

    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert!(has(&l, "←", "CSeq: 1 INVITE"), "{}", run.all());
    assert!(
        has(&l, "→", "SIP/2.0 200 OK  CSeq: 1 INVITE"),
        "{}",
        run.all()
    );
    assert!(has(&l, "←", "CSeq: 1 ACK"), "{}", run.all());
    assert!(has(&l, "←", "CSeq: 3 BYE"), "{}", run.all());
    assert!(has(&l, "→", "SIP/2.0 200 OK  CSeq: 3 BYE"), "{}", run.all());
    assert!(
        run.stdout
            .contains("incoming call from sip:alice@sipws.test: answering 200"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("call confirmed (ACK received)"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("call ended: hung up by the peer"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn call_to_a_listener_that_rejects_exits_1() {
    let tb = testbed().await;
    let url = tb.url();
    let listen = Listen::start(&url, "bob", &["--reject", "486", "--count", "1"]).await;
    let mut a = args(&["call", &url, "sip:bob@sipws.test"]);
    a.extend(who("alice"));
    let call = sipws(a).await;
    assert_eq!(call.code, Some(1), "{}", call.all());
    assert!(
        has(&ladder(&call), "←", "SIP/2.0 486 Busy Here  CSeq: 1 INVITE"),
        "{}",
        call.all()
    );
    assert!(call.last_line().contains("486"), "{}", call.all());

    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("rejecting 486"), "{}", run.all());
    assert!(
        has(&ladder(&run), "→", "SIP/2.0 486 Busy Here  CSeq: 1 INVITE"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn call_to_the_scripted_peer_with_info() {
    let tb = testbed().await;
    let mut a = args(&[
        "call",
        &tb.url(),
        "sip:peer@sipws.test",
        "--info",
        "Signal=5",
    ]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert!(has(&l, "→", "INVITE sip:peer@sipws.test"), "{}", run.all());
    assert!(
        has(&l, "←", "SIP/2.0 200 OK  CSeq: 1 INVITE"),
        "{}",
        run.all()
    );
    assert!(
        has(&l, "←", "SIP/2.0 200 OK  CSeq: 2 INFO"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("INFO 200 OK"), "{}", run.all());
    assert_eq!(run.last_line(), "ended: hung up locally", "{}", run.all());
}

/// Every stdout line of a `--json` run, parsed.
fn json_lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}\n{}", run.all())))
        .collect()
}

#[tokio::test]
async fn json_lines_describe_messages_events_and_the_result() {
    let tb = testbed().await;
    let url = tb.url();
    let mut a = args(&["register", &url, "--json"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let v = json_lines(&run);
    let messages: Vec<&Value> = v.iter().filter(|o| o["type"] == "message").collect();
    assert!(messages.len() >= 6, "{}", run.all());
    let first = messages[0];
    assert_eq!(first["dir"], "out");
    assert_eq!(first["method"], "REGISTER");
    assert_eq!(first["start"], "REGISTER sip:sipws.test");
    assert_eq!(first["cseq"], "1 REGISTER");
    assert_eq!(first["party"], "sip:sipws.test");
    assert_eq!(first["authorization"], false);
    assert!(first["call_id"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(first["t"].as_f64().is_some());
    assert_eq!(messages[1]["dir"], "in");
    assert_eq!(messages[1]["status"], 401);
    assert_eq!(messages[1]["reason"], "Unauthorized");
    assert_eq!(messages[2]["authorization"], true);
    let reg = v
        .iter()
        .find(|o| o["event"] == "registered")
        .expect("event");
    assert!(reg["expires"].as_u64().is_some(), "{reg}");
    assert_eq!(reg["bindings"].as_array().map(Vec::len), Some(1), "{reg}");
    let last = v.last().expect("lines");
    assert_eq!(last["type"], "result");
    assert_eq!(last["command"], "register");
    assert_eq!(last["exit"], 0);
    assert_eq!(last["outcome"], "ok");
    assert_eq!(v.iter().filter(|o| o["type"] == "result").count(), 1);
    assert!(!run.stdout.contains("alice-pw"));

    let run = sipws(args(&["options", &url, "--domain", DOMAIN, "--json"])).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let last = json_lines(&run).pop().expect("lines");
    assert_eq!(last["status"], 200, "{last}");
    assert!(last["rtt_ms"].as_f64().is_some(), "{last}");

    let run = sipws(args(&[
        "register",
        &url,
        "--user",
        "alice",
        "--domain",
        DOMAIN,
        "--password",
        "nope",
        "--json",
    ]))
    .await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let last = json_lines(&run).pop().expect("lines");
    assert_eq!(last["exit"], 1, "{last}");
    assert_eq!(last["outcome"], "sip_failure", "{last}");

    let run = sipws(args(&[
        "options",
        "ws://127.0.0.1:1",
        "--attempts",
        "1",
        "--json",
    ]))
    .await;
    assert_eq!(run.code, Some(3), "{}", run.all());
    let last = json_lines(&run).pop().expect("lines");
    assert_eq!(last["exit"], 3, "{last}");
    assert_eq!(last["outcome"], "connection_failed", "{last}");

    // A MESSAGE's body is in its object, on both sides.
    let listen = Listen::start(&url, "bob", &["--count", "1", "--json"]).await;
    let mut a = args(&["send", &url, "sip:bob@sipws.test", "--body", "hi", "--json"]);
    a.extend(who("alice"));
    let send = sipws(a).await;
    assert_eq!(send.code, Some(0), "{}", send.all());
    let v = json_lines(&send);
    assert!(
        v.iter()
            .any(|o| o["method"] == "MESSAGE" && o["body"] == "hi"),
        "{}",
        send.all()
    );
    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let v = json_lines(&run);
    assert!(
        v.iter()
            .any(|o| o["dir"] == "in" && o["method"] == "MESSAGE" && o["body"] == "hi"),
        "{}",
        run.all()
    );
    assert_eq!(v.last().expect("lines")["requests"], 1);
}

#[tokio::test]
async fn route_rules_choose_what_listen_prints() {
    let tb = testbed().await;
    let url = tb.url();
    // Only MESSAGE requests are shown (and counted); OPTIONS is still
    // answered.
    let listen = Listen::start(&url, "bob", &["--route", "MESSAGE", "--count", "1"]).await;
    let mut a = args(&["send", &url, "sip:bob@sipws.test", "--method", "OPTIONS"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let mut a = args(&["send", &url, "sip:bob@sipws.test", "--body", "filtered"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert_eq!(l.len(), 1, "{}", run.all());
    assert!(has(&l, "←", "CSeq: 1 MESSAGE"), "{}", run.all());
    assert!(run.stdout.contains("body: filtered"), "{}", run.all());

    // A bad rule is a usage error.
    let mut a = args(&["listen", &url, "--route", "status=abc"]);
    a.extend(who("bob"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(run.stderr.contains("status=abc"), "{}", run.all());
}

#[tokio::test]
async fn listen_rides_out_a_dropped_connection_and_exits_3_when_the_link_gives_up() {
    let tb = testbed().await;
    let url = tb.url();
    let mut listen = Listen::start(&url, "bob", &["--attempts", "2"]).await;
    // Dropped without a close frame: reconnect and register again.
    tb.handle().drop_all();
    listen.wait_for("link: reconnected").await;
    listen
        .wait_for_all(&["← sip:sipws.test", "SIP/2.0 200 OK  CSeq:", "REGISTER"])
        .await;
    let mut a = args(&["send", &url, "sip:bob@sipws.test", "--body", "after"]);
    a.extend(who("alice"));
    let run = sipws(a).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    listen.wait_for("body: after").await;
    // Now every handshake is refused: the link gives up.
    tb.handle().refuse_next_handshakes(1000);
    tb.handle().drop_all();
    let run = listen.finish().await;
    assert_eq!(run.code, Some(3), "{}", run.all());
    assert!(run.stderr.contains("connection failed"), "{}", run.all());
}

#[tokio::test]
async fn ctrl_c_and_duration_end_long_runs_with_exit_0() {
    let tb = testbed().await;
    let url = tb.url();

    let listen = Listen::start(&url, "bob", &[]).await;
    listen.interrupt().await;
    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("\nunregistered\n"), "{}", run.all());
    assert!(
        run.last_line().starts_with("stopped (interrupted) after 0"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("\x1b["), "no status line when piped");

    let run = Listen::start(&url, "bob", &["--duration", "200ms"])
        .await
        .finish()
        .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.last_line().starts_with("stopped (duration)"),
        "{}",
        run.all()
    );

    let mut a = args(&["register", &url, "--stay"]);
    a.extend(who("alice"));
    let stay = Listen::spawn(a, "registered expires=").await;
    stay.interrupt().await;
    let run = stay.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(run.last_line(), "unregistered", "{}", run.all());
    assert!(
        has(&ladder(&run), "→", "CSeq: 3 REGISTER +Authorization"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn listen_answers_the_scripted_peer_call_notify_and_info() {
    let tb = testbed().await;
    let url = tb.url();
    // INVITE, ACK, NOTIFY (in the call), INFO (out of dialog).
    let mut listen = Listen::start(&url, "bob", &["--answer", "--count", "4"]).await;
    let call_id = tb
        .handle()
        .peer_call("sip:bob@sipws.test")
        .expect("peer calls");
    listen.wait_for("call confirmed (ACK received)").await;
    tb.handle()
        .peer_request(&call_id, "NOTIFY", Some("text/plain"), b"state=1")
        .expect("peer NOTIFY");
    listen
        .wait_for_all(&["→ ", "SIP/2.0 200 OK", "NOTIFY"])
        .await;
    tb.handle()
        .peer_request("sip:bob@sipws.test", "INFO", Some("text/plain"), b"x")
        .expect("peer INFO");
    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let l = ladder(&run);
    assert!(has(&l, "←", "CSeq: 1 INVITE"), "{}", run.all());
    assert!(
        has(&l, "→", "SIP/2.0 200 OK  CSeq: 1 INVITE"),
        "{}",
        run.all()
    );
    assert!(has(&l, "←", " NOTIFY"), "{}", run.all());
    assert!(has(&l, "←", " INFO"), "{}", run.all());
    assert!(
        l.iter()
            .any(|x| x.contains(" → ") && x.contains("200 OK") && x.contains(" INFO")),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("incoming call from sip:peer@sipws.test: answering 200"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn a_call_arriving_right_after_the_registration_is_answered() {
    let tb = testbed().await;
    let url = tb.url();
    let handle = tb.handle();
    let mut events = handle.subscribe();
    // The peer calls the moment the registrar has bound bob: the INVITE
    // reaches listen while it is still finishing its REGISTER.
    let caller = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(sipws_testbed::TestbedEvent::Registered { aor, .. })
                    if aor == "bob@sipws.test" =>
                {
                    return handle.peer_call("sip:bob@sipws.test").expect("peer calls");
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("testbed events: {e}"),
            }
        }
    });
    let mut a = args(&["listen", &url]);
    a.extend(who("bob"));
    a.extend(args(&["--answer", "--count", "2"]));
    // INVITE and ACK are the two inbound requests.
    let listen = Listen::spawn(a, "call confirmed (ACK received)").await;
    tokio::time::timeout(LIMIT, caller)
        .await
        .expect("the peer called")
        .expect("caller task");
    let run = listen.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        has(&ladder(&run), "→", "SIP/2.0 200 OK  CSeq: 1 INVITE"),
        "{}",
        run.all()
    );
}
