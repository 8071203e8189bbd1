//! Virtual-time tests of the four transaction state machines: exact
//! instants for every timer (T1 = 500 ms unless stated), messages matched
//! by branch + CSeq method (+ sent-by), transport failures.

use core::time::Duration;

use super::*;
use crate::message::{Limits, Message, RequestBuilder, ResponseBuilder};

const VIA: &str = "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7";
const PEER_VIA: &str = "SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKpeer1";

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn table() -> Transactions {
    Transactions::new(TxnConfig::default())
}

fn request(method: &str, via: &str, cseq: u32) -> OwnedMessage {
    RequestBuilder::new(method, "sip:bob@127.0.0.1")
        .header(HeaderName::Via, via)
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::Route, "<sip:127.0.0.1:8443;transport=ws;lr>")
        .header(HeaderName::From, "<sip:alice@127.0.0.1>;tag=a1")
        .header(HeaderName::To, "<sip:bob@127.0.0.1>")
        .header(HeaderName::CallId, "call-1@127.0.0.1")
        .header(HeaderName::CSeq, format!("{cseq} {method}"))
        .build()
        .unwrap()
}

/// A response to `req` with `status` (To tag `b2` on non-100).
fn response(req: &OwnedMessage, status: u16) -> Vec<u8> {
    let mut b = ResponseBuilder::reply_to_owned(req, status);
    if status != 100 {
        b = b.to_tag("b2");
    }
    b.build().unwrap().to_bytes()
}

/// Parse and feed bytes to the table.
fn feed(t: &mut Transactions, now: Instant, bytes: &[u8]) -> Result<Incoming, TxnError> {
    let msg = Message::parse(bytes, &Limits::default()).unwrap();
    t.handle_message(now, &msg)
}

fn transmits(t: &mut Transactions) -> Vec<Transmit> {
    core::iter::from_fn(|| t.poll_transmit()).collect()
}

fn events(t: &mut Transactions) -> Vec<TxnEvent> {
    core::iter::from_fn(|| t.poll_event()).collect()
}

fn terminated(id: TxnId, kind: TxnKind, reason: TerminationReason) -> TxnEvent {
    TxnEvent::Terminated { id, kind, reason }
}

// ---- client, non-INVITE ----------------------------------------------

#[test]
fn timer_f_fires_at_exactly_32_s() {
    let mut t = table();
    let req = request("REGISTER", VIA, 1);
    let id = t.send_request(at(1_000), req.clone()).unwrap();
    let sent = transmits(&mut t);
    assert_eq!(
        sent,
        vec![Transmit {
            txn: id,
            data: req.to_bytes()
        }]
    );
    assert_eq!(t.state(id), Some(TxnState::Trying));
    assert_eq!(t.timer(id), Some((Timer::F, at(33_000))));
    assert_eq!(t.poll_timeout(), Some(at(33_000)));
    // Early and repeated calls do nothing.
    t.handle_timeout(at(32_999));
    t.handle_timeout(at(32_999));
    assert!(events(&mut t).is_empty());
    assert_eq!(t.state(id), Some(TxnState::Trying));
    t.handle_timeout(at(33_000));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ClientNonInvite,
            TerminationReason::Timeout(Timer::F)
        )]
    );
    assert_eq!(t.state(id), None);
    assert_eq!(t.poll_timeout(), None);
    t.handle_timeout(at(33_000));
    assert!(events(&mut t).is_empty());
    assert!(
        transmits(&mut t).is_empty(),
        "no retransmission over a reliable transport"
    );
}

#[test]
fn timer_f_keeps_running_in_proceeding() {
    let mut t = table();
    let req = request("OPTIONS", VIA, 7);
    let id = t.send_request(at(0), req.clone()).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(
        feed(&mut t, at(200), &response(&req, 100)),
        Ok(Incoming::Response { id, status: 100 })
    );
    assert_eq!(t.state(id), Some(TxnState::Proceeding));
    assert_eq!(t.poll_timeout(), Some(at(32_000)));
    t.handle_timeout(at(32_000));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ClientNonInvite,
            TerminationReason::Timeout(Timer::F)
        )]
    );
}

