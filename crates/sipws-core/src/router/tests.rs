use super::*;

const REGISTER_401: &[u8] = include_bytes!("../../tests/data/register_401.sip");
const REGISTER_200: &[u8] = include_bytes!("../../tests/data/register_200.sip");
const INVITE_100: &[u8] = include_bytes!("../../tests/data/invite_100.sip");
const INVITE_180: &[u8] = include_bytes!("../../tests/data/invite_180.sip");
const INVITE_200: &[u8] = include_bytes!("../../tests/data/invite_200.sip");
const ACK: &[u8] = include_bytes!("../../tests/data/ack.sip");
const NOTIFY: &[u8] = include_bytes!("../../tests/data/notify_dialog.sip");
const INFO: &[u8] = include_bytes!("../../tests/data/info.sip");
const INFO_200: &[u8] = include_bytes!("../../tests/data/info_200.sip");
const INCOMING_INVITE: &[u8] = include_bytes!("../../tests/data/incoming_invite.sip");
const MESSAGE: &[u8] = include_bytes!("../../tests/data/message.sip");
const BYE: &[u8] = include_bytes!("../../tests/data/bye.sip");
const COMPACT: &[u8] = include_bytes!("../../tests/data/compact.sip");

fn rule(text: &str) -> Rule {
    Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn key_of<K: Copy>(r: &mut Router<K>, frame: &[u8]) -> Option<K> {
    r.route(frame).key().copied()
}

/// The router a softphone would have: the signaling layer's defaults at
/// the lowest priority, the application's rules in front.
fn softphone() -> Router<&'static str> {
    let mut r = Router::new();
    r.add(rule("response"), "txn", Priority::LOWEST);
    r.add(rule("request"), "ua", Priority::LOWEST);
    for (text, key) in [
        ("401 cseq=REGISTER", "challenge"),
        ("2xx cseq=REGISTER", "registered"),
        ("1xx cseq=INVITE", "provisional"),
        ("2xx cseq=INVITE", "answered"),
        ("ACK", "ack"),
        ("NOTIFY event=dialog", "blf"),
        ("INFO content-type~dtmf", "dtmf"),
        ("INVITE", "incoming"),
    ] {
        r.add(rule(text), key, Priority::APPLICATION);
    }
    r
}

#[test]
fn the_call_flow_table_routes_to_the_right_handlers() {
    let mut r = softphone();
    for (frame, want) in [
        (REGISTER_401, "challenge"),
        (REGISTER_200, "registered"),
        (INVITE_100, "provisional"),
        (INVITE_180, "provisional"),
        (INVITE_200, "answered"),
        (ACK, "ack"),
        (NOTIFY, "blf"),
        (INFO, "dtmf"),
        (INFO_200, "txn"),
        (INCOMING_INVITE, "incoming"),
        (MESSAGE, "ua"),
        (BYE, "ua"),
        (COMPACT, "ua"),
    ] {
        let got = key_of(&mut r, frame);
        assert_eq!(
            got,
            Some(want),
            "{}",
            String::from_utf8_lossy(frame.split(|&b| b == b'\r').next().unwrap())
        );
    }
    let s = r.stats();
    assert_eq!(s.handled.frames, 13);
    assert_eq!(s.unrouted.frames, 0);
    assert_eq!(s.kind(FrameKind::Request).frames, 7);
    assert_eq!(s.kind(FrameKind::Response).frames, 6);
    assert_eq!(
        s.kind(FrameKind::Response).bytes,
        [
            REGISTER_401,
            REGISTER_200,
            INVITE_100,
            INVITE_180,
            INVITE_200,
            INFO_200
        ]
        .iter()
        .map(|f| f.len() as u64)
        .sum::<u64>()
    );
}

