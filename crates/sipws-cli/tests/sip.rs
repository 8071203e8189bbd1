//! `sipws register`, `call`, `send`, `options` and `listen` run as real
//! processes against the project's Kamailio harness (`interop/kamailio/`):
//! exit 0 on success, 1 on a SIP failure, 2 on bad settings, 3 when the
//! connection fails. The callee of `sipws call` is a tokio user agent in
//! one test and a `sipws listen --answer` process in another; `sipws send`
//! MESSAGE reaches a `sipws listen` process. The tests share the harness's
//! three users, so they take turns. Skipped with a notice when
//! `SIPWS_KAMAILIO_WS` is unset, unless `SIPWS_REQUIRE_KAMAILIO=1`.

mod support;

use std::process::Stdio;
use std::time::Duration;

use sipws::ua::{UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::ua::UaEvent;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use support::Run;

const LIMIT: Duration = Duration::from_secs(40);

/// One test at a time talks to Kamailio: they register the same users.
static KAMAILIO: Mutex<()> = Mutex::const_new(());

async fn sipws(args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sipws"));
    command
        .args(args)
        .env_remove("SIPWS_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    support::run(command, LIMIT).await
}

/// The closing result line (the ladder lines come before it).
fn result_line(run: &Run) -> &str {
    run.stdout.lines().last().unwrap_or_default()
}

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

fn settings() -> (String, String) {
    (
        std::env::var("SIPWS_KAMAILIO_DOMAIN").unwrap_or_else(|_| "sipws.test".into()),
        std::env::var("SIPWS_KAMAILIO_PASSWORD").unwrap_or_else(|_| "sipws-secret".into()),
    )
}

#[tokio::test]
async fn options_register_send_and_exit_codes() {
    let Some(url) = kamailio("SIPWS_KAMAILIO_WS") else {
        return;
    };
    let _turn = KAMAILIO.lock().await;
    let (domain, password) = settings();
    let d = ["--domain", domain.as_str()];

    let run = sipws(&["options", &url, d[0], d[1]]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(result_line(&run).starts_with("200 "), "{}", run.stdout);

    let run = sipws(&[
        "register",
        &url,
        "--user",
        "carol",
        d[0],
        d[1],
        "--password",
        &password,
        "--expires",
        "60",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("registered expires=60s"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("unregistered"), "{}", run.stdout);
    assert!(!run.stdout.contains(&password) && !run.stderr.contains(&password));

    let run = sipws(&[
        "register",
        &url,
        "--user",
        "carol",
        d[0],
        d[1],
        "--password",
        "not-it",
    ])
    .await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("401"), "{}", run.stdout);

    // Nobody is registered as this user: the proxy answers 404.
    let target = format!("sip:nobody-here@{domain}");
    let run = sipws(&["send", &url, &target, d[0], d[1], "--body", "hi"]).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(result_line(&run).starts_with("404 "), "{}", run.stdout);

    // Over TLS with the harness's CA.
    if let (Ok(wss), Ok(ca)) = (
        std::env::var("SIPWS_KAMAILIO_WSS"),
        std::env::var("SIPWS_KAMAILIO_CA"),
    ) {
        let run = sipws(&[
            "register",
            &wss,
            "--user",
            "carol",
            d[0],
            d[1],
            "--password",
            &password,
            "--ca-file",
            &ca,
        ])
        .await;
        assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("transport=ws"), "{}", run.stdout);
    }

    let run = sipws(&["options", "http://127.0.0.1:1"]).await;
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);

    let run = sipws(&["options", "ws://127.0.0.1:1", "--timeout", "10s"]).await;
    assert_eq!(run.code, Some(3), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("connection failed"), "{}", run.stderr);
}

#[tokio::test]
async fn call_with_info_to_a_user_agent_that_answers() {
    let Some(url) = kamailio("SIPWS_KAMAILIO_WS") else {
        return;
    };
    let _turn = KAMAILIO.lock().await;
    let (domain, password) = settings();
    // bob: registered, answers every call and records what arrives.
    let config = UserAgentConfig::new(url.clone(), format!("sip:bob@{domain}"))
        .with_credentials("bob", password.clone());
    let (bob, mut events) = UserAgent::spawn(config).expect("bob starts");
    tokio::time::timeout(LIMIT, bob.register())
        .await
        .expect("in time")
        .expect("bob registered");
    let answering = {
        let bob = bob.clone();
        tokio::spawn(async move {
            let mut infos = Vec::new();
            while let Some(e) = events.next().await {
                match e.event {
                    UaStreamEvent::Ua(UaEvent::IncomingCall { call, .. }) => {
                        let c = bob
                            .incoming_call(call)
                            .await
                            .expect("task")
                            .expect("handle");
                        c.answer(200, Some(b"v=0\r\n")).await.expect("200");
                    }
                    UaStreamEvent::Ua(UaEvent::IncomingRequest { message, .. })
                        if message.method() == Some("INFO") =>
                    {
                        infos.push(message.body().to_vec());
                    }
                    UaStreamEvent::Ua(UaEvent::CallEnded { .. }) => return infos,
                    _ => {}
                }
            }
            infos
        })
    };
    let target = format!("sip:bob@{domain}");
    let run = sipws(&[
        "call",
        &url,
        &target,
        "--user",
        "alice",
        "--domain",
        &domain,
        "--password",
        &password,
        "--info",
        "ping",
        "--hangup-after",
        "100ms",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("answered"), "{}", run.stdout);
    assert!(run.stdout.contains("INFO 200"), "{}", run.stdout);
    assert!(
        run.stdout.contains("ended: hung up locally"),
        "{}",
        run.stdout
    );
    let infos = tokio::time::timeout(LIMIT, answering)
        .await
        .expect("bob sees the BYE")
        .expect("task");
    assert_eq!(infos, vec![b"ping".to_vec()]);
    let _ = tokio::time::timeout(LIMIT, bob.shutdown()).await;
}

/// A `sipws listen` process registered at Kamailio; its stdout lines.
struct Listen {
    child: Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: Vec<String>,
}

impl Listen {
    async fn start(url: &str, user: &str, extra: &[&str]) -> Listen {
        let (domain, password) = settings();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
            .args(["listen", url, "--user", user, "--domain", &domain])
            .args(["--password", &password])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn sipws listen");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut l = Listen {
            child,
            lines,
            seen: Vec::new(),
        };
        l.read_until(|line| line.starts_with("listening as")).await;
        l
    }

    async fn read_until(&mut self, done: impl Fn(&str) -> bool) {
        let found = tokio::time::timeout(LIMIT, async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                let hit = done(&line);
                self.seen.push(line);
                if hit {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(found, Ok(true), "{}", self.seen.join("\n"));
    }

    /// Reads to the end; the exit code and every line.
    async fn finish(mut self) -> (Option<i32>, String) {
        self.read_until(|line| line.starts_with("stopped (")).await;
        let status = tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("sipws listen exits within the limit")
            .expect("wait");
        (status.code(), self.seen.join("\n"))
    }
}

#[tokio::test]
async fn listen_answers_a_call_and_prints_a_message() {
    let Some(url) = kamailio("SIPWS_KAMAILIO_WS") else {
        return;
    };
    let _turn = KAMAILIO.lock().await;
    let (domain, password) = settings();
    let target = format!("sip:bob@{domain}");
    let alice = [
        "--user",
        "alice",
        "--domain",
        &domain,
        "--password",
        &password,
    ];

    // alice calls bob, who is `sipws listen --answer`.
    let listen = Listen::start(
        &url,
        "bob",
        &[
            "--answer", "--route", "INVITE", "--route", "BYE", "--count", "2",
        ],
    )
    .await;
    let mut a = vec![
        "call",
        url.as_str(),
        target.as_str(),
        "--hangup-after",
        "100ms",
    ];
    a.extend(alice);
    let run = sipws(&a).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\nanswered\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("ended: hung up locally"),
        "{}",
        run.stdout
    );
    let (code, out) = listen.finish().await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(" ← ") && l.contains("CSeq: 1 INVITE")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains(" ← ") && l.contains(" BYE")),
        "{out}"
    );
    assert!(out.contains("answering 200"), "{out}");

    // alice sends bob a MESSAGE; `sipws listen` prints its body.
    let listen = Listen::start(&url, "bob", &["--route", "MESSAGE", "--count", "1"]).await;
    let mut a = vec!["send", url.as_str(), target.as_str(), "--body", "hello bob"];
    a.extend(alice);
    let run = sipws(&a).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(result_line(&run), "200 OK", "{}", run.stdout);
    let (code, out) = listen.finish().await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("body: hello bob"), "{out}");
}
