//! A browser softphone sipws does not ship — JsSIP in headless Chromium
//! with real WebRTC (`interop/browser/call.mjs`) — against the testbed on
//! loopback: the browser calls the scripted peer and the peer calls the
//! browser; `sipws call` calls the browser and the browser calls
//! `sipws listen --answer` (real processes). Chromium's `RTCPeerConnection` must accept the SDP answer and
//! offer sipws writes (ICE credentials, DTLS fingerprint, `a=rtcp-mux`,
//! BUNDLE), or JsSIP fails the call with "Bad Media Description".
//!
//! Needs Chromium (`/usr/bin/chromium` or `$SIPWS_CHROMIUM`) and
//! `npm install` + `npm run bundle` in `interop/browser` (`.ci/run` does
//! all three). Skipped with a notice when missing, unless
//! `SIPWS_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sipws_core::auth::Algorithm;
use sipws_testbed::{
    PeerCallState, SipConfig, Testbed, TestbedConfig, TestbedEvent, TestbedHandle, User,
};
use tokio::process::{Child, Command};

mod support;
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(60);
const DOMAIN: &str = "sipws.test";

/// The harness folder, when Chromium and the packages are there.
fn browser_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/browser");
    let chromium = std::env::var("SIPWS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<String> = [
        (Path::new(&chromium).to_path_buf(), "Chromium"),
        (dir.join("node_modules/playwright-core"), "playwright-core"),
        (dir.join("jssip.js"), "the JsSIP bundle (npm run bundle)"),
    ]
    .into_iter()
    .filter(|(p, _)| !p.exists())
    .map(|(p, what)| format!("{what} at {}", p.display()))
    .collect();
    if missing.is_empty() {
        return Some(dir);
    }
    assert!(
        std::env::var("SIPWS_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "SIPWS_REQUIRE_BROWSER=1 but missing: {missing:?}"
    );
    eprintln!("browser interop not run, missing: {missing:?} (see interop/browser/README.md)");
    None
}

async fn testbed() -> Testbed {
    let config = TestbedConfig {
        sip: SipConfig {
            domain: DOMAIN.to_owned(),
            users: vec![
                User {
                    name: "alice".into(),
                    password: "alice-secret".into(),
                },
                User {
                    name: "bob".into(),
                    password: "bob-secret".into(),
                },
            ],
            algorithm: Algorithm::Md5,
            ..SipConfig::default()
        },
        ..TestbedConfig::default()
    };
    Testbed::start(config).await.expect("testbed starts")
}

/// Starts the browser as alice with `args`.
fn browser(dir: &Path, url: &str, args: &[&str]) -> Child {
    Command::new("node")
        .arg(dir.join("call.mjs"))
        .args(["--url", url, "--domain", DOMAIN, "--user", "alice"])
        .args(["--password", "alice-secret", "--timeout", "45"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node (is Node installed?)")
}

fn has(lines: &[Value], pick: impl Fn(&Value) -> bool) -> bool {
    lines.iter().any(pick)
}

async fn wait_for(
    rx: &mut broadcast::Receiver<TestbedEvent>,
    pick: impl Fn(&TestbedEvent) -> bool,
) -> TestbedEvent {
    sipws_testbed::wait_for_event(rx, LIMIT, pick)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn browser_calls_the_scripted_peer_and_accepts_its_sdp_answer() {
    let Some(dir) = browser_dir() else { return };
    let tb = testbed().await;
    let child = browser(&dir, &tb.url(), &["--call", "sip:peer@sipws.test"]);
    let (code, lines) = support::json_lines(child, "the browser", LIMIT).await;
    assert!(
        has(&lines, |v| v["event"] == "sdp"
            && v["originator"] == "remote"
            && v["type"] == "answer"),
        "{lines:#?}"
    );
    assert!(
        has(&lines, |v| v["event"] == "confirmed"
            && v["signaling"] == "stable"
            && v["remote"] == "answer"),
        "Chromium took the answer: {lines:#?}"
    );
    assert!(
        has(&lines, |v| v["event"] == "ended"
            && v["originator"] == "local"),
        "{lines:#?}"
    );
    assert!(!has(&lines, |v| v["event"] == "failed"), "{lines:#?}");
    assert_eq!(code, Some(0), "{lines:#?}");
}

#[tokio::test]
async fn scripted_peer_calls_the_browser_which_accepts_its_sdp_offer() {
    let Some(dir) = browser_dir() else { return };
    let tb = testbed().await;
    let handle: TestbedHandle = tb.handle();
    let mut events = handle.subscribe();
    let child = browser(&dir, &tb.url(), &["--answer", "1"]);
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Registered { .. })
    })
    .await;
    let call_id = handle.peer_call("alice").expect("alice is registered");
    // The browser's 200 arrives and the peer ACKs it: the dialog is up.
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::PeerCall { call_id: c, state: PeerCallState::Confirmed, .. } if *c == call_id)
    })
    .await;
    handle.peer_hangup(&call_id).expect("the call is up");
    let (code, lines) = support::json_lines(child, "the browser", LIMIT).await;
    assert!(
        has(&lines, |v| v["event"] == "incoming"
            && v["from"] == "sip:peer@sipws.test"),
        "{lines:#?}"
    );
    assert!(
        has(&lines, |v| v["event"] == "confirmed"
            && v["direction"] == "incoming"
            && v["signaling"] == "stable"
            && v["remote"] == "offer"),
        "Chromium took the offer: {lines:#?}"
    );
    assert!(
        has(&lines, |v| v["event"] == "ended"
            && v["originator"] == "remote"),
        "the peer's BYE ended it: {lines:#?}"
    );
    assert_eq!(code, Some(0), "{lines:#?}");
}