#[test]
fn non_invite_final_response_then_timer_k_zero() {
    let mut t = table();
    let req = request("MESSAGE", VIA, 2);
    let id = t.send_request(at(0), req.clone()).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(
        feed(&mut t, at(1_250), &response(&req, 200)),
        Ok(Incoming::Response { id, status: 200 })
    );
    assert_eq!(t.state(id), Some(TxnState::Completed));
    assert_eq!(t.timer(id), Some((Timer::K, at(1_250))));
    // A retransmitted final before Timer K runs is absorbed.
    assert_eq!(
        feed(&mut t, at(1_250), &response(&req, 200)),
        Ok(Incoming::ResponseAbsorbed { id })
    );
    t.handle_timeout(at(1_250));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ClientNonInvite,
            TerminationReason::Completed
        )]
    );
    // After that the same response matches nothing.
    assert_eq!(
        feed(&mut t, at(1_300), &response(&req, 200)),
        Ok(Incoming::StrayResponse)
    );
    assert!(transmits(&mut t).is_empty());
}

// ---- client, INVITE --------------------------------------------------

#[test]
fn timer_b_fires_at_exactly_32_s_and_scales_with_t1() {
    let mut t = table();
    let id = t.send_request(at(0), request("INVITE", VIA, 1)).unwrap();
    assert_eq!(t.state(id), Some(TxnState::Calling));
    assert_eq!(t.timer(id), Some((Timer::B, at(32_000))));
    t.handle_timeout(at(31_999));
    assert!(events(&mut t).is_empty());
    t.handle_timeout(at(32_000));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ClientInvite,
            TerminationReason::Timeout(Timer::B)
        )]
    );

    let mut slow = Transactions::new(TxnConfig {
        timers: TimerConfig {
            t1: Duration::from_millis(250),
            ..TimerConfig::default()
        },
        ..TxnConfig::default()
    });
    let id = slow
        .send_request(at(10), request("INVITE", VIA, 1))
        .unwrap();
    assert_eq!(slow.poll_timeout(), Some(at(16_010)));
    slow.handle_timeout(at(16_010));
    assert_eq!(
        events(&mut slow),
        vec![terminated(
            id,
            TxnKind::ClientInvite,
            TerminationReason::Timeout(Timer::B)
        )]
    );
}

#[test]
fn invite_non_2xx_is_acked_by_the_transaction() {
    let mut t = table();
    let invite = request("INVITE", VIA, 31);
    let id = t.send_request(at(0), invite.clone()).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(
        feed(&mut t, at(80), &response(&invite, 100)),
        Ok(Incoming::Response { id, status: 100 })
    );
    // Proceeding: Timer B no longer applies.
    assert_eq!(
        (t.state(id), t.poll_timeout()),
        (Some(TxnState::Proceeding), None)
    );
    t.handle_timeout(at(40_000));
    assert!(events(&mut t).is_empty());
    assert_eq!(
        feed(&mut t, at(45_000), &response(&invite, 486)),
        Ok(Incoming::Response { id, status: 486 })
    );
    let ack = transmits(&mut t);
    assert_eq!(ack.len(), 1);
    let expected = "ACK sip:bob@127.0.0.1 SIP/2.0\r\n\
                    Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n\
                    Max-Forwards: 70\r\n\
                    From: <sip:alice@127.0.0.1>;tag=a1\r\n\
                    To: <sip:bob@127.0.0.1>;tag=b2\r\n\
                    Call-ID: call-1@127.0.0.1\r\n\
                    CSeq: 31 ACK\r\n\
                    Route: <sip:127.0.0.1:8443;transport=ws;lr>\r\n\
                    Content-Length: 0\r\n\r\n";
    assert_eq!(String::from_utf8_lossy(&ack[0].data), expected);
    assert_eq!(ack[0].txn, id);
    assert_eq!(t.state(id), Some(TxnState::Completed));
    assert_eq!(t.timer(id), Some((Timer::D, at(45_000))));
    // A retransmitted 486 is ACKed again and absorbed.
    assert_eq!(
        feed(&mut t, at(45_000), &response(&invite, 486)),
        Ok(Incoming::ResponseAbsorbed { id })
    );
    assert_eq!(transmits(&mut t).len(), 1);
    t.handle_timeout(at(45_000));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ClientInvite,
            TerminationReason::Completed
        )]
    );
}

