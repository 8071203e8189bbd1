//! Every testbed fault driven through the command line: `sipws serve`
//! runs as a real process, faults are switched by writing commands to its
//! standard input, and `sipws connect` / `sipws register` run against it
//! as real processes on 127.0.0.1. The assertions are on printed events
//! and exit codes; every wait is bounded by a generous limit, none is
//! timed.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// Bound of every wait (generous: the machine may be busy).
const LIMIT: Duration = Duration::from_secs(40);

/// A running `sipws` process and its stdout lines, parsed as JSON.
struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: mpsc::UnboundedReceiver<String>,
    /// Every stdout line read so far, for failure messages.
    seen: Vec<String>,
    /// Stderr lines read after the exit.
    stderr_done: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn sipws");
        let lines = forward(child.stdout.take().expect("stdout"));
        let stderr = forward(child.stderr.take().expect("stderr"));
        Proc {
            name: args.first().copied().unwrap_or("sipws").to_owned(),
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            seen: Vec::new(),
            stderr_done: Vec::new(),
        }
    }

    /// The next stdout line.
    async fn line(&mut self) -> String {
        match tokio::time::timeout(LIMIT, self.lines.recv()).await {
            Ok(Some(l)) => {
                self.seen.push(l.clone());
                l
            }
            Ok(None) => {
                let stderr = self.stderr_text();
                panic!(
                    "sipws {} ended; stdout:\n{}\nstderr:\n{stderr}",
                    self.name,
                    self.seen.join("\n"),
                )
            }
            Err(_) => panic!(
                "sipws {}: no line within {LIMIT:?}; stdout:\n{}",
                self.name,
                self.seen.join("\n")
            ),
        }
    }

    /// Reads JSON lines until one satisfies `pred` (within `LIMIT` in
    /// all); returns it.
    async fn until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(LIMIT, async {
            loop {
                let line = self.line().await;
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if pred(&v) {
                        return v;
                    }
                }
            }
        })
        .await;
        match found {
            Ok(v) => v,
            Err(_) => panic!(
                "sipws {}: no {what} within {LIMIT:?} in:\n{}",
                self.name,
                self.seen.join("\n")
            ),
        }
    }

    /// Reads until an event named `name`; returns it.
    async fn event(&mut self, name: &str) -> Value {
        self.until(name, |v| v["event"] == name).await
    }

    /// Sends a command line to `sipws serve` and returns its JSON reply
    /// (the events before it are skipped).
    async fn command(&mut self, line: &str) -> Value {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write a command");
        stdin.flush().await.expect("flush");
        self.until(&format!("reply to {line:?}"), |v| v.get("reply").is_some())
            .await
    }

    /// Sends a command that must succeed; returns its detail.
    async fn ok(&mut self, line: &str) -> String {
        let reply = self.command(line).await;
        assert_eq!(reply["reply"], "ok", "{line:?} → {reply}");
        assert_eq!(reply["command"], line.trim());
        reply["detail"].as_str().unwrap_or_default().to_owned()
    }

    fn stderr_text(&mut self) -> String {
        let mut s = self.stderr_done.join("\n");
        s.push('\n');
        while let Ok(l) = self.stderr.try_recv() {
            s.push_str(&l);
            s.push('\n');
        }
        s
    }

    /// Sends a signal (by number) and waits for the exit code.
    async fn signal_and_wait(&mut self, sig: &str) -> Option<i32> {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("run kill");
        assert!(status.success());
        self.wait().await
    }

    /// Waits for the exit code (draining stdout so it cannot block).
    async fn wait(&mut self) -> Option<i32> {
        let status = tokio::time::timeout(LIMIT, async {
            loop {
                tokio::select! {
                    s = self.child.wait() => return s.expect("wait"),
                    l = self.lines.recv() => if let Some(l) = l { self.seen.push(l) },
                }
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "sipws {} did not exit; stdout:\n{}",
                self.name,
                self.seen.join("\n")
            )
        });
        // The process is gone: its stdout and stderr end soon.
        let _ = tokio::time::timeout(LIMIT, async {
            while let Some(l) = self.lines.recv().await {
                self.seen.push(l);
            }
            while let Some(l) = self.stderr.recv().await {
                self.stderr_done.push(l);
            }
        })
        .await;
        status.code()
    }
}

