//! Two SIP-over-WebSocket clients sipws does not ship, JsSIP and SIP.js
//! (run by Node, `interop/jssip/client.mjs` and `interop/sipjs/client.mjs`,
//! same arguments and JSON lines), against `sipws serve` and beside the
//! `sipws` commands, all real processes on loopback: each registers with
//! digest, asks the server for OPTIONS, sends a MESSAGE to the scripted
//! peer and one to a `sipws listen`, and receives a MESSAGE from
//! `sipws send`; a wrong password fails
//! its registration.
//!
//! Needs Node and `npm install` in both folders (`.ci/run` does it).
//! Skipped with a notice when a package is missing, unless
//! `SIPWS_REQUIRE_JS=1`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

mod support;

const LIMIT: Duration = Duration::from_secs(30);
const DOMAIN: &str = "sipws.test";

/// A JavaScript SIP stack with its harness folder and package.
#[derive(Clone, Copy)]
struct Client {
    folder: &'static str,
    package: &'static str,
}

const JSSIP: Client = Client {
    folder: "jssip",
    package: "jssip",
};
const SIPJS: Client = Client {
    folder: "sipjs",
    package: "sip.js",
};

/// The harness folder, when its package is installed.
fn client_dir(client: Client) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../interop")
        .join(client.folder);
    if dir.join("node_modules").join(client.package).is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("SIPWS_REQUIRE_JS").as_deref() != Ok("1"),
        "SIPWS_REQUIRE_JS=1 but {} has no node_modules/{}",
        dir.display(),
        client.package
    );
    eprintln!(
        "{} not installed: interop not run (npm install in {})",
        client.package,
        dir.display()
    );
    None
}

/// A running `sipws serve` and the lines it prints.
struct Serve {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    url: String,
}

impl Serve {
    async fn start(users: &[&str]) -> Serve {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--domain", DOMAIN];
        for u in users {
            args.extend(["--user", u]);
        }
        args.push("--json");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn sipws serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = next_line(&mut lines).await;
        assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
        Serve { child, lines, url }
    }

    /// Reads event lines until one named `name` matches `pick`.
    async fn wait_for(&mut self, name: &str, pick: impl Fn(&Value) -> bool) -> Value {
        loop {
            let line = next_line(&mut self.lines).await;
            let v: Value = serde_json::from_str(&line).expect("a JSON event line");
            if v["event"] == name && pick(&v) {
                return v;
            }
        }
    }
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(LIMIT, lines.next_line())
        .await
        .expect("a line within the limit")
        .expect("read stdout")
        .expect("the process is still running")
}

/// Starts a client with `args`; its JSON lines come from stdout.
fn start_client(dir: &Path, url: &str, args: &[&str]) -> Child {
    Command::new("node")
        .arg("--experimental-websocket")
        .arg("--no-warnings")
        .arg(dir.join("client.mjs"))
        .args(["--url", url, "--domain", DOMAIN])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node (is Node installed?)")
}

fn event<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["event"] == name)
        .unwrap_or_else(|| panic!("no {name} in {lines:#?}"))
}

