//! `sipws register`, `call`, `send` and `options` run as real processes
//! against the project's Kamailio harness (`interop/kamailio/`): exit 0 on
//! success, 1 on a SIP failure, 2 on bad settings, 3 when the connection
//! fails. The callee of `sipws call` is a tokio user agent in this test.
//! Skipped with a notice when `SIPWS_KAMAILIO_WS` is unset, unless
//! `SIPWS_REQUIRE_KAMAILIO=1`.

use std::process::Stdio;
use std::time::Duration;

use sipws::ua::{UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::ua::UaEvent;
use tokio::process::Command;

const LIMIT: Duration = Duration::from_secs(40);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn sipws(args: &[&str]) -> Run {
    let child = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args)
        .env_remove("SIPWS_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipws");
    let out = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("sipws exits within the limit")
        .expect("wait for sipws");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
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