#[test]
fn invite_2xx_goes_to_accepted_and_retransmissions_reach_the_ua() {
    let mut t = table();
    let invite = request("INVITE", VIA, 1);
    let id = t.send_request(at(0), invite.clone()).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(
        feed(&mut t, at(3_000), &response(&invite, 200)),
        Ok(Incoming::Response { id, status: 200 })
    );
    assert!(transmits(&mut t).is_empty(), "the 2xx ACK is the UA's");
    assert_eq!(t.state(id), Some(TxnState::Accepted));
    assert_eq!(t.timer(id), Some((Timer::M, at(35_000))));
    assert_eq!(
        feed(&mut t, at(3_500), &response(&invite, 200)),
        Ok(Incoming::Response { id, status: 200 })
    );
    assert_eq!(
        feed(&mut t, at(3_600), &response(&invite, 180)),
        Ok(Incoming::ResponseAbsorbed { id })
    );
    t.handle_timeout(at(34_999));
    assert!(events(&mut t).is_empty());
    t.handle_timeout(at(35_000));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ClientInvite,
            TerminationReason::Completed
        )]
    );
}

#[test]
fn responses_match_by_branch_and_cseq_method() {
    let mut t = table();
    let invite = request("INVITE", VIA, 1);
    let cancel = request("CANCEL", VIA, 1);
    let inv = t.send_request(at(0), invite.clone()).unwrap();
    let can = t.send_request(at(10), cancel.clone()).unwrap();
    assert_ne!(inv, can);
    assert_eq!(
        t.send_request(at(20), cancel.clone()),
        Err(TxnError::DuplicateTransaction)
    );
    assert_eq!(
        feed(&mut t, at(100), &response(&cancel, 200)),
        Ok(Incoming::Response {
            id: can,
            status: 200
        })
    );
    assert_eq!(t.state(inv), Some(TxnState::Calling));
    assert_eq!(
        feed(&mut t, at(110), &response(&invite, 487)),
        Ok(Incoming::Response {
            id: inv,
            status: 487
        })
    );
    // Another branch matches nothing.
    let other = request(
        "INVITE",
        "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKother",
        1,
    );
    assert_eq!(
        feed(&mut t, at(120), &response(&other, 200)),
        Ok(Incoming::StrayResponse)
    );
}

// ---- server, non-INVITE ----------------------------------------------

#[test]
fn server_non_invite_absorbs_retransmissions_and_timer_j_is_zero() {
    let mut t = table();
    let msg = request("MESSAGE", PEER_VIA, 5);
    let bytes = msg.to_bytes();
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &bytes) else {
        panic!("expected a new request");
    };
    assert_eq!(t.kind(id), Some(TxnKind::ServerNonInvite));
    assert_eq!(t.state(id), Some(TxnState::Trying));
    assert!(transmits(&mut t).is_empty(), "no 100 for non-INVITE");
    assert_eq!(
        feed(&mut t, at(5), &bytes),
        Ok(Incoming::Retransmission { id })
    );
    assert!(transmits(&mut t).is_empty(), "Trying absorbs silently");
    let ok = ResponseBuilder::reply_to_owned(&msg, 200)
        .to_tag("x")
        .build()
        .unwrap();
    t.send_response(at(40), id, &ok).unwrap();
    assert_eq!(
        transmits(&mut t),
        vec![Transmit {
            txn: id,
            data: ok.to_bytes()
        }]
    );
    assert_eq!(t.timer(id), Some((Timer::J, at(40))));
    assert_eq!(
        feed(&mut t, at(40), &bytes),
        Ok(Incoming::Retransmission { id })
    );
    assert_eq!(transmits(&mut t).len(), 1, "Completed resends the final");
    assert_eq!(
        t.send_response(at(40), id, &ok),
        Err(TxnError::FinalAlreadySent)
    );
    t.handle_timeout(at(40));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ServerNonInvite,
            TerminationReason::Completed
        )]
    );
    assert_eq!(
        t.send_response(at(41), id, &ok),
        Err(TxnError::UnknownTransaction)
    );
}

// ---- server, INVITE --------------------------------------------------