async fn registers_asks_options_and_exchanges_messages_with_sipws(client: Client) {
    let Some(dir) = client_dir(client) else {
        return;
    };
    let mut serve =
        Serve::start(&["alice:alice-secret", "bob:bob-secret", "carol:carol-secret"]).await;
    let url = serve.url.clone();
    // carol is a `sipws listen` that the client sends a MESSAGE to.
    let listen = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(["listen", &url, "--user", "carol", "--domain", DOMAIN])
        .args(["--password", "carol-secret", "--count", "1", "--json"])
        .env_remove("SIPWS_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipws listen");
    serve
        .wait_for("registered", |v| v["aor"] == "carol@sipws.test")
        .await;
    let child = start_client(
        &dir,
        &url,
        &[
            "--user",
            "alice",
            "--password",
            "alice-secret",
            "--register",
            "--options",
            "sip:sipws.test",
            "--message",
            "sip:peer@sipws.test",
            "hello from JavaScript",
            "--message",
            "sip:carol@sipws.test",
            "hello carol",
            "--await-messages",
            "1",
            "--timeout",
            "25",
        ],
    );
    // Once the client is registered, a sipws client sends it a MESSAGE through
    // the testbed's relay.
    serve
        .wait_for("registered", |v| v["aor"] == "alice@sipws.test")
        .await;
    let send = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(["send", &url, "sip:alice@sipws.test", "--user", "bob"])
        .args(["--domain", DOMAIN, "--password", "bob-secret"])
        .args(["--body", "hello from sipws"])
        .env_remove("SIPWS_PASSWORD")
        .stdin(Stdio::null())
        .output();
    let send = tokio::time::timeout(LIMIT, send)
        .await
        .expect("sipws send exits within the limit")
        .expect("run sipws send");
    let send_out = String::from_utf8_lossy(&send.stdout);
    assert_eq!(send.status.code(), Some(0), "{send_out}");
    assert!(send_out.contains("200 OK"), "{send_out}");

    let (code, lines) = support::json_lines(child, "the client", LIMIT).await;
    assert_eq!(event(&lines, "registered")["status"], 200, "{lines:#?}");
    assert_eq!(event(&lines, "options")["status"], 200, "{lines:#?}");
    let sent: Vec<&Value> = lines
        .iter()
        .filter(|v| v["event"] == "message-sent")
        .collect();
    assert_eq!(sent.len(), 2, "{lines:#?}");
    assert!(sent.iter().all(|v| v["status"] == 200), "{lines:#?}");
    let got = event(&lines, "message-received");
    assert_eq!(got["body"], "hello from sipws");
    assert_eq!(got["from"], "sip:bob@sipws.test");
    assert!(lines.iter().any(|v| v["event"] == "unregistered"));
    assert_eq!(event(&lines, "done")["ok"], true);
    assert_eq!(code, Some(0));

    // sipws listen printed the MESSAGE's body and stopped after it.
    let out = tokio::time::timeout(LIMIT, listen.wait_with_output())
        .await
        .expect("sipws listen exits within the limit")
        .expect("wait for sipws listen");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let shown: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert!(
        shown.iter().any(|v| v["type"] == "message"
            && v["dir"] == "in"
            && v["method"] == "MESSAGE"
            && v["body"] == "hello carol"),
        "{text}"
    );

    // The testbed saw the digest challenge, the scripted peer answered the
    // MESSAGE, and the client's un-REGISTER removed its binding.
    serve
        .wait_for("unregistered", |v| v["aor"] == "alice@sipws.test")
        .await;
    serve.child.kill().await.expect("stop sipws serve");
}

async fn a_wrong_password_is_refused(client: Client) {
    let Some(dir) = client_dir(client) else {
        return;
    };
    let mut serve = Serve::start(&["alice:alice-secret"]).await;
    let url = serve.url.clone();
    let child = start_client(
        &dir,
        &url,
        &[
            "--user",
            "alice",
            "--password",
            "not-the-secret",
            "--register",
        ],
    );
    let (code, lines) = support::json_lines(child, "the client", LIMIT).await;
    let failed = event(&lines, "registration-failed");
    let status = failed["status"].as_u64().unwrap_or(0);
    assert!(status == 401 || status == 403, "{lines:#?}");
    assert_eq!(event(&lines, "done")["ok"], false);
    assert_eq!(code, Some(1));
    assert!(!lines.iter().any(|v| v["event"] == "registered"));
    serve
        .wait_for("auth-failed", |v| v["aor"] == "alice@sipws.test")
        .await;
    serve.child.kill().await.expect("stop sipws serve");
}

#[tokio::test]
async fn jssip_registers_asks_options_and_exchanges_messages_with_sipws() {
    registers_asks_options_and_exchanges_messages_with_sipws(JSSIP).await;
}

#[tokio::test]
async fn jssip_with_a_wrong_password_is_refused() {
    a_wrong_password_is_refused(JSSIP).await;
}

#[tokio::test]
async fn sipjs_registers_asks_options_and_exchanges_messages_with_sipws() {
    registers_asks_options_and_exchanges_messages_with_sipws(SIPJS).await;
}

#[tokio::test]
async fn sipjs_with_a_wrong_password_is_refused() {
    a_wrong_password_is_refused(SIPJS).await;
}