#[test]
fn keepalives_route_by_kind_or_stay_unrouted() {
    let mut r = softphone();
    match r.route(b"\r\n\r\n") {
        Route::Unrouted {
            summary: Classified::Ping,
            taps,
        } => assert!(taps.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        r.route(b"\r\n"),
        Route::Unrouted {
            summary: Classified::Pong,
            ..
        }
    ));
    let ping = r.add(Rule::ping(), "link-ping", Priority::HIGHEST);
    r.add(Rule::pong(), "link-pong", Priority::HIGHEST);
    assert_eq!(key_of(&mut r, b"\r\n\r\n"), Some("link-ping"));
    assert_eq!(key_of(&mut r, b"\r\n"), Some("link-pong"));
    assert_eq!(key_of(&mut r, b"\r\n\r\n\r\n"), Some("link-pong"));
    assert_eq!(r.rule_stats(ping).unwrap().matched.frames, 1);
    let s = r.stats();
    assert_eq!(s.kind(FrameKind::Ping).frames, 2);
    assert_eq!(s.kind(FrameKind::Pong).frames, 3);
    assert_eq!(s.kind(FrameKind::Pong).bytes, 2 + 2 + 6);
    assert_eq!(s.unrouted.frames, 2);
}

#[test]
fn malformed_frames_carry_their_error_or_go_to_a_malformed_rule() {
    let mut r = softphone();
    for junk in [
        &b""[..],
        b"hello",
        b"\r\n\r",
        b"INVITE\r\n\r\n",
        b"SIP/2.0 999",
    ] {
        match r.route(junk) {
            Route::Malformed { error, .. } => {
                let direct = crate::message::classify(junk, &Limits::default()).unwrap_err();
                assert_eq!(error, direct);
            }
            other => panic!("{junk:?}: {other:?}"),
        }
    }
    assert_eq!(r.stats().malformed.frames, 5);
    assert_eq!(r.stats().kind(FrameKind::Malformed).frames, 5);
    r.add(Rule::malformed(), "bad", Priority::APPLICATION);
    match r.route(b"hello") {
        Route::Handled {
            key,
            frame: Classified::Malformed(e),
            ..
        } => {
            assert_eq!(*key, "bad");
            assert_eq!(
                e,
                crate::message::classify(b"hello", &Limits::default()).unwrap_err()
            );
        }
        other => panic!("{other:?}"),
    }
    // A malformed frame never reaches message rules, even `any`-kind ones
    // with refinements.
    let mut r2: Router<u8> = Router::new();
    r2.add(rule("cseq=INVITE"), 1, Priority::APPLICATION);
    r2.add(rule("x-foo~."), 2, Priority::APPLICATION);
    assert!(matches!(r2.route(b"garbage"), Route::Malformed { .. }));
    assert_eq!(r2.stats().full_parses, 0);
}

#[test]
fn priority_order_then_insertion_order() {
    let mut r: Router<u32> = Router::new();
    r.add(rule("NOTIFY"), 1, Priority(0));
    r.add(rule("NOTIFY"), 2, Priority(0));
    assert_eq!(key_of(&mut r, NOTIFY), Some(1), "first added wins a tie");
    r.add(rule("request"), 3, Priority(5));
    assert_eq!(key_of(&mut r, NOTIFY), Some(3), "higher priority first");
    let low = r.add(rule("any"), 4, Priority::LOWEST);
    r.add(rule("NOTIFY"), 5, Priority(5));
    assert_eq!(key_of(&mut r, NOTIFY), Some(3), "tie among the high ones");
    let order: Vec<u32> = r.rules().map(|i| *i.key).collect();
    assert_eq!(order, vec![3, 5, 1, 2, 4]);
    assert_eq!(key_of(&mut r, b"\r\n\r\n"), Some(4));
    assert!(r.remove(low).is_some());
    assert!(r.remove(low).is_none(), "ids are not reused");
    assert!(matches!(r.route(b"\r\n\r\n"), Route::Unrouted { .. }));
}