#[test]
fn server_invite_100_at_once_486_then_ack_and_timer_i() {
    let mut t = table();
    let invite = request("INVITE", PEER_VIA, 9);
    let bytes = invite.to_bytes();
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &bytes) else {
        panic!("expected a new request");
    };
    let trying = transmits(&mut t);
    assert_eq!(trying.len(), 1);
    let text = String::from_utf8_lossy(&trying[0].data).into_owned();
    assert!(
        text.starts_with(
            "SIP/2.0 100 Trying\r\nVia: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKpeer1\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("CSeq: 9 INVITE\r\n"), "{text}");
    // A retransmitted INVITE gets the last provisional again.
    assert_eq!(
        feed(&mut t, at(500), &bytes),
        Ok(Incoming::Retransmission { id })
    );
    assert_eq!(transmits(&mut t)[0].data, trying[0].data);
    let ringing = ResponseBuilder::reply_to_owned(&invite, 180)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(600), id, &ringing).unwrap();
    assert_eq!(transmits(&mut t)[0].data, ringing.to_bytes());
    let busy = ResponseBuilder::reply_to_owned(&invite, 486)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(1_000), id, &busy).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(t.state(id), Some(TxnState::Completed));
    assert_eq!(t.timer(id), Some((Timer::H, at(33_000))));
    assert_eq!(
        feed(&mut t, at(1_100), &bytes),
        Ok(Incoming::Retransmission { id })
    );
    assert_eq!(transmits(&mut t)[0].data, busy.to_bytes());
    // The ACK (same branch, CSeq method ACK) is the transaction's.
    let ack = request("ACK", PEER_VIA, 9).to_bytes();
    assert_eq!(
        feed(&mut t, at(2_000), &ack),
        Ok(Incoming::AckAbsorbed { id })
    );
    assert_eq!(t.state(id), Some(TxnState::Confirmed));
    assert_eq!(t.timer(id), Some((Timer::I, at(2_000))));
    t.handle_timeout(at(2_000));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ServerInvite,
            TerminationReason::Completed
        )]
    );
}

#[test]
fn timer_h_fires_at_exactly_64_t1_without_ack() {
    let mut t = table();
    let invite = request("INVITE", PEER_VIA, 1);
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    let decline = ResponseBuilder::reply_to_owned(&invite, 603)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(2_500), id, &decline).unwrap();
    assert_eq!(t.poll_timeout(), Some(at(34_500)));
    t.handle_timeout(at(34_499));
    assert!(events(&mut t).is_empty());
    t.handle_timeout(at(34_500));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ServerInvite,
            TerminationReason::Timeout(Timer::H)
        )]
    );
}

#[test]
fn server_invite_2xx_accepted_passes_ack_and_ends_at_timer_l() {
    let mut t = Transactions::new(TxnConfig {
        auto_trying: false,
        ..TxnConfig::default()
    });
    let invite = request("INVITE", PEER_VIA, 1);
    let bytes = invite.to_bytes();
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &bytes) else {
        panic!("expected a new request");
    };
    assert!(transmits(&mut t).is_empty(), "auto_trying off");
    let ok = ResponseBuilder::reply_to_owned(&invite, 200)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(100), id, &ok).unwrap();
    assert_eq!(t.state(id), Some(TxnState::Accepted));
    assert_eq!(t.timer(id), Some((Timer::L, at(32_100))));
    // The UA core's 2xx retransmission passes; INVITE retransmissions are
    // absorbed without a resend.
    t.send_response(at(600), id, &ok).unwrap();
    assert_eq!(transmits(&mut t).len(), 2);
    assert_eq!(
        feed(&mut t, at(700), &bytes),
        Ok(Incoming::Retransmission { id })
    );
    assert!(transmits(&mut t).is_empty());
    let busy = ResponseBuilder::reply_to_owned(&invite, 486)
        .build()
        .unwrap();
    assert_eq!(
        t.send_response(at(800), id, &busy),
        Err(TxnError::FinalAlreadySent)
    );
    // ACK with the INVITE's branch in Accepted goes to the UA, and so does
    // the normal 2xx ACK with a branch of its own (matched by Call-ID and
    // CSeq number); one of another dialog matches nothing.
    let ack = request("ACK", PEER_VIA, 1).to_bytes();
    assert_eq!(
        feed(&mut t, at(900), &ack),
        Ok(Incoming::Ack { id: Some(id) })
    );
    let ack2 = request("ACK", "SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKack", 1).to_bytes();
    assert_eq!(
        feed(&mut t, at(900), &ack2),
        Ok(Incoming::Ack { id: Some(id) })
    );
    let other = String::from_utf8(ack2)
        .unwrap()
        .replace("call-1@127.0.0.1", "call-2@127.0.0.1");
    assert_eq!(
        feed(&mut t, at(900), other.as_bytes()),
        Ok(Incoming::Ack { id: None })
    );
    t.handle_timeout(at(32_100));
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ServerInvite,
            TerminationReason::Completed
        )]
    );
}

