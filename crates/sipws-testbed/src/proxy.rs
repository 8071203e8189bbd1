//! The relay (RFC 3261 §16, stateless in the testbed's way): requests are
//! forwarded over the target's WebSocket connection with a Via of the
//! testbed's own (its branch names the source connection, so responses
//! find their way back without transaction state) and a Record-Route on
//! dialog-creating requests, so in-dialog requests come through again.

use sipws_core::message::{HeaderName, Message, OwnedHeader, OwnedMessage, OwnedStartLine, Uri};

use crate::sip::{fnv, pop_first, split_first_entry, Outbox, SipContext, SipState};
use crate::{ConnId, TestbedEvent};

/// The prefix of the testbed's relay branches: `z9hG4bK-tb-<conn>-<hash>`.
const BRANCH_PREFIX: &str = "z9hG4bK-tb-";

/// Where a request goes.
enum Target {
    /// A client connection, with the Request-URI to put (when retargeted
    /// to a registered Contact).
    Conn(ConnId, Option<String>),
    /// The scripted peer.
    Peer,
    /// The testbed itself.
    Myself,
    /// No such user (404).
    NotFound,
    /// The user's connection is gone (480).
    Gone,
}

/// Handles one request from `conn`.
pub(crate) fn request(
    state: &mut SipState,
    cx: &SipContext<'_>,
    conn: ConnId,
    msg: &Message<'_>,
    owned: &OwnedMessage,
    out: &mut Outbox,
) {
    let method = msg.method().unwrap_or("");
    if msg.via().is_none() || msg.cseq().is_none() || msg.call_id().is_none() {
        // A response could not find its way back (RFC 3261 §8.2.6.2).
        out.event(TestbedEvent::SipDropped {
            conn,
            reason: format!("{method} without a valid Via, CSeq or Call-ID"),
        });
        return;
    }
    // Loose routing: the Routes naming the testbed are consumed here.
    let mut owned = owned.clone();
    let mut first_route = msg.header(HeaderName::Route).map(str::to_owned);
    while let Some(value) = first_route.take() {
        let (first, rest) = split_first_entry(&value);
        let ours = sipws_core::message::NameAddr::parse(first)
            .ok()
            .and_then(|a| a.sip_uri())
            .is_some_and(|u| cx.is_ours(&u));
        if !ours {
            break;
        }
        owned = pop_first(&owned, HeaderName::Route);
        first_route = match rest {
            Some(r) => Some(r.to_owned()),
            None => owned.header(HeaderName::Route).map(str::to_owned),
        };
    }
    let target = resolve(state, cx, msg);
    if method == "REGISTER" && matches!(target, Target::Myself) {
        state.registrar.register(cx, conn, msg, out);
        return;
    }
    match target {
        Target::Myself => answer_myself(conn, msg, out),
        Target::Peer => state.peer.on_request(cx, conn, msg, out),
        Target::NotFound => refuse(conn, msg, 404, "Not Found", out),
        Target::Gone => refuse(conn, msg, 480, "Temporarily Unavailable", out),
        Target::Conn(to, uri) => forward(cx, conn, to, uri, msg, owned, out),
    }
}

fn refuse(conn: ConnId, msg: &Message<'_>, status: u16, reason: &str, out: &mut Outbox) {
    if msg.method() != Some("ACK") {
        out.reply(conn, msg, status, reason);
    }
}

/// Requests for the testbed itself: OPTIONS (200 with Allow), REGISTER
/// (handled before), others 405.
fn answer_myself(conn: ConnId, msg: &Message<'_>, out: &mut Outbox) {
    match msg.method() {
        Some("OPTIONS") => out.reply(conn, msg, 200, "OK"),
        Some("ACK") => {}
        _ => out.reply(conn, msg, 405, "Method Not Allowed"),
    }
}

fn resolve(state: &mut SipState, cx: &SipContext<'_>, msg: &Message<'_>) -> Target {
    let Some(uri) = msg.request_uri().and_then(|u| Uri::parse(u).ok()) else {
        return Target::NotFound;
    };
    if cx.is_ours(&uri) {
        let Some(user) = uri.user else {
            return Target::Myself;
        };
        if user == cx.config.peer_user {
            return Target::Peer;
        }
        let aor = cx.aor(user, uri.host_unbracketed());
        let bindings = state.registrar.lookup(&aor, cx.now);
        if bindings.is_empty() {
            return Target::NotFound;
        }
        return bindings
            .into_iter()
            .find(|b| cx.alive(b.conn))
            .map_or(Target::Gone, |b| Target::Conn(b.conn, Some(b.contact)));
    }
    let Some(key) = msg.request_uri().and_then(crate::sip::contact_key) else {
        return Target::NotFound;
    };
    match state.contacts.get(&key) {
        Some(&c) if cx.alive(c) => Target::Conn(c, None),
        Some(_) => Target::Gone,
        None => Target::NotFound,
    }
}

