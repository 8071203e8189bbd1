//! `sipws connect` run as a real process against the loopback testbed:
//! pongs seen, JSON lines, reconnect after a 1006 drop, exit codes for a
//! failed link and for bad settings. Timers are shortened; every run is
//! bounded by `--duration`, `--pongs` or the reconnect limit, and the
//! test's own timeout.

mod support;

use std::process::Stdio;
use std::time::Duration;

use sipws_testbed::Testbed;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use support::Run;

const LIMIT: Duration = Duration::from_secs(20);

async fn sipws(args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sipws"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    support::run(command, LIMIT).await
}

const FAST: &[&str] = &[
    "--idle",
    "200ms",
    "--first-retry",
    "100ms",
    "--retry",
    "100ms",
    "--delays",
    "50ms,100ms",
    "--reconnect-jitter",
    "0",
];

fn args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["connect", url];
    v.extend_from_slice(FAST);
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn keeps_the_link_alive_and_prints_pings_and_pongs() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let url = testbed.url();
    let run = sipws(&args(&url, &["--pongs", "2"])).await;
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].ends_with(&format!("connecting to {url}")),
        "{lines:?}"
    );
    assert!(
        lines[1].contains(&format!("connected to {url} (subprotocol sip)")),
        "{lines:?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("pong received (rtt"))
            .count(),
        2,
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("ping #1 sent")),
        "{lines:?}"
    );
    // Each line starts with the time since start: "   0.201s  ping #1 sent".
    for l in &lines {
        let (t, _) = l.trim_start().split_once("s  ").expect("time column");
        t.parse::<f64>().expect("seconds");
    }
}

#[tokio::test]
async fn json_lines_carry_time_event_and_fields() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let url = testbed.url();
    let run = sipws(&args(&url, &["--json", "--pongs", "1"])).await;
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..2], ["connecting", "connected"], "{names:?}");
    assert_eq!(events[1]["protocol"], "sip");
    let ping = events.iter().find(|e| e["event"] == "ping_sent").unwrap();
    assert_eq!(ping["n"], 1);
    assert!(ping["t_ms"].as_u64().unwrap() >= 200, "{ping}");
    assert!(events
        .iter()
        .any(|e| e["event"] == "pong_received" && e["rtt_ms"].is_u64()));
}

