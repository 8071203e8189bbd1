//! `sipws demo --json` as a real process: every line is one JSON object,
//! the ladder's story is there in order (digest REGISTER, both calls,
//! NOTIFY, INFO, BYE, keepalive pings, death, reconnect, re-registration)
//! and the summary comes last; exit 0. The demo bounds every wait itself.

use std::process::Command;

use serde_json::Value;

#[test]
fn demo_json_lines_tell_the_whole_story() {
    let out = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(["demo", "--json"])
        .env_remove("SIPWS_CONFIG")
        .output()
        .expect("run sipws demo --json");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    for v in &lines {
        assert!(v["t"].is_number(), "{v}");
        assert!(v["type"].is_string(), "{v}");
        assert!(v["text"].is_string(), "{v}");
    }
    assert_eq!(lines[0]["type"], "info");
    assert!(lines[0]["url"]
        .as_str()
        .unwrap()
        .starts_with("ws://127.0.0.1:"));

    // Finds the first line after `from` that `pred` accepts.
    let find = |from: usize, what: &str, pred: &dyn Fn(&Value) -> bool| -> usize {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, v)| pred(v))
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no {what} after line {from} in:\n{stdout}"))
    };
    let sip = |method: &'static str, status: Option<u64>| {
        move |v: &Value| {
            v["type"] == "sip"
                && (v["method"] == method
                    || v["cseq"].as_str().is_some_and(|c| c.ends_with(method)))
                && match status {
                    Some(s) => v["status"] == s,
                    None => v["status"].is_null(),
                }
        }
    };
    let reg = find(0, "REGISTER", &|v| {
        sip("REGISTER", None)(v) && v["authorization"] == false
    });
    let challenge = find(reg, "401", &sip("REGISTER", Some(401)));
    let authed = find(challenge, "REGISTER with credentials", &|v| {
        sip("REGISTER", None)(v) && v["authorization"] == true
    });
    let ok = find(authed, "200 to REGISTER", &sip("REGISTER", Some(200)));
    assert_eq!(lines[ok]["expires"], 600);

    let invite = find(ok, "INVITE", &|v| {
        sip("INVITE", None)(v) && v["from"] == "alice"
    });
    let trying = find(invite, "100 Trying", &sip("INVITE", Some(100)));
    let answered = find(trying, "200 to INVITE", &|v| {
        v["type"] == "sip" && v["status"] == 200 && v["method"] == "INVITE"
    });
    let ack = find(answered, "ACK", &sip("ACK", None));
    let notify = find(ack, "NOTIFY", &|v| {
        sip("NOTIFY", None)(v) && v["from"] == "bob"
    });
    let notify_ok = find(notify, "200 to NOTIFY", &|v| {
        v["status"] == 200 && v["method"] == "NOTIFY" && v["relayed"] == true
    });
    let info = find(notify_ok, "INFO", &|v| {
        sip("INFO", None)(v) && v["from"] == "alice"
    });
    let bye = find(info, "BYE", &sip("BYE", None));
    let invite_back = find(bye, "INVITE from bob", &|v| {
        sip("INVITE", None)(v) && v["from"] == "bob"
    });

    // Keepalive: a pong, then four unanswered pings, death, reconnect,
    // re-registration.
    let link = |event: &'static str| {
        move |v: &Value| v["type"] == "link" && v["event"] == event && v["agent"] == "alice"
    };
    let pong = find(invite_back, "pong", &link("pong"));
    let mut at = pong;
    let mut since = 0;
    for n in 1..=4 {
        at = find(at + 1, "unanswered ping", &|v| {
            link("ping")(v) && v["n"] == n
        });
        let s = lines[at]["since_last_pong_ms"]
            .as_u64()
            .expect("time since the last pong");
        assert!(s > since, "{}", lines[at]);
        since = s;
    }
    let dead = find(at, "connection dead", &link("dead"));
    assert!(lines[dead]["reason"]
        .as_str()
        .unwrap()
        .contains("unanswered"));
    let reconnecting = find(dead, "reconnecting", &link("reconnecting"));
    let reconnected = find(reconnecting, "reconnected", &link("reconnected"));
    let reregister = find(reconnected, "REGISTER after the reconnect", &|v| {
        sip("REGISTER", None)(v) && v["from"] == "alice"
    });
    let registered = find(reregister, "re-registration", &link("registered"));
    assert_eq!(lines[registered]["expires"], 600);

    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(summary["calls"], 2);
    assert!(summary["registrations"].as_u64().unwrap() >= 3, "{summary}");
    assert!(summary["reconnects"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["pings"].as_u64().unwrap() >= 4, "{summary}");
    assert!(summary["messages"].as_u64().unwrap() > 20, "{summary}");
    assert_eq!(lines.iter().filter(|v| v["type"] == "summary").count(), 1);
}
