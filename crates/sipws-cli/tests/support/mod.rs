//! What the process tests share: running a `sipws` command to its end
//! ([`run`]), and waiting for a process that prints JSON lines (a
//! JavaScript client, a browser driver, `sipws --json`).
//!
//! Each test file includes this module and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

/// A finished `sipws` process.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Exit code and both outputs, for assertion messages.
    pub(crate) fn all(&self) -> String {
        format!("exit {:?}\n{}{}", self.code, self.stdout, self.stderr)
    }

    /// The last line of stdout (empty if none).
    pub(crate) fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

/// Spawns `command` (stdout and stderr piped by the caller) and waits up
/// to `limit` for it to exit.
pub(crate) async fn run(mut command: Command, limit: Duration) -> Run {
    let child = command.spawn().expect("spawn sipws");
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .expect("sipws exits within the limit")
        .expect("wait for sipws");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Waits up to `limit` for `child` (`what` names it in failures) and
/// returns its exit code and stdout's JSON lines; its output goes to the
/// test's log, where a failing assertion's context is read.
pub(crate) async fn json_lines(
    child: Child,
    what: &str,
    limit: Duration,
) -> (Option<i32>, Vec<Value>) {
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} exits within {limit:?}"))
        .unwrap_or_else(|e| panic!("wait for {what}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{what} stdout:\n{text}");
    eprintln!("{what} stderr:\n{}", String::from_utf8_lossy(&out.stderr));
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l:?}")))
        .collect();
    (out.status.code(), lines)
}
