//! The SIP side of the testbed: decoding frames with the connection's
//! codec, dispatching them to the registrar, the relay and the scripted
//! peer, and sending what they produce in each target's codec.

use std::collections::{HashMap, HashSet};
use std::sync::{OnceLock, PoisonError};
use std::time::Instant as StdInstant;

use sipws_core::auth::Algorithm;
use sipws_core::codec::{fits_text_frame, Codec};
use sipws_core::message::{
    BuildError, HeaderName, Limits, Message, OwnedHeader, OwnedMessage, ResponseBuilder, Uri,
};

use crate::peer::Peer;
use crate::registrar::{Registrar, User};
use crate::{proxy, Command, ConnId, Shared, TestbedEvent};

/// The process clock's origin for the core's millisecond clock.
pub(crate) static EPOCH: OnceLock<StdInstant> = OnceLock::new();

/// What the SIP services do: domain, users, digest algorithm, the
/// scripted peer.
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// The domain (also the digest realm). Requests to this host, to the
    /// testbed's own address or to `localhost` are for the testbed.
    pub domain: String,
    /// Users allowed to register. Empty: REGISTER is accepted without a
    /// challenge.
    pub users: Vec<User>,
    /// The digest algorithm of the challenges (MD5 or SHA-256).
    pub algorithm: Algorithm,
    /// Wrong credentials in a row (per connection and address-of-record)
    /// answered 401 before a 403.
    pub max_auth_failures: u32,
    /// Binding lifetime when the REGISTER names none (seconds).
    pub default_expires: u32,
    /// The longest binding lifetime granted (seconds).
    pub max_expires: u32,
    /// The scripted peer's user name (`sip:peer@domain`).
    pub peer_user: String,
    /// A fixed SDP for every answer and offer of the peer. `None` (the
    /// default): the peer answers each offer with [`sipws_core::sdp::answer`]
    /// (WebRTC-shaped for a browser's offer, plain RTP otherwise; 488 when
    /// nothing in it is acceptable) and offers WebRTC-shaped audio.
    pub peer_sdp: Option<String>,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            domain: "sipws.test".to_owned(),
            users: Vec::new(),
            algorithm: Algorithm::Md5,
            max_auth_failures: 3,
            default_expires: 3600,
            max_expires: 7200,
            peer_user: "peer".to_owned(),
            peer_sdp: None,
        }
    }
}

/// The methods the testbed and its peer answer.
pub(crate) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, MESSAGE, REGISTER, SUBSCRIBE, UPDATE";

/// Mutable SIP state, behind one lock.
#[derive(Debug)]
pub(crate) struct SipState {
    pub(crate) registrar: Registrar,
    /// Contact host (and port) → the connection that advertised it.
    pub(crate) contacts: HashMap<String, ConnId>,
    pub(crate) peer: Peer,
}

impl SipState {
    pub(crate) fn new(config: &SipConfig, secret: Vec<u8>) -> SipState {
        SipState {
            registrar: Registrar::new(secret, &config.domain),
            contacts: HashMap::new(),
            peer: Peer::default(),
        }
    }
}

/// What a SIP service needs to know about the testbed.
pub(crate) struct SipContext<'a> {
    pub(crate) config: &'a SipConfig,
    pub(crate) now: StdInstant,
    /// `127.0.0.1:PORT`: Via sent-by, Record-Route and peer Contact host.
    pub(crate) host: String,
    listen_ip: String,
    listen_port: u16,
    alive: HashSet<ConnId>,
}

impl SipContext<'_> {
    /// The address-of-record key for `user` at `host`.
    pub(crate) fn aor(&self, user: &str, host: &str) -> String {
        if self.is_our_host(host, None) {
            format!("{user}@{}", self.config.domain.to_ascii_lowercase())
        } else {
            format!("{user}@{}", host.to_ascii_lowercase())
        }
    }

    /// Whether `host[:port]` names the testbed.
    pub(crate) fn is_our_host(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.eq_ignore_ascii_case(&self.config.domain) {
            return true;
        }
        (host == self.listen_ip || host.eq_ignore_ascii_case("localhost"))
            && port.is_none_or(|p| p == self.listen_port)
    }

    /// Whether this SIP URI names the testbed.
    pub(crate) fn is_ours(&self, uri: &Uri<'_>) -> bool {
        self.is_our_host(uri.host_unbracketed(), uri.port)
    }

    pub(crate) fn alive(&self, conn: ConnId) -> bool {
        self.alive.contains(&conn)
    }

    /// The Record-Route / Route value naming the testbed.
    pub(crate) fn record_route(&self) -> String {
        format!("<sip:{};transport=ws;lr>", self.host)
    }

    /// The scripted peer's Contact URI.
    pub(crate) fn peer_contact(&self) -> String {
        format!("sip:{}@{};transport=ws", self.config.peer_user, self.host)
    }
}