/// Runs the `sipws` binary as bob with `args` after the URL.
fn sipws(cmd: &str, url: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args([cmd, url, "--user", "bob", "--domain", DOMAIN])
        .args(["--password", "bob-secret", "--json"])
        .args(args)
        .env_remove("SIPWS_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipws")
}

#[tokio::test]
async fn sipws_call_reaches_the_browser_which_accepts_its_webrtc_offer() {
    let Some(dir) = browser_dir() else { return };
    let tb = testbed().await;
    let mut events = tb.handle().subscribe();
    let child = browser(&dir, &tb.url(), &["--answer", "1"]);
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Registered { .. })
    })
    .await;
    let call = sipws(
        "call",
        &tb.url(),
        &["sip:alice@sipws.test", "--hangup-after", "500ms"],
    );
    let (code, out) = support::json_lines(call, "sipws call", LIMIT).await;
    assert_eq!(code, Some(0), "{out:#?}");
    let (bcode, lines) = support::json_lines(child, "the browser", LIMIT).await;
    assert!(
        has(&lines, |v| v["event"] == "confirmed"
            && v["direction"] == "incoming"
            && v["remote"] == "offer"),
        "Chromium took sipws call's offer: {lines:#?}"
    );
    assert!(
        has(&lines, |v| v["event"] == "ended"
            && v["originator"] == "remote"),
        "sipws call hung up: {lines:#?}"
    );
    assert_eq!(bcode, Some(0), "{lines:#?}");
}

#[tokio::test]
async fn a_plain_rtp_offer_is_refused_by_the_browser_and_sipws_call_exits_1() {
    let Some(dir) = browser_dir() else { return };
    let tb = testbed().await;
    let mut events = tb.handle().subscribe();
    // The browser refuses the call; it then waits for a call that never
    // comes and is stopped by kill_on_drop.
    let child = browser(&dir, &tb.url(), &["--answer", "1"]);
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Registered { .. })
    })
    .await;
    let call = sipws(
        "call",
        &tb.url(),
        &["sip:alice@sipws.test", "--sdp", "plain"],
    );
    let (code, out) = support::json_lines(call, "sipws call", LIMIT).await;
    assert_eq!(code, Some(1), "{out:#?}");
    assert!(
        out.iter().any(|v| v.to_string().contains("488")),
        "Not Acceptable Here: {out:#?}"
    );
    drop(child);
}

#[tokio::test]
async fn browser_calls_sipws_listen_which_answers_with_a_webrtc_answer() {
    let Some(dir) = browser_dir() else { return };
    let tb = testbed().await;
    let mut events = tb.handle().subscribe();
    // INVITE, ACK and BYE are the three inbound requests listen waits for.
    let listen = sipws("listen", &tb.url(), &["--answer", "--count", "3"]);
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::Registered { .. })
    })
    .await;
    let child = browser(&dir, &tb.url(), &["--call", "sip:bob@sipws.test"]);
    let (bcode, lines) = support::json_lines(child, "the browser", LIMIT).await;
    assert!(
        has(&lines, |v| v["event"] == "confirmed"
            && v["direction"] == "outgoing"
            && v["remote"] == "answer"),
        "Chromium took sipws listen's answer: {lines:#?}"
    );
    assert!(!has(&lines, |v| v["event"] == "failed"), "{lines:#?}");
    assert_eq!(bcode, Some(0), "{lines:#?}");
    let (code, out) = support::json_lines(listen, "sipws listen", LIMIT).await;
    assert_eq!(code, Some(0), "{out:#?}");
    let text = serde_json::to_string(&out).unwrap();
    assert!(text.contains("INVITE") && text.contains("BYE"), "{out:#?}");
}
