//! The tokio user agent against the project's Kamailio harness
//! (`interop/kamailio/`): alice and bob register with digest, alice calls
//! bob (INVITE/100/180/200/ACK), INFO, NOTIFY and MESSAGE go both ways in
//! the dialog and out of dialog, BYE; then Kamailio is restarted and both
//! user agents reconnect and register again on their own, and a second
//! call succeeds. Every wait is bounded.
//!
//! Skipped with a notice when `SIPWS_KAMAILIO_WS` is unset, unless
//! `SIPWS_REQUIRE_KAMAILIO=1` (CI), which turns that into a failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sipws::ua::{Call, CallEvent, RuleMatch, UaEvents, UaStreamEvent, UserAgent, UserAgentConfig};
use sipws_core::link::LinkEvent;
use sipws_core::router::Priority;
use sipws_core::ua::{CallEndReason, Target, UaEvent};

const STEP: Duration = Duration::from_secs(15);
const RESTART: Duration = Duration::from_secs(60);

const OFFER: &[u8] = b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 40002 RTP/AVP 0\r\n";

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

async fn within<T>(what: &str, limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

fn agent(url: &str, user: &str, domain: &str, password: &str) -> (UserAgent, UaEvents) {
    let mut config =
        UserAgentConfig::new(url, format!("sip:{user}@{domain}")).with_credentials(user, password);
    let reconnect = &mut config.driver.link.reconnect;
    reconnect.max_attempts = 200;
    reconnect.delays = vec![Duration::from_millis(200), Duration::from_millis(500)];
    reconnect.jitter_permille = 0;
    UserAgent::spawn(config).expect("user agent starts")
}

/// Waits for the next event matching `pick` on a user agent's stream.
async fn wait_for<T>(
    events: &mut UaEvents,
    what: &str,
    limit: Duration,
    mut pick: impl FnMut(&UaEvent) -> Option<T>,
) -> T {
    within(what, limit, async {
        loop {
            let e = events.next().await.expect("event stream open");
            if let UaStreamEvent::Ua(ev) = &e.event {
                if let Some(v) = pick(ev) {
                    return v;
                }
            }
        }
    })
    .await
}

/// alice calls bob; returns both call handles, confirmed.
async fn call(
    alice: &UserAgent,
    bob: &UserAgent,
    bob_events: &mut UaEvents,
    domain: &str,
) -> (Call, Call) {
    let mut out = within(
        "INVITE accepted",
        STEP,
        alice.call(&format!("sip:bob@{domain}"), OFFER),
    )
    .await
    .expect("INVITE sent");
    let (id, offer) = wait_for(bob_events, "bob sees the INVITE", STEP, |e| match e {
        UaEvent::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
        _ => None,
    })
    .await;
    assert_eq!(offer, OFFER);
    let mut inc = bob
        .incoming_call(id)
        .await
        .expect("task")
        .expect("a handle for the incoming call");
    inc.answer(180, None).await.expect("180");
    let progress = within("180 at alice", STEP, async {
        loop {
            match out.next_event().await {
                Some(CallEvent::Progress { status, .. }) if status == 180 => return status,
                Some(CallEvent::Progress { .. }) => {}
                other => panic!("before 180: {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(progress, 180);
    inc.answer(200, Some(ANSWER)).await.expect("200");
    let sdp = within("200 at alice", STEP, out.answered())
        .await
        .expect("answered");
    assert_eq!(sdp, ANSWER);
    within("ACK at bob", STEP, inc.confirmed())
        .await
        .expect("confirmed");
    (out, inc)
}

/// The next request seen in a call's dialog.
async fn request_in(call: &mut Call, what: &str) -> (String, Vec<u8>) {
    within(what, STEP, async {
        loop {
            match call.next_event().await {
                Some(CallEvent::Request {
                    message, answered, ..
                }) => {
                    assert!(answered, "answered 200 by the user agent");
                    let method = message.method().unwrap_or_default().to_owned();
                    return (method, message.body().to_vec());
                }
                Some(CallEvent::Ended(r)) => panic!("call ended: {r:?}"),
                Some(_) => {}
                None => panic!("call stream closed"),
            }
        }
    })
    .await
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The SIPWS_KAM_* settings of the running harness, derived from the
/// SIPWS_KAMAILIO_* variables it exported.
fn harness_env() -> Vec<(&'static str, String)> {
    let port = |url: &str| {
        url.rsplit(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned()
    };
    let mut env = Vec::new();
    if let Ok(ws) = std::env::var("SIPWS_KAMAILIO_WS") {
        env.push(("SIPWS_KAM_WS_PORT", port(&ws)));
    }
    if let Ok(wss) = std::env::var("SIPWS_KAMAILIO_WSS") {
        env.push(("SIPWS_KAM_WSS_PORT", port(&wss)));
    }
    if let Ok(ca) = std::env::var("SIPWS_KAMAILIO_CA") {
        if let Some(dir) = PathBuf::from(ca).parent() {
            env.push(("SIPWS_KAM_DIR", dir.display().to_string()));
        }
    }
    if let Ok(d) = std::env::var("SIPWS_KAMAILIO_DOMAIN") {
        env.push(("SIPWS_KAM_DOMAIN", d));
    }
    if let Ok(p) = std::env::var("SIPWS_KAMAILIO_PASSWORD") {
        env.push(("SIPWS_KAM_PASSWORD", p));
    }
    env
}

fn harness(script: &str) {
    let path = repo_root().join("interop/kamailio").join(script);
    let out = Command::new("bash")
        .arg(&path)
        .envs(harness_env())
        .output()
        .expect("run the harness script");
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn two_agents_register_call_exchange_and_survive_a_restart() {
    let Some(url) = kamailio("SIPWS_KAMAILIO_WS") else {
        return;
    };
    let domain = std::env::var("SIPWS_KAMAILIO_DOMAIN").unwrap_or_else(|_| "sipws.test".into());
    let password =
        std::env::var("SIPWS_KAMAILIO_PASSWORD").unwrap_or_else(|_| "sipws-secret".into());

    let (alice, mut alice_events) = agent(&url, "alice", &domain, &password);
    let (bob, mut bob_events) = agent(&url, "bob", &domain, &password);

    // Digest registration (401 → REGISTER with Authorization → 200).
    let a = within("alice registers", STEP, alice.register())
        .await
        .expect("alice registered");
    assert!(a.expires > Duration::ZERO);
    assert!(!a.bindings.is_empty());
    within("bob registers", STEP, bob.register())
        .await
        .expect("bob registered");

    // The call, and requests both ways inside it.
    let (mut out, mut inc) = call(&alice, &bob, &mut bob_events, &domain).await;

    let r = within("INFO a→b", STEP, out.send_dtmf('5'))
        .await
        .expect("INFO");
    assert_eq!(r.status, 200, "{r:?}");
    let (m, body) = request_in(&mut inc, "INFO at bob").await;
    assert_eq!(m, "INFO");
    assert_eq!(body, b"Signal=5\r\nDuration=160\r\n");

    let r = within("INFO b→a", STEP, inc.info("application/json", b"{\"k\":1}"))
        .await
        .expect("INFO");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(request_in(&mut out, "INFO at alice").await.0, "INFO");

    let r = within(
        "NOTIFY a→b",
        STEP,
        out.notify("dialog", "text/plain", b"n1"),
    )
    .await
    .expect("NOTIFY");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        request_in(&mut inc, "NOTIFY at bob").await,
        ("NOTIFY".into(), b"n1".to_vec())
    );

    let r = within(
        "NOTIFY b→a",
        STEP,
        inc.notify("dialog", "text/plain", b"n2"),
    )
    .await
    .expect("NOTIFY");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        request_in(&mut out, "NOTIFY at alice").await,
        ("NOTIFY".into(), b"n2".to_vec())
    );

    let r = within("MESSAGE a→b", STEP, out.message("text/plain", b"hi bob"))
        .await
        .expect("MESSAGE");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        request_in(&mut inc, "MESSAGE at bob").await,
        ("MESSAGE".into(), b"hi bob".to_vec())
    );

    let r = within("MESSAGE b→a", STEP, inc.message("text/plain", b"hi alice"))
        .await
        .expect("MESSAGE");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        request_in(&mut out, "MESSAGE at alice").await,
        ("MESSAGE".into(), b"hi alice".to_vec())
    );

    // Out of dialog, through the registrar's location service.
    let r = within(
        "MESSAGE out of dialog a→b",
        STEP,
        alice.message(
            Target::Uri(format!("sip:bob@{domain}")),
            "text/plain",
            b"page",
        ),
    )
    .await
    .expect("MESSAGE");
    assert_eq!(r.status, 200, "{r:?}");
    wait_for(&mut bob_events, "bob gets the page", STEP, |e| match e {
        UaEvent::IncomingRequest {
            call: None,
            message,
            ..
        } if message.body() == b"page" => Some(()),
        _ => None,
    })
    .await;
    let r = within(
        "MESSAGE out of dialog b→a",
        STEP,
        bob.message(
            Target::Uri(format!("sip:alice@{domain}")),
            "text/plain",
            b"pong",
        ),
    )
    .await
    .expect("MESSAGE");
    assert_eq!(r.status, 200, "{r:?}");
    // Application rules in front of the defaults: a stream whose requests
    // wait for `respond`, and a callback whose status is sent at once.
    let (rule, mut taken) = bob
        .add_rule("MESSAGE body~urgent", Priority::APPLICATION)
        .await
        .expect("task")
        .expect("rule parses");
    let to_bob = Target::Uri(format!("sip:bob@{domain}"));
    let sent = {
        let alice = alice.clone();
        let to_bob = to_bob.clone();
        tokio::spawn(async move { alice.message(to_bob, "text/plain", b"urgent: hi").await })
    };
    let txn = match within("rule stream", STEP, taken.recv()).await {
        Some(RuleMatch::Request { txn, message, .. }) => {
            assert_eq!(message.body(), b"urgent: hi");
            txn
        }
        other => panic!("expected a request: {other:?}"),
    };
    bob.respond(txn, 202, None, b"").await.expect("respond");
    let r = within("202 at alice", STEP, sent)
        .await
        .expect("task")
        .expect("MESSAGE");
    assert_eq!(r.status, 202, "{r:?}");
    assert!(bob.remove_rule(rule).await.expect("task"));
    bob.on_request("NOTIFY event=presence", Priority::APPLICATION, |m| {
        assert!(matches!(m, RuleMatch::Request { .. }));
        489
    })
    .await
    .expect("task")
    .expect("rule parses");
    let r = within(
        "NOTIFY answered by the callback",
        STEP,
        alice.notify(to_bob.clone(), "presence", "text/plain", b"open"),
    )
    .await
    .expect("NOTIFY");
    assert_eq!(r.status, 489, "{r:?}");
    let r = within(
        "NOTIFY past the rule",
        STEP,
        alice.notify(to_bob, "dialog", "text/plain", b"x"),
    )
    .await
    .expect("NOTIFY");
    assert_eq!(r.status, 200, "{r:?}");

    let r = within(
        "OPTIONS to the server",
        STEP,
        alice.options(Target::Uri(format!("sip:{domain}"))),
    )
    .await
    .expect("OPTIONS");
    assert_eq!(r.status, 200, "{r:?}");

    // BYE from alice.
    let why = within("BYE", STEP, out.hangup()).await.expect("hangup");
    assert_eq!(why, CallEndReason::LocalHangup);
    assert_eq!(
        within("BYE at bob", STEP, inc.ended()).await,
        CallEndReason::RemoteHangup
    );

    // Restart Kamailio: it forgets every registration. Everything seen so
    // far is read first, so the waits below see only what follows.
    while alice_events.try_next().is_some() {}
    while bob_events.try_next().is_some() {}
    tokio::task::spawn_blocking(|| {
        harness("down.sh");
        harness("up.sh");
    })
    .await
    .expect("restart");
    for (name, events) in [("alice", &mut alice_events), ("bob", &mut bob_events)] {
        wait_for(
            events,
            &format!("{name} loses the connection"),
            RESTART,
            |e| matches!(e, UaEvent::Link(LinkEvent::Disconnected { .. })).then_some(()),
        )
        .await;
        wait_for(events, &format!("{name} reconnects"), RESTART, |e| {
            matches!(e, UaEvent::Link(LinkEvent::Reconnected { .. })).then_some(())
        })
        .await;
        wait_for(events, &format!("{name} registers again"), RESTART, |e| {
            matches!(e, UaEvent::Registered { .. }).then_some(())
        })
        .await;
    }

    // A second call over the new connections.
    let (mut out, mut inc) = call(&alice, &bob, &mut bob_events, &domain).await;
    let r = within("INFO after restart", STEP, out.info("text/plain", b"again"))
        .await
        .expect("INFO");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(request_in(&mut inc, "INFO at bob").await.1, b"again");
    let why = within("BYE from bob", STEP, inc.hangup())
        .await
        .expect("hangup");
    assert_eq!(why, CallEndReason::LocalHangup);
    assert_eq!(
        within("BYE at alice", STEP, out.ended()).await,
        CallEndReason::RemoteHangup
    );

    // Clean shutdown: un-REGISTER, then close.
    within("alice shuts down", RESTART, alice.shutdown())
        .await
        .expect("shutdown");
    within("bob shuts down", RESTART, bob.shutdown())
        .await
        .expect("shutdown");
    wait_for(&mut alice_events, "alice unregistered", STEP, |e| {
        matches!(e, UaEvent::Unregistered).then_some(())
    })
    .await;
}