#[tokio::test]
async fn reconnects_after_a_drop_without_close_frame() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let url = testbed.url();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args(&url, &["--duration", "10s"]))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut dropped = false;
    tokio::time::timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("connected to") && !dropped {
                dropped = testbed.handle().drop_all() == 1;
            }
            let done = line.contains("reconnected to");
            seen.push(line);
            if done {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no reconnect; saw {seen:#?}"));
    assert!(
        seen.iter()
            .any(|l| l.contains("disconnected: abnormal close")),
        "{seen:#?}"
    );
    assert!(
        seen.iter().any(|l| l.contains("reconnecting: attempt 1/3")),
        "{seen:#?}"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn refused_handshakes_fail_the_link_with_exit_3() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().refuse_next_handshakes(100);
    let url = testbed.url();
    let run = sipws(&args(&url, &["--max-attempts", "2"])).await;
    assert_eq!(run.code, Some(3), "stdout: {}", run.stdout);
    assert!(
        run.stderr.contains("gave up after 2 reconnect attempts") && run.stderr.contains("503"),
        "{}",
        run.stderr
    );
    // The first connect and both reconnect attempts.
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.contains("connection to") && l.contains("HTTP 503"))
            .count(),
        3,
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn missing_subprotocol_is_reported() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().set_omit_subprotocol(true);
    let url = testbed.url();
    let run = sipws(&args(&url, &["--max-attempts", "0"])).await;
    assert_eq!(run.code, Some(3));
    assert!(
        run.stdout
            .contains("did not accept the \"sip\" subprotocol"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn closed_port_fails_with_connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    drop(listener);
    let run = sipws(&args(&url, &["--max-attempts", "1"])).await;
    assert_eq!(run.code, Some(3));
    assert!(run.stdout.contains("connection refused"), "{}", run.stdout);
}

#[tokio::test]
async fn duration_ends_a_healthy_run_with_exit_0() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let url = testbed.url();
    let run = sipws(&args(&url, &["--duration", "300ms"])).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("disconnected: closed locally"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn bad_settings_are_usage_errors() {
    let run = sipws(&["connect", "ws://127.0.0.1:9", "--idle", "5parsecs"]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("unknown unit"), "{}", run.stderr);
    let run = sipws(&["connect", "ws://127.0.0.1:9", "--max-unanswered", "0"]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("sipws connect:"), "{}", run.stderr);
}

/// The Kamailio URL from the interop harness (`interop/kamailio/up.sh`),
/// `None` when it is not running here. CI sets `SIPWS_REQUIRE_KAMAILIO=1`,
/// which turns a missing harness into a failure.
fn kamailio(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("SIPWS_REQUIRE_KAMAILIO").as_deref() != Ok("1"),
                "SIPWS_REQUIRE_KAMAILIO=1 but {var} is not set"
            );
            eprintln!("{var} not set: Kamailio interop not run (see interop/kamailio/)");
            None
        }
    }
}

#[tokio::test]
async fn kamailio_answers_crlf_pings_over_ws() {
    let Some(url) = kamailio("SIPWS_KAMAILIO_WS") else {
        return;
    };
    let run = sipws(&["connect", &url, "--idle", "300ms", "--pongs", "3"]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.matches("pong received (rtt").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("answers CRLF"), "{}", run.stdout);
}

#[tokio::test]
async fn kamailio_over_wss_with_the_harness_ca() {
    let (Some(url), Some(ca)) = (
        kamailio("SIPWS_KAMAILIO_WSS"),
        kamailio("SIPWS_KAMAILIO_CA"),
    ) else {
        return;
    };
    let run = sipws(&[
        "connect",
        &url,
        "--ca-file",
        &ca,
        "--idle",
        "300ms",
        "--pongs",
        "2",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.matches("pong received (rtt").count(),
        2,
        "{}",
        run.stdout
    );
    // Without the CA the certificate is not trusted: the link fails.
    let run = sipws(&["connect", &url, "--max-attempts", "0"]).await;
    assert_eq!(run.code, Some(3), "{}", run.stdout);
    assert!(run.stdout.contains("TLS"), "{}", run.stdout);
}

#[tokio::test]
async fn never_pong_server_is_kept_with_options_probes() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().set_drop_pongs(true);
    let mut tb = testbed.handle().subscribe();
    let handle = testbed.handle();
    let url = testbed.url();
    let request_line = format!("OPTIONS sip:{} SIP/2.0\r\n", testbed.local_addr());
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args(&url, &["--fallback", "request", "--duration", "15s"]))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Answer every OPTIONS, as a server that ignores CRLF pings would.
    let answer = tokio::spawn(async move {
        let mut answered = Vec::new();
        while let Ok(e) = tb.recv().await {
            if let sipws_testbed::TestbedEvent::FrameReceived { conn, data, .. } = e {
                let request = String::from_utf8(data).unwrap();
                assert!(request.starts_with(&request_line), "{request}");
                let cseq = request
                    .lines()
                    .find_map(|l| l.strip_prefix("CSeq: "))
                    .unwrap()
                    .to_owned();
                let reply = format!("SIP/2.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n");
                assert!(handle.send_to(conn, reply.as_bytes(), true));
                answered.push(cseq);
            }
        }
        answered
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    tokio::time::timeout(LIMIT, async {
        let mut answers = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("frame received (text") && line.contains("SIP/2.0 200 OK") {
                answers += 1;
            }
            seen.push(line);
            if answers == 3 {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("three probes not answered; saw {seen:#?}"));
    assert!(
        seen.iter().any(|l| l.contains("liveness probe requested")),
        "{seen:#?}"
    );
    assert!(
        !seen.iter().any(|l| l.contains("disconnected")),
        "{seen:#?}"
    );
    child.kill().await.unwrap();
    drop(testbed);
    answer.abort();
}