/// Messages and events produced while handling one input.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    sends: Vec<(ConnId, OwnedMessage)>,
    events: Vec<TestbedEvent>,
    learned: Vec<(String, ConnId)>,
}

impl Outbox {
    pub(crate) fn event(&mut self, event: TestbedEvent) {
        self.events.push(event);
    }

    pub(crate) fn send(&mut self, conn: ConnId, message: OwnedMessage) {
        self.sends.push((conn, message));
    }

    /// Sends a built message, or reports why it could not be built.
    pub(crate) fn send_built(&mut self, conn: ConnId, built: Result<OwnedMessage, BuildError>) {
        match built {
            Ok(m) => self.send(conn, m),
            Err(e) => self.event(TestbedEvent::SipDropped {
                conn,
                reason: format!("could not build a message: {e}"),
            }),
        }
    }

    /// Remembers that `contact_uri`'s host belongs to `conn`.
    pub(crate) fn learn(&mut self, contact_uri: &str, conn: ConnId) {
        if let Some(key) = contact_key(contact_uri) {
            self.learned.push((key, conn));
        }
    }

    /// Answers `req` itself with `status` (a To tag on final answers).
    pub(crate) fn reply(&mut self, conn: ConnId, req: &Message<'_>, status: u16, reason: &str) {
        let mut b = ResponseBuilder::reply_to(req, status).reason(reason);
        if status > 100 {
            b = b.to_tag(tag_for(req));
        }
        if status == 405 || (status == 200 && req.method() == Some("OPTIONS")) {
            b = b
                .header(HeaderName::Allow, ALLOW)
                .header(HeaderName::Server, "sipws-testbed");
        }
        self.event(TestbedEvent::SipAnswered {
            conn,
            method: req.method().unwrap_or("").to_owned(),
            status,
        });
        self.send_built(conn, b.build());
    }
}

