//! `sipws demo` run as a real process: it plays the whole table on
//! loopback (registration with digest, both calls, NOTIFY, INFO, BYE,
//! keepalive, dead connection, reconnect and re-registration) and exits 0.
//! The demo bounds every wait itself; no timed assertions.

use std::process::Command;

#[test]
fn demo_plays_the_table_and_exits_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .arg("demo")
        .output()
        .expect("run sipws demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let find = |what: &str, pred: &dyn Fn(&str) -> bool| -> usize {
        lines
            .iter()
            .position(|l| pred(l))
            .unwrap_or_else(|| panic!("no line with {what} in:\n{stdout}"))
    };
    let has =
        |needles: &'static [&'static str]| move |l: &str| needles.iter().all(|n| l.contains(n));
    let register = find("REGISTER without credentials", &|l: &str| {
        l.contains("REGISTER sip:sipws.test") && !l.contains("Authorization")
    });
    let challenge = find("401", &has(&["alice", "401 Unauthorized"]));
    let with_auth = find(
        "REGISTER with Authorization",
        &has(&["REGISTER sip:sipws.test", "+Authorization"]),
    );
    let ok = find("200 to REGISTER", &has(&["200 OK", "(REGISTER"]));
    assert!(register < challenge && challenge < with_auth && with_auth < ok);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("401 Unauthorized"))
            .count(),
        2,
        "alice and bob (the re-registration reuses the nonce):\n{stdout}"
    );

    let invite = find(
        "INVITE to bob",
        &has(&["alice", "INVITE sip:bob@sipws.test"]),
    );
    let trying = find("100 Trying", &has(&["100 Trying", "(INVITE)"]));
    let ringing = find("180", &has(&["SIP/2.0 180", "CSeq"]));
    let ack = find("ACK", &has(&["ACK sip:", "CSeq"]));
    let notify = find("NOTIFY", &has(&["bob", "NOTIFY sip:", "CSeq"]));
    let notify_ok = find("200 to NOTIFY", &has(&["200 OK", "(NOTIFY, relayed)"]));
    let info = find("INFO", &has(&["alice", "INFO sip:", "CSeq"]));
    let info_ok = find("200 to INFO", &has(&["200 OK", "(INFO, relayed)"]));
    let bye = find("BYE", &has(&["BYE sip:", "CSeq"]));
    let invite_alice = find(
        "INVITE to alice",
        &has(&["bob", "INVITE sip:alice@sipws.test"]),
    );
    assert!(
        invite < trying && trying < ringing && ringing < ack,
        "{stdout}"
    );
    assert!(ack < notify && notify < notify_ok && notify_ok < info && info < info_ok);
    assert!(info_ok < bye && bye < invite_alice, "{stdout}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("BYE sip:")).count(),
        2,
        "{stdout}"
    );

    let pings: Vec<usize> = (1..=4)
        .map(|n| {
            let tag = format!("CRLF ping #{n}  (+");
            find("ping of the fault phase", &move |l: &str| {
                l.contains("alice") && l.contains(&tag)
            })
        })
        .collect();
    let dead = find("dead", &has(&["alice", "connection declared dead"]));
    let reconnected = find(
        "reconnected",
        &has(&["alice", "reconnected to ws://127.0.0.1:"]),
    );
    let reregistered = find("re-registered", &has(&["alice", "re-registered"]));
    assert!(invite_alice < pings[0], "{stdout}");
    assert!(pings.windows(2).all(|w| w[0] < w[1]), "{stdout}");
    assert!(pings[3] < dead && dead < reconnected && reconnected < reregistered);

    for row in [
        "messages",
        "registrations",
        "calls",
        "pings",
        "pongs",
        "reconnects",
    ] {
        find(row, &|l: &str| l.trim_start().starts_with(row));
    }
    let calls = find("calls row", &|l: &str| l.trim_start().starts_with("calls"));
    assert!(lines[calls].trim_end().ends_with(" 2"), "{stdout}");
    let reconnects = find("reconnects row", &|l: &str| {
        l.trim_start().starts_with("reconnects")
    });
    assert!(lines[reconnects].trim_end().ends_with(" 1"), "{stdout}");
}

#[test]
fn demo_rejects_unknown_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(["demo", "--no-such-flag"])
        .output()
        .expect("run sipws demo");
    assert_eq!(out.status.code(), Some(2));
}
