//! `sipws serve` run as a real process: it prints its URL first, a client
//! registers through it with digest (SHA-256), the JSON event lines show
//! the challenge and the registration; bad settings exit 2.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sipws::transport::{Bytes, FrameKind, Inbound, Transport, TransportConfig};
use sipws_core::auth::{AuthOutcome, Credentials, DigestClient, DigestOptions};
use sipws_core::message::{HeaderName, Limits, Message, RequestBuilder};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const LIMIT: Duration = Duration::from_secs(20);

fn register(cseq: u32) -> RequestBuilder {
    RequestBuilder::new("REGISTER", "sip:example.test")
        .header(
            HeaderName::Via,
            format!("SIP/2.0/WSS h.invalid;branch=z9hG4bKreg{cseq}"),
        )
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, "<sip:alice@example.test>;tag=a1")
        .header(HeaderName::To, "<sip:alice@example.test>")
        .header(HeaderName::CallId, "serve-reg")
        .header(HeaderName::CSeq, format!("{cseq} REGISTER"))
        .header(HeaderName::Contact, "<sip:alice@h.invalid;transport=ws>")
}

async fn recv_sip(conn: &mut sipws::transport::WsConnection) -> Vec<u8> {
    tokio::time::timeout(LIMIT, async {
        loop {
            if let Inbound::Frame { data, .. } = conn.recv().await {
                return data.to_vec();
            }
        }
    })
    .await
    .expect("a SIP answer within the limit")
}

#[tokio::test]
async fn serve_prints_its_url_and_registers_with_digest() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--domain",
            "example.test",
            "--user",
            "alice:wonderland",
            "--algorithm",
            "sha-256",
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipws serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let next_line = async |lines: &mut tokio::io::Lines<_>| {
        tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("a line within the limit")
            .expect("read stdout")
            .expect("sipws serve still running")
    };
    let url: String = next_line(&mut lines).await;
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    assert!(!url.ends_with(":0"), "{url}");

    let transport = Transport::new(TransportConfig::default()).unwrap();
    let mut conn = transport.connect(&url, &["sip".to_owned()]).await.unwrap();
    let first = register(1).build().unwrap();
    conn.send(Bytes::from(first.to_bytes()), FrameKind::Text)
        .await
        .unwrap();
    let challenge = recv_sip(&mut conn).await;
    let challenge = Message::parse(&challenge, &Limits::default()).unwrap();
    assert_eq!(challenge.status(), Some(401));
    assert!(challenge
        .header(HeaderName::WwwAuthenticate)
        .unwrap()
        .contains("algorithm=SHA-256"));
    let mut auth = DigestClient::new(
        Credentials::new("alice", "wonderland"),
        DigestOptions::default(),
        || "0a4f113b".to_owned(),
    );
    assert_eq!(auth.handle_message(&challenge), Ok(AuthOutcome::Retry));
    let mut second = register(2).build().unwrap();
    for h in auth.authorize("REGISTER", "sip:example.test", b"") {
        second.push_header(h.name, h.value).unwrap();
    }
    conn.send(Bytes::from(second.to_bytes()), FrameKind::Text)
        .await
        .unwrap();
    let ok = recv_sip(&mut conn).await;
    let ok = Message::parse(&ok, &Limits::default()).unwrap();
    assert_eq!(ok.status(), Some(200));
    assert!(ok
        .header(HeaderName::Contact)
        .unwrap()
        .contains("sip:alice@h.invalid"));

    // The JSON event lines tell the same story.
    let mut seen = Vec::new();
    while !seen.iter().any(|e| e == "registered") {
        let line = next_line(&mut lines).await;
        let v: Value = serde_json::from_str(&line).expect("a JSON line");
        let name = v["event"].as_str().unwrap_or("").to_owned();
        if name == "registered" {
            assert_eq!(v["aor"], "alice@example.test");
            assert_eq!(v["contact"], "sip:alice@h.invalid;transport=ws");
        }
        seen.push(name);
    }
    assert!(seen.iter().any(|e| e == "auth-challenged"), "{seen:?}");
    child.kill().await.expect("stop sipws serve");
}

#[tokio::test]
async fn serve_refuses_bad_settings_with_exit_code_2() {
    for args in [
        &["serve", "--listen", "0.0.0.0:0"][..],
        &["serve", "--user", "no-colon"][..],
        &["serve", "--users-file", "/nonexistent/users"][..],
    ] {
        let out = tokio::time::timeout(
            LIMIT,
            Command::new(env!("CARGO_BIN_EXE_sipws"))
                .args(args)
                .stdin(Stdio::null())
                .output(),
        )
        .await
        .expect("exits within the limit")
        .expect("run sipws");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