#[test]
fn cancel_finds_its_invite_and_sent_by_separates_peers() {
    let mut t = table();
    let invite = request("INVITE", PEER_VIA, 1);
    let Ok(Incoming::Request { id: inv }) = feed(&mut t, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    let cancel = request("CANCEL", PEER_VIA, 1).to_bytes();
    let Ok(Incoming::Request { id: can }) = feed(&mut t, at(10), &cancel) else {
        panic!("CANCEL is its own transaction");
    };
    assert_eq!(t.invite_for_cancel(can), Some(inv));
    assert_eq!(t.invite_for_cancel(inv), None);
    // Same branch from another sent-by is another transaction.
    let other = request(
        "INVITE",
        "SIP/2.0/WSS 127.0.0.2:8443;branch=z9hG4bKpeer1",
        1,
    );
    assert!(matches!(
        feed(&mut t, at(20), &other.to_bytes()),
        Ok(Incoming::Request { id }) if id != inv
    ));
}

// ---- transport failures and misuse -------------------------------------

#[test]
fn send_failure_and_link_down_end_transactions_with_the_reason() {
    let mut t = table();
    let reg = t.send_request(at(0), request("REGISTER", VIA, 1)).unwrap();
    let inv = t.send_request(at(0), request("INVITE", VIA, 2)).unwrap();
    let Ok(Incoming::Request { id: srv }) =
        feed(&mut t, at(0), &request("MESSAGE", PEER_VIA, 3).to_bytes())
    else {
        panic!("expected a new request");
    };
    t.handle_send_failure(at(5), reg, "WebSocket send failed: connection reset");
    assert_eq!(
        events(&mut t),
        vec![terminated(
            reg,
            TxnKind::ClientNonInvite,
            TerminationReason::Transport("WebSocket send failed: connection reset".into())
        )]
    );
    t.handle_send_failure(at(6), reg, "again");
    assert!(events(&mut t).is_empty());
    t.handle_link_down(at(7), "closed 1006");
    let reason = TerminationReason::Transport("closed 1006".into());
    assert_eq!(
        events(&mut t),
        vec![
            terminated(inv, TxnKind::ClientInvite, reason.clone()),
            terminated(srv, TxnKind::ServerNonInvite, reason),
        ]
    );
    assert!(t.is_empty());
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn misuse_and_unmatchable_messages_are_errors() {
    let mut t = table();
    assert_eq!(
        t.send_request(at(0), request("ACK", VIA, 1)),
        Err(TxnError::AckIsNotATransaction)
    );
    assert_eq!(
        t.send_request(
            at(0),
            request("INVITE", "SIP/2.0/WSS h.invalid;branch=1234", 1)
        ),
        Err(TxnError::NoBranch)
    );
    let mismatched = RequestBuilder::new("BYE", "sip:b@127.0.0.1")
        .header(HeaderName::Via, VIA)
        .header(HeaderName::CSeq, "1 INVITE")
        .build()
        .unwrap();
    assert_eq!(
        t.send_request(at(0), mismatched),
        Err(TxnError::CSeqMismatch)
    );
    let no_via = RequestBuilder::new("BYE", "sip:b@127.0.0.1")
        .header(HeaderName::CSeq, "1 BYE")
        .build()
        .unwrap();
    assert_eq!(t.send_request(at(0), no_via), Err(TxnError::NoVia));
    let resp = ResponseBuilder::new(200).build().unwrap();
    assert_eq!(t.send_request(at(0), resp), Err(TxnError::NotARequest));
    assert_eq!(
        feed(
            &mut t,
            at(0),
            b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        ),
        Err(TxnError::NoVia)
    );
    assert_eq!(
        feed(&mut t, at(0), b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n"),
        Err(TxnError::NoCSeq)
    );
    let req = request("OPTIONS", PEER_VIA, 1);
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &req.to_bytes()) else {
        panic!("expected a new request");
    };
    assert_eq!(
        t.send_response(at(0), id, &req),
        Err(TxnError::NotAResponse)
    );
    assert!(t.is_empty() || t.len() == 1);
    assert!(transmits(&mut t).is_empty());
}

proptest::proptest! {
    // Any Via / CSeq text and any response status: no panic, and every
    // transaction with a timer ends when its timers are run out.
    #[test]
    fn no_panic_on_odd_via_cseq_and_statuses(
        via in "\\PC{0,60}",
        cseq in "[0-9A-Z ]{0,12}",
        method in "(INVITE|ACK|BYE|CANCEL|OPTIONS)",
        statuses in proptest::collection::vec(100u16..700, 0..6),
    ) {
        let mut t = table();
        let text = format!(
            "{method} sip:a@127.0.0.1 SIP/2.0\r\nVia: {via}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        );
        if let Ok(msg) = Message::parse(text.as_bytes(), &Limits::default()) {
            if let Ok(Incoming::Request { id }) = t.handle_message(at(0), &msg) {
                for (i, s) in statuses.iter().enumerate() {
                    let r = ResponseBuilder::new(*s).build().unwrap();
                    let _ = t.send_response(at(i as u64), id, &r);
                }
            }
            let _ = t.handle_message(at(1), &msg);
        }
        let client = t.send_request(at(0), request("INVITE", VIA, 1)).unwrap();
        let invite = request("INVITE", VIA, 1);
        for (i, s) in statuses.iter().enumerate() {
            let _ = feed(&mut t, at(10 + i as u64), &response(&invite, *s));
        }
        while let Some(when) = t.poll_timeout() {
            t.handle_timeout(when);
        }
        // With no timer left, only transactions waiting on someone else
        // remain: a client INVITE in Proceeding (no Timer B there), a server
        // transaction the user agent has not answered.
        proptest::prop_assert!(t.poll_timeout().is_none());
        let client_state = t.state(client);
        proptest::prop_assert!(
            client_state.is_none() || client_state == Some(TxnState::Proceeding),
            "{:?}", client_state
        );
        proptest::prop_assert!(t.len() <= 3);
    }
}

// ---- 2xx retransmission and CANCEL ---------------------------------------

/// The transaction layer doing the 2xx retransmission itself.
const RETRANSMITTING: TxnConfig = TxnConfig {
    timers: TimerConfig {
        t1: Duration::from_millis(500),
        t2: Duration::from_secs(4),
        t4: Duration::from_secs(5),
    },
    auto_trying: false,
    retransmit_2xx: true,
};

/// Instants at which `t` transmitted while the clock jumps from deadline
/// to deadline up to `until`.
fn run_until(t: &mut Transactions, until: u64) -> Vec<u64> {
    let mut sent = Vec::new();
    while let Some(when) = t.poll_timeout() {
        if when.as_millis() > until {
            break;
        }
        t.handle_timeout(when);
        for _ in transmits(t) {
            sent.push(when.as_millis());
        }
    }
    sent
}

#[test]
fn two_xx_is_retransmitted_t1_doubling_to_t2_until_the_ack() {
    let mut t = Transactions::new(RETRANSMITTING);
    let invite = request("INVITE", PEER_VIA, 4);
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    let ok = ResponseBuilder::reply_to_owned(&invite, 200)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(0), id, &ok).unwrap();
    assert_eq!(transmits(&mut t).len(), 1);
    assert_eq!(t.retransmit_at(id), Some(at(500)));
    assert_eq!(run_until(&mut t, 8_000), vec![500, 1_500, 3_500, 7_500]);
    // The ACK of the 2xx: its own branch, same Call-ID and CSeq number.
    let ack = request("ACK", "SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKack4", 4).to_bytes();
    assert_eq!(
        feed(&mut t, at(8_000), &ack),
        Ok(Incoming::Ack { id: Some(id) })
    );
    assert_eq!(t.retransmit_at(id), None);
    assert_eq!(run_until(&mut t, 40_000), Vec::<u64>::new());
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ServerInvite,
            TerminationReason::Completed
        )]
    );
    // An ACK of another CSeq does not match.
    let mut t2 = Transactions::new(RETRANSMITTING);
    let Ok(Incoming::Request { id }) = feed(&mut t2, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    t2.send_response(at(0), id, &ok).unwrap();
    let stale = request("ACK", "SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKack3", 3).to_bytes();
    assert_eq!(
        feed(&mut t2, at(10), &stale),
        Ok(Incoming::Ack { id: None })
    );
    assert_eq!(t2.retransmit_at(id), Some(at(500)));
}

