//! The settings file (`--config FILE`, `SIPWS_CONFIG`) and `-v` tracing,
//! with real processes against `sipws serve` on 127.0.0.1: values from
//! the file are used, the command line wins, bad files exit 2 naming the
//! file; `-v` writes debug lines to stderr (never the password), the
//! default writes none.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(40);
const PASSWORD: &str = "cfg-secret-4711";

fn sipws() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sipws"));
    c.env_remove("SIPWS_CONFIG")
        .env_remove("SIPWS_LOG")
        .env_remove("SIPWS_PASSWORD");
    c
}

/// A file in a fresh temporary directory, removed with it on drop.
struct TempFile(PathBuf);

impl std::ops::Deref for TempFile {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn temp_file(name: &str, text: &str) -> TempFile {
    let dir = std::env::temp_dir().join(format!("sipws-settings-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    TempFile(path)
}

/// `sipws serve` (settings given by `args`), its URL and its stdout lines.
struct Serve {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        // A failed test must not leave the server running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The lines of a child's pipe, read by a thread.
fn lines_of(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = sipws()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sipws serve");
        let lines = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        let url = lines.recv_timeout(LIMIT).expect("the URL line");
        assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
        Serve {
            child,
            url,
            lines,
            stderr,
            seen: Vec::new(),
        }
    }

    fn until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let l = self
                .lines
                .recv_timeout(LIMIT)
                .unwrap_or_else(|_| panic!("no {what} in:\n{}", self.seen.join("\n")));
            self.seen.push(l.clone());
            if let Ok(v) = serde_json::from_str::<Value>(&l) {
                if pred(&v) {
                    return v;
                }
            }
        }
    }

    fn command(&mut self, line: &str) -> Value {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        self.until("reply", |v| v.get("reply").is_some())
    }

    /// Stops it (SIGTERM) and returns its stderr.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().expect("wait");
        assert_eq!(status.code(), Some(0));
        let mut text = String::new();
        while let Ok(l) = self.stderr.recv_timeout(LIMIT) {
            text.push_str(&l);
            text.push('\n');
        }
        text
    }
}

