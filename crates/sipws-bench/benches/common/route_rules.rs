//! The routing table of the `route` benchmark, shared by
//! `benches/route.rs` and `src/bin/route-table.rs` (included with
//! `#[path]`, so both always build against this very file).

/// The routing table of the `route` benchmark: 20 structural rules (the
/// link's keepalive rules, a softphone's application rules, the signaling
/// layer's defaults at the lowest priority) and, in front of them, 5 regex
/// rules whose structural part none of the five benchmark messages matches.
/// Keys: the rule's position in the table, from 1.
///
/// # Panics
/// If a rule text does not parse (they are constants).
pub(crate) fn route_rules() -> sipws_core::router::Router<u32> {
    use sipws_core::router::{Priority, Router, Rule};
    const RULES: [(&str, Priority); 25] = [
        // 5 regex rules, tried first (application refinements).
        ("MESSAGE body~(?i)hello", Priority(10)),
        ("INFO content-type~dtmf", Priority(10)),
        ("SUBSCRIBE event~^presence", Priority(10)),
        ("OPTIONS user-agent~(?i)sipp", Priority(10)),
        ("4xx cseq=INVITE warning~^3\\d\\d", Priority(10)),
        // 20 structural rules.
        ("ping", Priority::HIGHEST),
        ("pong", Priority::HIGHEST),
        ("malformed", Priority(0)),
        ("1xx cseq=INVITE", Priority(0)),
        ("2xx cseq=INVITE", Priority(0)),
        ("3xx cseq=INVITE", Priority(0)),
        ("4xx cseq=INVITE", Priority(0)),
        ("5xx cseq=INVITE", Priority(0)),
        ("6xx cseq=INVITE", Priority(0)),
        ("407 cseq=REGISTER", Priority(0)),
        ("401 cseq=REGISTER", Priority(0)),
        ("2xx cseq=REGISTER", Priority(0)),
        ("4xx cseq=REGISTER", Priority(0)),
        ("ACK", Priority(0)),
        ("BYE", Priority(0)),
        ("CANCEL", Priority(0)),
        ("NOTIFY", Priority(0)),
        ("INVITE", Priority(0)),
        ("response", Priority::LOWEST),
        ("request", Priority::LOWEST),
    ];
    let mut router = Router::new();
    for (key, (text, priority)) in (1u32..).zip(RULES) {
        let rule = Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        router.add(rule, key, priority);
    }
    router
}

/// The key [`route_rules`] routes each benchmark message to.
#[must_use]
pub(crate) fn expected_route(message: &str) -> u32 {
    match message {
        "register_401" => 16,
        "register_200" => 17,
        "invite_webrtc" => 23,
        "notify_dialog" => 22,
        "info_200" => 24,
        _ => 0,
    }
}

/// For each benchmark message, a regex rule whose structural part matches
/// it and whose regex matches too (the `route_refined` case).
#[must_use]
pub(crate) fn refined_rule(message: &str) -> &'static str {
    match message {
        "register_401" => "401 cseq=REGISTER www-authenticate~(?i)digest",
        "register_200" => "2xx cseq=REGISTER contact~expires=\\d+",
        "invite_webrtc" => "INVITE body~a=fingerprint:sha-256",
        "notify_dialog" => "NOTIFY event=dialog body~<state>(early|confirmed)",
        _ => "2xx cseq=INFO server~(?i)fpbx",
    }
}