/// Whether this request creates a dialog (and so gets a Record-Route).
fn creates_dialog(msg: &Message<'_>) -> bool {
    let no_to_tag = msg.to().is_none_or(|t| t.tag().is_none());
    no_to_tag && matches!(msg.method(), Some("INVITE" | "SUBSCRIBE" | "REFER"))
}

fn forward(
    cx: &SipContext<'_>,
    from: ConnId,
    to: ConnId,
    retarget: Option<String>,
    msg: &Message<'_>,
    owned: OwnedMessage,
    out: &mut Outbox,
) {
    let method = msg.method().unwrap_or("").to_owned();
    let max_forwards = msg.max_forwards().unwrap_or(70);
    if max_forwards == 0 {
        refuse(from, msg, 483, "Too Many Hops", out);
        return;
    }
    if method == "INVITE" {
        out.reply(from, msg, 100, "Trying");
    }
    let mut headers: Vec<OwnedHeader> = owned.headers().to_vec();
    let client_branch = msg.via().and_then(|v| v.branch()).unwrap_or("");
    let hash = fnv(&[
        client_branch.as_bytes(),
        msg.call_id().unwrap_or("").as_bytes(),
    ]);
    let via = format!(
        "SIP/2.0/WS {};branch={BRANCH_PREFIX}{}-{hash:016x}",
        cx.host, from.0
    );
    let mut extra = Vec::new();
    if creates_dialog(msg) {
        extra.push(OwnedHeader::new(HeaderName::RecordRoute, cx.record_route()));
    }
    extra.push(OwnedHeader::new(HeaderName::Via, via));
    for h in extra.into_iter().rev() {
        match h {
            Ok(h) => headers.insert(0, h),
            Err(e) => {
                out.event(TestbedEvent::SipDropped {
                    conn: from,
                    reason: format!("relay header: {e}"),
                });
                return;
            }
        }
    }
    let mf = (max_forwards - 1).to_string();
    match headers
        .iter()
        .position(|h| h.name() == HeaderName::MaxForwards)
    {
        Some(i) => {
            if let Ok(h) = OwnedHeader::new(HeaderName::MaxForwards, mf) {
                headers[i] = h;
            }
        }
        None => {
            if let Ok(h) = OwnedHeader::new(HeaderName::MaxForwards, mf) {
                headers.push(h);
            }
        }
    }
    let start = match (retarget, owned.start_line()) {
        (
            Some(uri),
            OwnedStartLine::Request {
                method, version, ..
            },
        ) => OwnedStartLine::Request {
            method: method.clone(),
            uri,
            version: version.clone(),
        },
        (_, s) => s.clone(),
    };
    let built = OwnedMessage::from_parts(start, headers, owned.body().to_vec());
    out.event(TestbedEvent::RequestRelayed {
        from,
        to,
        method,
        call_id: msg.call_id().unwrap_or("").to_owned(),
    });
    out.send_built(to, built);
}

/// Handles one response from `conn`: routed back by the top Via.
pub(crate) fn response(
    state: &mut SipState,
    cx: &SipContext<'_>,
    conn: ConnId,
    msg: &Message<'_>,
    owned: &OwnedMessage,
    out: &mut Outbox,
) {
    let branch = msg.via().and_then(|v| v.branch()).unwrap_or("");
    if crate::peer::is_peer_branch(branch) {
        state.peer.on_response(cx, conn, msg, out);
        return;
    }
    let Some(back) = branch
        .strip_prefix(BRANCH_PREFIX)
        .and_then(|rest| rest.split('-').next())
        .and_then(|n| n.parse::<u64>().ok())
        .map(ConnId)
    else {
        out.event(TestbedEvent::SipDropped {
            conn,
            reason: format!("response whose top Via is not the testbed's ({branch:?})"),
        });
        return;
    };
    let status = msg.status().unwrap_or(0);
    if status == 100 {
        // The testbed sent its own 100 Trying upstream.
        return;
    }
    let forwarded = pop_first(owned, HeaderName::Via);
    out.event(TestbedEvent::ResponseRelayed {
        from: conn,
        to: back,
        status,
        method: msg.cseq().map(|c| c.method.to_owned()).unwrap_or_default(),
    });
    out.send(back, forwarded);
}