fn run(cmd: &mut Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipws");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(LIMIT)
        .expect("sipws exits within the limit")
        .expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn settings_from_the_file_are_used_and_the_command_line_wins() {
    let serve_file = temp_file(
        "serve",
        &format!(
            "# top-level keys apply to every command that has the flag\n\
             domain = \"cfg.test\"\n\
             [serve]\n\
             json = true\n\
             user = [\"alice:{PASSWORD}\", \"bob:bob-secret\"]\n"
        ),
    );
    let mut serve = Serve::start(&["--config", serve_file.to_str().unwrap(), "serve"]);
    // `json = true` from the file: replies are JSON.
    let reply = serve.command("status");
    assert_eq!(reply["reply"], "ok", "{reply}");

    let client_file = temp_file(
        "client",
        &format!(
            "url = \"{}\"\n\
             user = \"alice\"\n\
             password = \"{PASSWORD}\"\n\
             domain = \"cfg.test\"\n\
             [register]\n\
             expires = 300\n",
            serve.url
        ),
    );
    let out = run(sipws()
        .env("SIPWS_CONFIG", client_file.as_path())
        .args(["-vv", "register"]));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("registered"), "{stdout}");
    let reg = serve.until("registered", |v| v["event"] == "registered");
    assert_eq!(reg["aor"], "alice@cfg.test", "{reg}");
    assert_eq!(reg["expires"], 300, "{reg}");
    // The password is never printed nor logged, even at -vv.
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    assert!(stderr.contains("TRACE"), "{stderr}");

    // The command line wins over the file.
    let out = run(sipws().args([
        "register",
        "--config",
        client_file.to_str().unwrap(),
        "--expires",
        "120",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reg = serve.until("registered", |v| v["event"] == "registered");
    assert_eq!(reg["expires"], 120, "{reg}");

    // A wrong password from the command line beats the file's: refused.
    let out = run(sipws().args([
        "register",
        "--config",
        client_file.to_str().unwrap(),
        "--password",
        "wrong",
        "--timeout",
        "10s",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    serve.stop();
}

#[test]
fn unknown_keys_exit_2_with_the_file_name() {
    let file = temp_file("unknown", "[register]\nexpirez = 5\n");
    let out = run(sipws().args([
        "--config",
        file.to_str().unwrap(),
        "register",
        "ws://127.0.0.1:9",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    assert!(
        stderr.contains("unknown key `expirez` in [register]"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let file = temp_file("unknown-top", "colour = \"always\"\n");
    let out = run(sipws().env("SIPWS_CONFIG", file.as_path()).args(["serve"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown key `colour`"));

    // A value clap refuses: its message, then where the settings came from.
    let file = temp_file("bad-value", "[options]\ntimeout = \"soon\"\n");
    let out = run(sipws().args([
        "--config",
        file.to_str().unwrap(),
        "options",
        "ws://127.0.0.1:9",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--timeout"), "{stderr}");
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
}

#[test]
fn bad_toml_exits_2_with_the_line() {
    let file = temp_file("broken", "user = \"alice\"\nexpires = [1,\n");
    let out = run(sipws().args([
        "--config",
        file.to_str().unwrap(),
        "options",
        "ws://127.0.0.1:9",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");

    let out = run(sipws().args(["--config", "/nonexistent/sipws.toml", "options", "ws://x"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/sipws.toml"));
}

#[test]
fn verbose_writes_debug_lines_to_stderr_and_the_default_writes_none() {
    let mut serve = Serve::start(&["-v", "serve", "--json"]);
    let url = serve.url.clone();
    let quiet = run(sipws().args(["options", &url, "--domain", "sipws.test"]));
    assert_eq!(quiet.status.code(), Some(0), "{}", text(&quiet.stderr));
    let stderr = text(&quiet.stderr);
    assert!(
        !stderr.contains("DEBUG") && !stderr.contains("TRACE"),
        "{stderr}"
    );

    let loud = run(sipws().args(["options", &url, "--domain", "sipws.test", "-v"]));
    assert_eq!(loud.status.code(), Some(0));
    let stderr = text(&loud.stderr);
    assert!(
        stderr.contains("DEBUG sipws::transport: connecting"),
        "{stderr}"
    );
    assert!(stderr.contains("DEBUG sipws::link: connected"), "{stderr}");
    assert!(!stderr.contains("TRACE"), "{stderr}");

    let filtered = run(sipws().env("SIPWS_LOG", "sipws::link=debug").args([
        "options",
        &url,
        "--domain",
        "sipws.test",
    ]));
    let stderr = text(&filtered.stderr);
    assert!(stderr.contains("sipws::link"), "{stderr}");
    assert!(!stderr.contains("sipws::transport"), "{stderr}");

    // The testbed's own debug lines: accept, upgrade, faults applied.
    assert_eq!(serve.command("refuse 2")["reply"], "ok");
    let refused = run(sipws().args(["connect", &url, "--max-attempts", "1", "--delays", "100ms"]));
    assert_eq!(refused.status.code(), Some(3));
    serve.until("refusal", |v| v["event"] == "handshake-refused");
    let stderr = serve.stop();
    assert!(
        stderr.contains("DEBUG sipws_testbed::server: accepted"),
        "{stderr}"
    );
    assert!(stderr.contains("upgraded"), "{stderr}");
    assert!(
        stderr.contains("fault: refusing the handshake with 503"),
        "{stderr}"
    );
}

#[test]
fn the_documented_example_file_has_only_known_keys() {
    let doc = include_str!("../../../docs/settings.md");
    let start = doc.find("```toml\n").expect("an example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("its end");
    let file = temp_file("example", &doc[start..end]);
    for command in ["register", "call", "connect", "serve", "options"] {
        let out = run(sipws().args(["--config", file.to_str().unwrap(), command, "--help"]));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command}: {}",
            text(&out.stderr)
        );
    }
}