/// The key under which a Contact URI's connection is remembered:
/// `user@host:port`, lowercased host, and `host` alone for `.invalid`.
pub(crate) fn contact_key(uri: &str) -> Option<String> {
    let u = Uri::parse(uri).ok()?;
    let host = u.host.to_ascii_lowercase();
    Some(match u.port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// A 64-bit FNV-1a hash, for deterministic tags and branches.
pub(crate) fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The To tag the testbed puts on its answers to `req` (the same for
/// every answer in one transaction).
pub(crate) fn tag_for(req: &Message<'_>) -> String {
    let from_tag = req.from().and_then(|f| f.tag()).unwrap_or("");
    let call_id = req.call_id().unwrap_or("");
    format!(
        "tb{:012x}",
        fnv(&[call_id.as_bytes(), from_tag.as_bytes()]) >> 16
    )
}

/// Splits the first entry off a comma list of name-addrs (commas inside
/// `<>` or quotes do not count).
pub(crate) fn split_first_entry(value: &str) -> (&str, Option<&str>) {
    let mut angle = false;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if quoted {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '<' => angle = true,
            '>' => angle = false,
            ',' if !angle => {
                let rest = value[i + 1..].trim();
                return (value[..i].trim(), (!rest.is_empty()).then_some(rest));
            }
            _ => {}
        }
    }
    (value.trim(), None)
}

/// `message` with the first entry of the first `name` header removed.
pub(crate) fn pop_first(message: &OwnedMessage, name: HeaderName) -> OwnedMessage {
    let mut headers: Vec<OwnedHeader> = message.headers().to_vec();
    if let Some(i) = headers.iter().position(|h| h.name() == name) {
        let (_, rest) = split_first_entry(headers[i].value());
        match rest.map(|r| OwnedHeader::raw(headers[i].raw_name().to_owned(), r)) {
            Some(Ok(h)) => headers[i] = h,
            _ => {
                headers.remove(i);
            }
        }
    }
    OwnedMessage::from_parts(
        message.start_line().clone(),
        headers,
        message.body().to_vec(),
    )
    .unwrap_or_else(|_| message.clone())
}

/// Runs `f` with the SIP state and a context, then delivers its output.
pub(crate) fn with_state<R>(
    shared: &Shared,
    f: impl FnOnce(&mut SipState, &SipContext<'_>, &mut Outbox) -> R,
) -> R {
    let alive = shared
        .conns
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .keys()
        .copied()
        .collect();
    let cx = SipContext {
        config: &shared.sip_config,
        now: StdInstant::now(),
        host: shared.addr.to_string(),
        listen_ip: shared.addr.ip().to_string(),
        listen_port: shared.addr.port(),
        alive,
    };
    let mut out = Outbox::default();
    let result = {
        let mut state = shared.sip.lock().unwrap_or_else(PoisonError::into_inner);
        let r = f(&mut state, &cx, &mut out);
        for (key, conn) in out.learned.drain(..) {
            state.contacts.insert(key, conn);
        }
        r
    };
    deliver(shared, out);
    result
}

/// Encodes each message in its target's codec and queues it.
fn deliver(shared: &Shared, out: Outbox) {
    for event in out.events {
        shared.emit(event);
    }
    let conns = shared.conns.lock().unwrap_or_else(PoisonError::into_inner);
    for (conn, message) in out.sends {
        let Some(entry) = conns.get(&conn) else {
            continue;
        };
        let mut frame = Vec::with_capacity(512);
        if entry.codec.encode(&message, &mut frame).is_err() {
            continue;
        }
        let text = fits_text_frame(&frame);
        let _ = entry.tx.send(Command::Send(frame, text));
    }
}

/// One SIP frame from `conn`, in `codec`.
pub(crate) fn on_frame(shared: &Shared, conn: ConnId, codec: Codec, data: &[u8]) {
    let limits = Limits::default();
    let owned = match codec.decode(data, &limits) {
        Ok(m) => m,
        Err(e) => {
            shared.emit(TestbedEvent::SipDropped {
                conn,
                reason: format!("undecodable {codec} frame: {e}"),
            });
            return;
        }
    };
    let text = owned.to_bytes();
    let msg = match Message::parse(&text, &limits) {
        Ok(m) => m,
        Err(e) => {
            shared.emit(TestbedEvent::SipDropped {
                conn,
                reason: format!("unparseable message: {e}"),
            });
            return;
        }
    };
    with_state(shared, |state, cx, out| {
        if let Some(uri) = msg.contact().and_then(|c| c.address().map(|a| a.uri)) {
            if msg.method() != Some("REGISTER") {
                out.learn(uri, conn);
            }
        }
        if msg.is_request() {
            proxy::request(state, cx, conn, &msg, &owned, out);
        } else {
            proxy::response(state, cx, conn, &msg, &owned, out);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_entry_split_ignores_commas_in_brackets_and_quotes() {
        assert_eq!(
            split_first_entry("<sip:a@b;lr>, <sip:c@d>"),
            ("<sip:a@b;lr>", Some("<sip:c@d>"))
        );
        assert_eq!(
            split_first_entry("\"x, y\" <sip:a@b?h=1,2>;p=1 , <sip:c@d>"),
            ("\"x, y\" <sip:a@b?h=1,2>;p=1", Some("<sip:c@d>"))
        );
        assert_eq!(split_first_entry("<sip:a@b>"), ("<sip:a@b>", None));
        assert_eq!(split_first_entry("<sip:a@b>, "), ("<sip:a@b>", None));
    }

    #[test]
    fn contact_keys_fold_the_host_and_keep_the_port() {
        assert_eq!(
            contact_key("sip:a@AbC.invalid;transport=ws").as_deref(),
            Some("abc.invalid")
        );
        assert_eq!(
            contact_key("sip:a@127.0.0.1:5060").as_deref(),
            Some("127.0.0.1:5060")
        );
        assert_eq!(contact_key("not a uri"), None);
    }
}