#[test]
fn unacknowledged_2xx_ends_at_timer_l_with_timeout() {
    let mut t = Transactions::new(RETRANSMITTING);
    let invite = request("INVITE", PEER_VIA, 1);
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    let ok = ResponseBuilder::reply_to_owned(&invite, 200)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(0), id, &ok).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(
        run_until(&mut t, 100_000),
        vec![500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    assert_eq!(
        events(&mut t),
        vec![terminated(
            id,
            TxnKind::ServerInvite,
            TerminationReason::Timeout(Timer::L)
        )]
    );

    // Off (the default): no retransmission at all.
    let mut quiet = Transactions::new(TxnConfig {
        auto_trying: false,
        ..TxnConfig::default()
    });
    let Ok(Incoming::Request { id }) = feed(&mut quiet, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    quiet.send_response(at(0), id, &ok).unwrap();
    let _ = transmits(&mut quiet);
    assert_eq!(run_until(&mut quiet, 100_000), Vec::<u64>::new());
}

#[test]
fn late_timeout_call_does_not_burst() {
    let mut t = Transactions::new(RETRANSMITTING);
    let invite = request("INVITE", PEER_VIA, 1);
    let Ok(Incoming::Request { id }) = feed(&mut t, at(0), &invite.to_bytes()) else {
        panic!("expected a new request");
    };
    let ok = ResponseBuilder::reply_to_owned(&invite, 200)
        .to_tag("t")
        .build()
        .unwrap();
    t.send_response(at(0), id, &ok).unwrap();
    let _ = transmits(&mut t);
    // The driver wakes up 5 s late: one send, the next 1 s later.
    t.handle_timeout(at(5_500));
    assert_eq!(transmits(&mut t).len(), 1);
    assert_eq!(t.retransmit_at(id), Some(at(6_500)));
}

#[test]
fn cancel_after_a_provisional_response() {
    let mut t = table();
    let invite = request("INVITE", VIA, 12);
    let inv = t.send_request(at(0), invite.clone()).unwrap();
    let _ = transmits(&mut t);
    assert_eq!(
        t.cancel(at(10), inv),
        Err(TxnError::NotCancellable(TxnState::Calling))
    );
    let _ = feed(&mut t, at(100), &response(&invite, 180)).unwrap();
    let can = t.cancel(at(2_000), inv).unwrap();
    let sent = transmits(&mut t);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].txn, can);
    let expected = "CANCEL sip:bob@127.0.0.1 SIP/2.0\r\n\
                    Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n\
                    Max-Forwards: 70\r\n\
                    From: <sip:alice@127.0.0.1>;tag=a1\r\n\
                    To: <sip:bob@127.0.0.1>\r\n\
                    Call-ID: call-1@127.0.0.1\r\n\
                    CSeq: 12 CANCEL\r\n\
                    Route: <sip:127.0.0.1:8443;transport=ws;lr>\r\n\
                    Content-Length: 0\r\n\r\n";
    assert_eq!(String::from_utf8_lossy(&sent[0].data), expected);
    assert_eq!(t.kind(can), Some(TxnKind::ClientNonInvite));
    assert_eq!(t.timer(can), Some((Timer::F, at(34_000))));
    assert_eq!(
        t.cancel(at(2_001), inv),
        Err(TxnError::DuplicateTransaction)
    );
    let cancel = cancel::build_cancel(&invite).unwrap();
    assert_eq!(
        feed(&mut t, at(2_100), &response(&cancel, 200)),
        Ok(Incoming::Response {
            id: can,
            status: 200
        })
    );
    assert_eq!(
        feed(&mut t, at(2_200), &response(&invite, 487)),
        Ok(Incoming::Response {
            id: inv,
            status: 487
        })
    );
    assert!(String::from_utf8_lossy(&transmits(&mut t)[0].data).starts_with("ACK "));
    assert_eq!(t.cancel(at(2_300), can), Err(TxnError::UnknownTransaction));
}