#[test]
fn rules_come_and_go_at_run_time() {
    let mut r = softphone();
    assert_eq!(key_of(&mut r, NOTIFY), Some("blf"));
    let id = r.rules().find(|i| *i.key == "blf").unwrap().id;
    let (removed, key, stats) = r.remove(id).unwrap();
    assert_eq!(removed.to_string(), "NOTIFY event=dialog");
    assert_eq!(key, "blf");
    assert_eq!(stats.matched.frames, 1);
    assert_eq!(key_of(&mut r, NOTIFY), Some("ua"));
    assert_eq!(r.remove_where(|_, k| *k == "ua"), 1);
    assert!(matches!(r.route(NOTIFY), Route::Unrouted { .. }));
}

#[test]
fn taps_observe_without_consuming() {
    let mut r = softphone();
    let log = r.add(rule("tap: any"), "log", Priority::HIGHEST);
    let notify_tap = r.add(rule("tap: NOTIFY"), "notify-log", Priority::HIGHEST);
    let late = r.add(rule("tap: NOTIFY"), "late", Priority(-10));
    let route = r.route(NOTIFY);
    assert_eq!(route.key(), Some(&"blf"), "taps do not consume");
    let taps: Vec<_> = route.taps().iter().collect();
    assert_eq!(taps, vec![(log, &"log"), (notify_tap, &"notify-log")]);
    // The tap below the consuming rule did not see the frame.
    assert_eq!(r.rule_stats(late).unwrap().matched.frames, 0);

    // With no consumer left, every matching tap sees it and the frame is
    // still reported unrouted.
    r.remove_where(|_, k| !matches!(*k, "log" | "notify-log" | "late"));
    match r.route(NOTIFY) {
        Route::Unrouted { summary, taps } => {
            assert_eq!(summary.method(), Some("NOTIFY"));
            let keys: Vec<_> = taps.iter().map(|(_, k)| *k).collect();
            assert_eq!(keys, vec!["log", "notify-log", "late"]);
        }
        other => panic!("{other:?}"),
    }
    match r.route(b"junk") {
        Route::Malformed { taps, .. } => assert_eq!(taps.len(), 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.rule_stats(log).unwrap().matched.frames, 3);
    assert_eq!(r.stats().tapped, 2 + 3 + 1);
}

#[test]
fn header_refinements() {
    let mut r: Router<&str> = Router::new();
    r.add(rule("NOTIFY event=presence"), "presence", Priority(0));
    r.add(
        rule("NOTIFY subscription-state==active"),
        "exact-miss",
        Priority(0),
    );
    r.add(
        rule("NOTIFY subscription-state==active;expires=3542"),
        "exact",
        Priority(0),
    );
    assert_eq!(key_of(&mut r, NOTIFY), Some("exact"));
    // Compact name, regex, and a token test on a list header.
    let mut r: Router<&str> = Router::new();
    r.add(rule("MESSAGE c~^text/plain"), "compact", Priority(0));
    assert_eq!(key_of(&mut r, COMPACT), Some("compact"));
    assert_eq!(key_of(&mut r, MESSAGE), Some("compact"));
    let mut r: Router<&str> = Router::new();
    r.add(rule("401 allow=NOTIFY"), "allow", Priority(0));
    assert_eq!(key_of(&mut r, REGISTER_401), Some("allow"));
    // Extension header by raw name, ignoring case; absent header never matches.
    let mut r: Router<&str> = Router::new();
    r.add(rule("request x-missing~."), "missing", Priority(0));
    r.add(rule("INVITE SERVER~kamailio"), "server", Priority(0));
    r.add(rule("request user-agent~JsSIP"), "jssip", Priority(0));
    assert_eq!(key_of(&mut r, INFO), Some("jssip"));
    assert!(matches!(r.route(INCOMING_INVITE), Route::Unrouted { .. }));
    let frame = b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nX-Tenant: blue\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let mut r: Router<&str> = Router::new();
    r.add(rule("OPTIONS x-tenant=BLUE"), "blue", Priority(0));
    assert_eq!(key_of(&mut r, frame), Some("blue"));
}

#[test]
fn body_refinement() {
    let mut r: Router<&str> = Router::new();
    r.add(rule("request MESSAGE body~nomatch"), "no", Priority(0));
    r.add(
        rule("NOTIFY body~<state>confirmed</state>"),
        "confirmed",
        Priority(0),
    );
    r.add(rule("INFO body~Signal=5"), "five", Priority(0));
    r.add(rule(r"INFO body~Signal=\d"), "digit", Priority(0));
    assert_eq!(
        key_of(&mut r, NOTIFY).is_some(),
        NOTIFY.windows(25).any(|w| w == b"<state>confirmed</state>")
    );
    let info_digit = INFO.windows(8).any(|w| w == b"Signal=5");
    assert_eq!(
        key_of(&mut r, INFO),
        Some(if info_digit { "five" } else { "digit" })
    );
}

#[test]
fn a_regex_never_runs_for_a_frame_whose_structural_part_does_not_match() {
    let mut r: Router<&str> = Router::new();
    let notify = r.add(rule("NOTIFY body~dialog-info"), "notify", Priority(0));
    let info = r.add(rule("INFO content-type~dtmf"), "info", Priority(0));
    let reg = r.add(
        rule("401 cseq=REGISTER www-authenticate~MD5"),
        "reg",
        Priority(0),
    );
    r.add(rule("response"), "txn", Priority::LOWEST);
    for frame in [
        REGISTER_200,
        INVITE_200,
        INFO_200,
        INCOMING_INVITE,
        ACK,
        b"\r\n\r\n",
        b"junk",
    ] {
        let _ = r.route(frame);
    }
    assert_eq!(r.stats().regex_evaluations, 0);
    assert_eq!(
        r.stats().full_parses,
        0,
        "no refinement rule was even reached"
    );
    for id in [notify, info, reg] {
        assert_eq!(r.rule_stats(id).unwrap().regex_evaluations, 0);
    }
    assert_eq!(key_of(&mut r, NOTIFY), Some("notify"));
    assert_eq!(r.rule_stats(notify).unwrap().regex_evaluations, 1);
    assert_eq!(r.rule_stats(info).unwrap().regex_evaluations, 0);
    assert_eq!(r.rule_stats(reg).unwrap().regex_evaluations, 0);
    assert_eq!(key_of(&mut r, REGISTER_401), Some("reg"));
    assert_eq!(r.rule_stats(reg).unwrap().regex_evaluations, 1);
    assert_eq!(r.stats().regex_evaluations, 2);
    assert_eq!(r.stats().full_parses, 2);

    // A token test that fails stops the rule before its regex runs.
    let mut r: Router<&str> = Router::new();
    let id = r.add(rule("NOTIFY event=presence body~dialog"), "x", Priority(0));
    let _ = r.route(NOTIFY);
    assert_eq!(r.rule_stats(id).unwrap().regex_evaluations, 0);
    assert_eq!(r.stats().full_parses, 1);
}

#[test]
fn one_full_parse_per_frame_however_many_refinement_rules() {
    let mut r: Router<u8> = Router::new();
    for i in 0..5 {
        r.add(rule(&format!("NOTIFY x-none{i}~.")), i, Priority(0));
    }
    r.add(rule("NOTIFY event=dialog"), 9, Priority(0));
    assert_eq!(key_of(&mut r, NOTIFY), Some(9));
    assert_eq!(r.stats().full_parses, 1);
}

#[test]
fn refinements_never_match_a_frame_whose_full_parse_fails() {
    // Classifies (start line, CSeq, Call-ID, Content-Length are fine) but a
    // header line has no colon.
    let frame = b"NOTIFY sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\nEvent dialog\r\nContent-Length: 0\r\n\r\n";
    assert!(crate::message::classify(frame, &Limits::default()).is_ok());
    assert!(Message::parse(frame, &Limits::default()).is_err());
    let mut r: Router<&str> = Router::new();
    r.add(rule("NOTIFY event~."), "refined", Priority(1));
    r.add(rule("NOTIFY"), "plain", Priority(0));
    assert_eq!(key_of(&mut r, frame), Some("plain"));
    assert_eq!(r.stats().full_parse_failures, 1);
    assert_eq!(r.stats().regex_evaluations, 0);
}

#[test]
fn call_id_and_dialog_matching() {
    // info.sip is a request we send; its 200 is an inbound response: From
    // tag is ours, To tag the peer's.
    let mut r: Router<&str> = Router::new();
    r.add(rule("call-id=8u0t3b7i2h5e9r1o6w4q"), "call", Priority(0));
    assert_eq!(key_of(&mut r, INFO_200), Some("call"));
    assert!(matches!(r.route(NOTIFY), Route::Unrouted { .. }));

    let msg = Message::parse(INFO_200, &Limits::default()).unwrap();
    let from_tag = msg.from().unwrap().tag().unwrap();
    let to_tag = msg.to().unwrap().tag().unwrap();
    let call_id = msg.call_id().unwrap();
    let ours = DialogId::new(call_id, from_tag, to_tag);

    let mut r: Router<&str> = Router::new();
    r.add(rule("dialog"), "in-dialog", Priority(1));
    r.add(rule("response"), "txn", Priority::LOWEST);
    assert_eq!(key_of(&mut r, INFO_200), Some("txn"), "nothing registered");
    assert!(r.register_dialog(ours.clone()));
    assert!(!r.register_dialog(ours.clone()));
    assert_eq!(key_of(&mut r, INFO_200), Some("in-dialog"));
    assert_eq!(key_of(&mut r, REGISTER_200), Some("txn"), "other Call-ID");
    // Same Call-ID, swapped tags: the direction does not fit.
    let swapped = DialogId::new(call_id, to_tag, from_tag);
    assert!(r.unregister_dialog(&ours));
    assert!(!r.unregister_dialog(&ours));
    r.register_dialog(swapped.clone());
    assert_eq!(key_of(&mut r, INFO_200), Some("txn"));
    assert_eq!(r.dialogs().count(), 1);

    let mut r: Router<&str> = Router::new();
    r.add(
        Rule::any().dialog(DialogMatch::Is(ours.clone())),
        "this-dialog",
        Priority(0),
    );
    assert_eq!(key_of(&mut r, INFO_200), Some("this-dialog"));
    assert_eq!(r.stats().full_parses, 1);
    assert!(matches!(r.route(NOTIFY), Route::Unrouted { .. }));
    assert_eq!(r.stats().full_parses, 1, "other Call-ID: no parse");
    let text = format!("dialog={call_id}/{from_tag}/{to_tag}");
    assert_eq!(rule(&text), Rule::any().dialog(DialogMatch::Is(ours)));
}

#[test]
fn stats_reset() {
    let mut r = softphone();
    let _ = r.route(NOTIFY);
    let _ = r.route(b"x");
    assert_eq!(r.stats().frames(), 2);
    r.reset_stats();
    assert_eq!(*r.stats(), Stats::default());
    assert!(r.rules().all(|i| i.stats == RuleStats::default()));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn router() -> Router<u8> {
        let mut r = Router::new();
        for (i, t) in [
            "tap: any",
            "ping",
            "NOTIFY event=dialog body~x",
            "4xx cseq=REGISTER www-authenticate~(?i)digest",
            "INFO content-type~dtmf",
            "dialog",
            "x-a==b",
            "malformed",
        ]
        .iter()
        .enumerate()
        {
            r.add(rule(t), i as u8, Priority(i as i32));
        }
        r.register_dialog(DialogId::new("c", "a", "b"));
        r
    }

    proptest! {
        #[test]
        fn routing_arbitrary_bytes_never_panics_and_always_has_an_outcome(
            frame in proptest::collection::vec(any::<u8>(), 0..600)
        ) {
            let mut r = router();
            let handled = r.route(&frame).rule().is_some();
            let s = r.stats();
            prop_assert_eq!(s.frames(), 1);
            prop_assert_eq!(s.handled.frames + s.unrouted.frames + s.malformed.frames, 1);
            prop_assert_eq!(handled, s.handled.frames == 1);
        }

        #[test]
        fn routing_mutated_sip_never_panics(
            base in 0usize..6,
            edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..8),
        ) {
            let mut frame = [NOTIFY, INFO, REGISTER_401, INVITE_200, COMPACT, b"\r\n\r\n"][base].to_vec();
            for (at, b) in edits {
                let i = usize::from(at) % frame.len();
                frame[i] = b;
            }
            let mut r = router();
            let _ = r.route(&frame);
            prop_assert_eq!(r.stats().frames(), 1);
        }

        #[test]
        fn rule_text_parsing_never_panics(text in "\\PC{0,40}") {
            if let Ok(rule) = Rule::parse(&text) {
                prop_assert_eq!(Rule::parse(&rule.to_string()).ok(), Some(rule));
            }
        }
    }
}