fn forward(
    r: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// `sipws serve --json` with users alice and bob; returns it and its URL.
async fn serve(extra: &[&str]) -> (Proc, String) {
    let mut args = vec![
        "serve",
        "--json",
        "--domain",
        "sipws.test",
        "--user",
        "alice:alice-secret",
        "--user",
        "bob:bob-secret",
    ];
    args.extend_from_slice(extra);
    let mut p = Proc::spawn(&args);
    let url = p.line().await;
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    (p, url)
}

/// `sipws connect --json` with short keepalive timers: ping after 300 ms
/// of quiet, dead after 2 unanswered pings, reconnect after 200 ms.
fn connect(url: &str, extra: &[&str]) -> Proc {
    let defaults = [
        ("--idle", "300ms"),
        ("--first-retry", "300ms"),
        ("--retry", "300ms"),
        ("--max-unanswered", "2"),
        ("--fallback", "none"),
        ("--delays", "200ms"),
        ("--reconnect-jitter", "0"),
    ];
    let mut args = vec!["connect", url, "--json"];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    Proc::spawn(&args)
}

#[tokio::test]
async fn drop_pongs_makes_the_connection_dead_then_it_reconnects() {
    let (mut serve, url) = serve(&[]).await;
    let mut c = connect(&url, &[]);
    c.event("connected").await;
    c.event("pong_received").await;
    assert_eq!(
        serve.ok("drop-pongs on").await,
        "drop-pongs on (all connections)"
    );
    let dead = c.event("connection_dead").await;
    assert!(
        dead["reason"]
            .as_str()
            .unwrap()
            .contains("2 keepalive pings unanswered"),
        "{dead}"
    );
    serve
        .until("pong withheld", |v| {
            v["event"] == "pong-withheld" && v["reason"] == "DropPongs"
        })
        .await;
    serve.ok("drop-pongs off").await;
    c.event("reconnected").await;
    c.event("pong_received").await;
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
    assert_eq!(serve.signal_and_wait("-TERM").await, Some(0));
}

#[tokio::test]
async fn drop_pongs_on_one_connection_spares_the_others() {
    let (mut serve, url) = serve(&[]).await;
    let mut c = connect(&url, &[]);
    let up = serve.event("upgraded").await;
    let conn = up["conn"].as_u64().unwrap();
    c.event("pong_received").await;
    serve.ok(&format!("drop-pongs on #{conn}")).await;
    let status = serve.command("status").await;
    assert!(
        status["detail"].as_str().unwrap().contains("drop-pongs on"),
        "{status}"
    );
    assert_eq!(
        status["data"]["faults"].as_array().unwrap().len(),
        0,
        "{status}"
    );
    c.event("connection_dead").await;
    // The new connection follows the standing faults: it is answered.
    c.event("reconnected").await;
    c.event("pong_received").await;
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn pong_delay_holds_every_pong_back() {
    let (mut serve, url) = serve(&["--pong-delay-ms", "100"]).await;
    serve.ok("pong-delay 400").await;
    // The next ping waits 1 s: each delayed pong comes before it.
    let mut c = connect(
        &url,
        &["--first-retry", "1s", "--retry", "1s", "--pongs", "2"],
    );
    for _ in 0..2 {
        let pong = c.event("pong_received").await;
        assert!(pong["rtt_ms"].as_u64().unwrap() >= 400, "{pong}");
    }
    assert_eq!(c.wait().await, Some(0));
    let sent = serve.event("pong").await;
    assert_eq!(sent["delay_ms"], 400);
    serve.ok("pong-delay off").await;
}

#[tokio::test]
async fn pongs_n_answers_only_the_first_pings_of_each_connection() {
    let (mut serve, url) = serve(&[]).await;
    serve.ok("pongs 2").await;
    let mut c = connect(&url, &[]);
    c.event("connected").await;
    let mut pongs = 0;
    loop {
        let v = c
            .until("pong or death", |v| {
                v["event"] == "pong_received" || v["event"] == "connection_dead"
            })
            .await;
        if v["event"] == "connection_dead" {
            break;
        }
        pongs += 1;
    }
    assert_eq!(pongs, 2, "{}", c.seen.join("\n"));
    serve
        .until("budget spent", |v| {
            v["event"] == "pong-withheld" && v["reason"] == "PingBudgetSpent"
        })
        .await;
    serve.ok("pongs all").await;
    c.event("reconnected").await;
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn close_1006_is_an_abnormal_close_and_connect_reconnects() {
    let (mut serve, url) = serve(&[]).await;
    let mut c = connect(&url, &["--idle", "10s"]);
    c.event("connected").await;
    serve.event("upgraded").await;
    assert_eq!(
        serve.ok("close 1006").await,
        "close 1006 (no close frame): 1 connection(s)"
    );
    serve.event("dropped-1006").await;
    let gone = c.event("disconnected").await;
    assert!(gone["reason"].as_str().unwrap().contains("1006"), "{gone}");
    c.event("reconnecting").await;
    c.event("reconnected").await;
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn clean_close_reports_the_code_and_reason() {
    let (mut serve, url) = serve(&[]).await;
    let mut c = connect(&url, &["--idle", "10s"]);
    c.event("connected").await;
    let up = serve.event("upgraded").await;
    let conn = up["conn"].as_u64().unwrap();
    serve
        .ok(&format!("close 4000 down for maintenance #{conn}"))
        .await;
    let sent = serve.event("close-sent").await;
    assert_eq!(sent["code"], 4000);
    let gone = c.event("disconnected").await;
    let reason = gone["reason"].as_str().unwrap();
    assert!(reason.contains("4000"), "{gone}");
    assert!(reason.contains("down for maintenance"), "{gone}");
    let bad = serve.command("close 1005").await;
    assert_eq!(bad["reply"], "error", "{bad}");
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn refused_handshakes_exhaust_few_attempts_and_more_attempts_recover() {
    let (mut serve, url) = serve(&[]).await;
    serve.ok("refuse 10").await;
    let mut c = connect(&url, &["--max-attempts", "2"]);
    let failed = c.event("connect_failed").await;
    assert!(
        failed["reason"].as_str().unwrap().contains("503"),
        "{failed}"
    );
    assert_eq!(c.wait().await, Some(3), "{}", c.seen.join("\n"));
    assert!(
        c.seen.iter().any(|l| l.contains("\"failed\"")),
        "{}",
        c.seen.join("\n")
    );
    assert!(c.stderr_text().contains("503"));
    serve.event("handshake-refused").await;

    serve.ok("refuse 2").await;
    let mut c = connect(&url, &["--max-attempts", "5"]);
    c.event("connected").await;
    let refusals = c
        .seen
        .iter()
        .filter(|l| l.contains("connect_failed"))
        .count();
    assert_eq!(refusals, 2, "{}", c.seen.join("\n"));
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn no_subprotocol_fails_the_connection_with_exit_3() {
    let (mut serve, url) = serve(&[]).await;
    serve.ok("no-subprotocol on").await;
    let mut c = connect(&url, &["--max-attempts", "1"]);
    let failed = c.event("connect_failed").await;
    assert!(
        failed["reason"].as_str().unwrap().contains("subprotocol"),
        "{failed}"
    );
    assert_eq!(c.wait().await, Some(3));
    assert!(c.stderr_text().contains("subprotocol"));
    let up = serve.event("upgraded").await;
    assert!(up["protocol"].is_null(), "{up}");

    serve.ok("no-subprotocol off").await;
    let mut c = connect(&url, &["--max-attempts", "1", "--pongs", "1"]);
    c.event("connected").await;
    assert_eq!(c.wait().await, Some(0));
}

#[tokio::test]
async fn stop_reading_one_connection_makes_it_dead() {
    let (mut serve, url) = serve(&[]).await;
    let mut c = connect(&url, &[]);
    let up = serve.event("upgraded").await;
    let conn = up["conn"].as_u64().unwrap();
    c.event("pong_received").await;
    serve.ok(&format!("stop-reading {conn}")).await;
    serve.event("reading-stopped").await;
    c.event("connection_dead").await;
    c.event("reconnected").await;
    c.event("pong_received").await;
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn dropped_registrations_come_back_after_a_reconnect_and_the_peer_reaches_the_client() {
    let (mut serve, url) = serve(&[]).await;
    let mut reg = Proc::spawn(&[
        "register",
        &url,
        "--user",
        "alice",
        "--domain",
        "sipws.test",
        "--password",
        "alice-secret",
        "--stay",
    ]);
    loop {
        let line = reg.line().await;
        if line.starts_with("registered") {
            break;
        }
    }
    serve.event("registered").await;

    assert_eq!(serve.ok("drop-registrations").await, "dropped 1 binding(s)");
    let gone = serve.event("unregistered").await;
    assert!(
        gone["reason"].as_str().unwrap().contains("restart"),
        "{gone}"
    );
    let refused = serve.command("peer call alice").await;
    assert_eq!(refused["reply"], "error");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("not registered"),
        "{refused}"
    );

    // A dropped connection makes the client reconnect and register again.
    serve.ok("close 1006").await;
    let again = serve.event("registered").await;
    assert_eq!(again["aor"], "alice@sipws.test");
    let status = serve.command("status").await;
    assert_eq!(
        status["data"]["registrations"][0]["aor"], "alice@sipws.test",
        "{status}"
    );

    let sent = serve.ok("peer message alice hello from the peer").await;
    assert!(sent.contains("MESSAGE"), "{sent}");
    let answer = serve
        .until("answer to MESSAGE", |v| {
            v["event"] == "peer-response" && v["method"] == "MESSAGE"
        })
        .await;
    assert_eq!(answer["status"], 200, "{answer}");

    serve.ok("peer notify alice state=1").await;
    serve
        .until("answer to NOTIFY", |v| {
            v["event"] == "peer-response" && v["method"] == "NOTIFY"
        })
        .await;

    let called = serve.ok("peer call alice").await;
    assert!(called.contains("call-id=peer-"), "{called}");
    serve
        .until("peer call", |v| v["event"] == "peer-call")
        .await;
    let status = serve.command("status").await;
    assert_eq!(
        status["data"]["peer_calls"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );

    assert_eq!(reg.signal_and_wait("-INT").await, Some(0));
    serve
        .until("un-REGISTER", |v| {
            v["event"] == "unregistered" && v["aor"] == "alice@sipws.test"
        })
        .await;
}

#[tokio::test]
async fn unknown_commands_and_end_of_input_do_not_stop_the_server() {
    let (mut serve, url) = serve(&["--refuse", "1"]).await;
    let reply = serve.command("explode now").await;
    assert_eq!(reply["reply"], "error");
    assert!(
        reply["reason"]
            .as_str()
            .unwrap()
            .contains("unknown command"),
        "{reply}"
    );
    let reply = serve.command("drop-pongs sideways").await;
    assert_eq!(reply["reply"], "error");
    let help = serve.ok("help").await;
    assert!(help.contains("peer call USER"), "{help}");
    let status = serve.ok("status").await;
    assert!(status.contains("faults: refuse 1"), "{status}");
    // End of input: the server keeps serving.
    drop(serve.stdin.take());
    let mut c = connect(&url, &["--pongs", "1", "--max-attempts", "3"]);
    c.event("connect_failed").await;
    c.event("connected").await;
    assert_eq!(c.wait().await, Some(0));
    assert_eq!(serve.signal_and_wait("-TERM").await, Some(0));
}

#[tokio::test]
async fn text_replies_are_one_line_each() {
    let mut p = Proc::spawn(&["serve"]);
    let url = p.line().await;
    assert!(url.starts_with("ws://"), "{url}");
    let stdin = p.stdin.as_mut().unwrap();
    stdin
        .write_all(b"drop-pongs on\n\n# comment\nbogus\nstatus\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    assert_eq!(p.line().await, "ok: drop-pongs on (all connections)");
    assert_eq!(
        p.line().await,
        "error: unknown command \"bogus\" (try help)"
    );
    assert_eq!(
        p.line().await,
        "ok: connections: none; registrations: none; peer calls: none; faults: drop-pongs"
    );
    assert_eq!(p.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn peer_commands_reach_a_listening_client() {
    let (mut serve, url) = serve(&[]).await;
    let mut listen = Proc::spawn(&[
        "listen",
        &url,
        "--user",
        "alice",
        "--domain",
        "sipws.test",
        "--password",
        "alice-secret",
        "--answer",
        "--json",
    ]);
    serve.event("registered").await;
    // `listen` handles incoming calls once it printed its registration
    // (what arrives before is printed only).
    listen.event("registered").await;

    let called = serve.ok("peer call alice").await;
    let call_id = called
        .split("call-id=")
        .nth(1)
        .expect("the reply names the Call-ID")
        .to_owned();
    serve
        .until("confirmed peer call", |v| {
            v["event"] == "peer-call"
                && v["call_id"] == call_id.as_str()
                && v["state"] == "Confirmed"
        })
        .await;

    for (command, method) in [
        (format!("peer info {call_id} Signal=5"), "INFO"),
        (format!("peer notify {call_id} state=1"), "NOTIFY"),
        ("peer message alice hello there".to_owned(), "MESSAGE"),
    ] {
        serve.ok(&command).await;
        let answer = serve
            .until(&format!("answer to {method}"), |v| {
                v["event"] == "peer-response" && v["method"] == method
            })
            .await;
        assert_eq!(answer["status"], 200, "{command}: {answer}");
    }
    // The listener printed the MESSAGE it was sent.
    listen
        .until("the MESSAGE", |v| v.to_string().contains("hello there"))
        .await;

    let hung = serve.ok("peer hangup").await;
    assert!(hung.contains(&call_id), "{hung}");
    let bye = serve
        .until("answer to BYE", |v| {
            v["event"] == "peer-response" && v["method"] == "BYE"
        })
        .await;
    assert_eq!(bye["status"], 200, "{bye}");
    let none = serve.command("peer hangup").await;
    assert_eq!(none["reply"], "error", "{none}");

    assert_eq!(listen.signal_and_wait("-INT").await, Some(0));
    assert_eq!(serve.signal_and_wait("-TERM").await, Some(0));
}

#[tokio::test]
async fn drop_after_drops_every_connection_and_connect_reconnects() {
    let (mut serve, url) = serve(&["--drop-after", "300ms"]).await;
    // Every connection is dropped: many attempts, so the link never gives
    // up before the test stops it.
    let mut c = connect(&url, &["--idle", "10s", "--max-attempts", "1000"]);
    c.event("connected").await;
    serve.event("dropped-1006").await;
    let gone = c.event("disconnected").await;
    assert!(gone["reason"].as_str().unwrap().contains("1006"), "{gone}");
    c.event("reconnected").await;
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}

#[tokio::test]
async fn standing_faults_show_in_status_and_clear_faults_ends_them() {
    let (mut serve, url) = serve(&["--drop-pongs", "--pongs", "3", "--stop-reading"]).await;
    let status = serve.ok("status").await;
    assert!(
        status.ends_with("faults: drop-pongs, pongs 3, stop-reading"),
        "{status}"
    );
    serve.ok("resume-reading").await;
    serve.ok("no-subprotocol on").await;
    serve.ok("refuse 4").await;
    let status = serve.command("status").await;
    let faults: Vec<&str> = status["data"]["faults"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        faults,
        ["drop-pongs", "pongs 3", "refuse 4", "no-subprotocol"],
        "{status}"
    );
    assert_eq!(serve.ok("clear-faults").await, "every fault off");
    assert!(serve.ok("status").await.ends_with("faults: none"));

    // A WebSocket Ping from the server is answered by the client.
    let mut c = connect(&url, &["--idle", "10s"]);
    c.event("connected").await;
    serve.event("upgraded").await;
    assert_eq!(serve.ok("ws-ping").await, "ws-ping: 1 connection(s)");
    serve.event("ws-pong").await;
    let status = serve.command("status").await;
    assert_eq!(
        status["data"]["connections"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );
    assert_eq!(c.signal_and_wait("-INT").await, Some(0));
}
