//! What the interop tests share: waiting for a process that prints JSON
//! lines (a JavaScript client, a browser driver, `sipws --json`).

use std::time::Duration;

use serde_json::Value;
use tokio::process::Child;

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