#[test]
fn the_bucket_index_never_hides_a_structural_match() {
    let rules: Vec<Rule> = [
        "any",
        "ping",
        "pong",
        "malformed",
        "request",
        "response",
        "INVITE",
        "NOTIFY",
        "FOO",
        "1xx",
        "2xx",
        "4xx",
        "6xx",
        "401",
        "200",
        "cseq=INVITE",
        "call-id=c",
        "dialog",
    ]
    .iter()
    .map(|t| rule(t))
    .chain([
        Rule::response().status(StatusMatch::Code(99)),
        Rule::response().status(StatusMatch::Code(700)),
        Rule::response().status(StatusMatch::Class(9)),
    ])
    .collect();
    let limits = Limits::default();
    let mut frames: Vec<Vec<u8>> = [
        REGISTER_401,
        REGISTER_200,
        INVITE_100,
        INVITE_200,
        ACK,
        NOTIFY,
        INFO,
        INFO_200,
        INCOMING_INVITE,
        MESSAGE,
        BYE,
        COMPACT,
        b"\r\n\r\n",
        b"\r\n",
        b"junk",
    ]
    .iter()
    .map(|f| f.to_vec())
    .collect();
    frames.push(b"FOO sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 FOO\r\n\r\n".to_vec());
    for frame in &frames {
        let classified = classify::classify(frame, &limits);
        let facts = facts_of(&classified);
        let b = bucket_of(facts.kind, facts.method_id, facts.status);
        for r in &rules {
            if r.matches_structure(&facts) {
                assert!(may_match(r, b), "{r} hidden for bucket {b}");
            }
        }
    }
    // Every bucket is reachable and the ones of other kinds are excluded.
    assert!(may_match(
        &rule("INVITE"),
        bucket_of(FrameKind::Request, 1, 0)
    ));
    assert!(!may_match(
        &rule("INVITE"),
        bucket_of(FrameKind::Request, 2, 0)
    ));
    assert!(!may_match(
        &rule("FOO"),
        bucket_of(FrameKind::Request, 1, 0)
    ));
    assert!(may_match(&rule("FOO"), bucket_of(FrameKind::Request, 0, 0)));
    assert!(may_match(
        &rule("4xx"),
        bucket_of(FrameKind::Response, 0, 404)
    ));
    assert!(!may_match(
        &rule("4xx"),
        bucket_of(FrameKind::Response, 0, 503)
    ));
    assert!(may_match(
        &Rule::response().status(StatusMatch::Code(700)),
        bucket_of(FrameKind::Response, 0, 700)
    ));
    assert!(!may_match(&rule("ping"), bucket_of(FrameKind::Pong, 0, 0)));
}
