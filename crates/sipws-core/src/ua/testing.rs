//! Test support: a virtual-time network of user agents around a small fake
//! SIP-over-WebSocket proxy and registrar, written with the parser, the
//! builders and the digest verifier.
//!
//! The proxy behaves like the Kamailio configuration the project tests
//! against (`interop/kamailio`): REGISTER is challenged with `401` (MD5,
//! `qop="auth"`, no `algorithm`), bindings live in memory per connection,
//! requests are relayed by address of record, every Contact relayed from a
//! client gets an `;alias=c~CONN` parameter naming its connection (and a
//! Request-URI carrying one is routed to that connection, the parameter
//! stripped), INVITEs get a `Record-Route`, and the proxy's own Via has a
//! double space after `WS`.

use std::collections::VecDeque;

use super::{UaConfig, UaEvent, UserAgent};
use crate::auth::verify;
use crate::link::{CloseInfo, ConnectError, LinkConfig, Opcode, Transmit};
use crate::message::{HeaderName, Limits, Message, OwnedMessage, ResponseBuilder, Uri};
use crate::time::Instant;
use crate::txn::top_via;

/// The proxy's host name (its Record-Route and Via).
pub(crate) const PROXY: &str = "proxy.invalid";
/// The domain and realm.
pub(crate) const DOMAIN: &str = "example.test";
/// Everybody's password.
pub(crate) const PASSWORD: &str = "secret";

pub(crate) fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// A binding in the registrar.
#[derive(Clone, Debug)]
pub(crate) struct Binding {
    pub(crate) aor: String,
    pub(crate) contact: String,
    pub(crate) conn: usize,
}

/// The fake proxy/registrar.
#[derive(Debug)]
pub(crate) struct Proxy {
    pub(crate) nonce: String,
    /// Nonces issued before the current one: answered with `stale=true`.
    pub(crate) old_nonces: Vec<String>,
    pub(crate) bindings: Vec<Binding>,
    /// Lifetime granted (the request's when `None`).
    pub(crate) grant: Option<u32>,
    /// Challenge initial requests other than REGISTER, ACK and CANCEL with
    /// `407` (Kamailio's `KAM_PROXY_AUTH=1`).
    pub(crate) proxy_auth: bool,
    nonce_count: u32,
}

impl Proxy {
    pub(crate) fn new() -> Proxy {
        Proxy {
            nonce: "n0nce1".into(),
            old_nonces: Vec::new(),
            bindings: Vec::new(),
            grant: None,
            proxy_auth: false,
            nonce_count: 1,
        }
    }

    /// Issue a new nonce; the old one becomes stale.
    pub(crate) fn rotate_nonce(&mut self) {
        self.nonce_count += 1;
        let old = core::mem::replace(&mut self.nonce, format!("n0nce{}", self.nonce_count));
        self.old_nonces.push(old);
    }

    /// One frame from connection `conn`: what to send where.
    pub(crate) fn handle(&mut self, conn: usize, data: &[u8]) -> Vec<(usize, Vec<u8>)> {
        let Ok(msg) = Message::parse(data, &Limits::default()) else {
            return Vec::new();
        };
        if msg.is_request() {
            self.request(conn, &msg)
        } else {
            self.response(conn, &msg)
        }
    }

    fn reply(msg: &Message<'_>, status: u16) -> ResponseBuilder {
        let b = ResponseBuilder::reply_to(msg, status);
        if status == 100 {
            b
        } else {
            b.to_tag("ptag")
        }
    }

    fn request(&mut self, conn: usize, msg: &Message<'_>) -> Vec<(usize, Vec<u8>)> {
        let method = msg.method().unwrap_or("");
        let uri = msg.request_uri().unwrap_or("");
        let local = Uri::parse(uri).is_ok_and(|u| u.user.is_none() && u.host == DOMAIN);
        if method == "REGISTER" {
            return vec![(conn, self.register(conn, msg))];
        }
        // The ACK of one of our own final responses stops here.
        if method == "ACK" && msg.to().and_then(|t| t.tag()) == Some("ptag") {
            return Vec::new();
        }
        let Ok(mut m) = OwnedMessage::try_from(msg) else {
            return Vec::new();
        };
        // Our own Route goes (loose routing).
        let routes: Vec<String> = m
            .headers_named(HeaderName::Route)
            .map(str::to_owned)
            .collect();
        let in_dialog = routes.first().is_some_and(|r| r.contains(PROXY));
        if in_dialog {
            m.remove_headers(HeaderName::Route);
            for r in routes.iter().skip(1) {
                let _ = m.push_header(HeaderName::Route, r.as_str());
            }
        } else if self.proxy_auth && !matches!(method, "ACK" | "CANCEL") {
            let ok = msg.header(HeaderName::ProxyAuthorization).is_some_and(|c| {
                verify(c, method, msg.body(), |_, _| Some(PASSWORD.to_owned()))
                    .is_ok_and(|v| v.credentials.nonce == self.nonce)
            });
            if !ok {
                let v = format!(
                    "Digest realm=\"{DOMAIN}\", nonce=\"{}\", qop=\"auth\"",
                    self.nonce
                );
                let r = Proxy::reply(msg, 407)
                    .header(HeaderName::ProxyAuthenticate, v)
                    .build()
                    .unwrap();
                return vec![(conn, r.to_bytes())];
            }
        }
        if !in_dialog && local && method != "ACK" {
            let status = if method == "OPTIONS" { 200 } else { 404 };
            let r = Proxy::reply(msg, status).build().unwrap();
            return vec![(conn, r.to_bytes())];
        }
        // Where to: the alias in the Request-URI, else the registrar.
        let (target_uri, target) = match strip_alias(uri) {
            Some((u, c)) => (u, Some(c)),
            None => {
                let key = aor_key(uri);
                match self.bindings.iter().find(|b| b.aor == key) {
                    Some(b) => {
                        let (u, _) = strip_alias(&b.contact).unwrap_or((b.contact.clone(), b.conn));
                        (u, Some(b.conn))
                    }
                    None => (uri.to_owned(), None),
                }
            }
        };
        let Some(target) = target else {
            if method == "ACK" {
                return Vec::new();
            }
            let r = Proxy::reply(msg, 404).build().unwrap();
            return vec![(conn, r.to_bytes())];
        };
        let mut rebuilt = OwnedMessage::request(method, &target_uri).unwrap();
        let branch = msg
            .header(HeaderName::Via)
            .and_then(top_via)
            .and_then(|v| v.branch)
            .unwrap_or("")
            .trim_start_matches("z9hG4bK")
            .to_owned();
        rebuilt
            .push_header(
                HeaderName::Via,
                format!("SIP/2.0/WS  {PROXY};branch=z9hG4bKp{conn}x{branch}"),
            )
            .unwrap();
        if method == "INVITE" && !in_dialog {
            rebuilt
                .push_header(
                    HeaderName::RecordRoute,
                    format!("<sip:{PROXY};transport=ws;lr>"),
                )
                .unwrap();
        }
        let mut first_via = true;
        for h in m.headers() {
            let value = match h.name() {
                HeaderName::Via if first_via => {
                    first_via = false;
                    format!("{};rport={};received=127.0.0.1", h.value(), 40_000 + conn)
                }
                HeaderName::Contact => with_alias(h.value(), conn),
                HeaderName::ContentLength => continue,
                _ => h.value().to_owned(),
            };
            rebuilt.push_header_raw(h.raw_name(), value).unwrap();
        }
        rebuilt.set_body(m.body().to_vec());
        vec![(target, rebuilt.to_bytes())]
    }

    fn response(&mut self, conn: usize, msg: &Message<'_>) -> Vec<(usize, Vec<u8>)> {
        let Some(via) = msg.header(HeaderName::Via).and_then(top_via) else {
            return Vec::new();
        };
        if !via.sent_by.eq_ignore_ascii_case(PROXY) {
            return Vec::new();
        }
        let Some(origin) = via
            .branch
            .and_then(|b| b.strip_prefix("z9hG4bKp"))
            .and_then(|b| b.split('x').next())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return Vec::new();
        };
        let Ok(m) = OwnedMessage::try_from(msg) else {
            return Vec::new();
        };
        let mut out =
            OwnedMessage::response(msg.status().unwrap_or(500), msg.reason().unwrap_or(""))
                .unwrap();
        let mut skipped = false;
        for h in m.headers() {
            let value = match h.name() {
                HeaderName::Via if !skipped => {
                    skipped = true;
                    continue;
                }
                HeaderName::Contact => with_alias(h.value(), conn),
                HeaderName::ContentLength => continue,
                _ => h.value().to_owned(),
            };
            out.push_header_raw(h.raw_name(), value).unwrap();
        }
        out.set_body(m.body().to_vec());
        vec![(origin, out.to_bytes())]
    }

    fn challenge(&self, msg: &Message<'_>, stale: bool) -> Vec<u8> {
        let mut v = format!(
            "Digest realm=\"{DOMAIN}\", nonce=\"{}\", qop=\"auth\"",
            self.nonce
        );
        if stale {
            v.push_str(", stale=true");
        }
        Proxy::reply(msg, 401)
            .header(HeaderName::WwwAuthenticate, v)
            .build()
            .unwrap()
            .to_bytes()
    }

    fn register(&mut self, conn: usize, msg: &Message<'_>) -> Vec<u8> {
        let Some(creds) = msg.header(HeaderName::Authorization) else {
            return self.challenge(msg, false);
        };
        let Ok(ok) = verify(creds, "REGISTER", b"", |user, _| {
            matches!(user, "alice" | "bob" | "carol").then(|| PASSWORD.to_owned())
        }) else {
            return self.challenge(msg, false);
        };
        if ok.credentials.nonce != self.nonce {
            let stale = self.old_nonces.contains(&ok.credentials.nonce);
            return self.challenge(msg, stale);
        }
        let aor = aor_key(
            msg.header(HeaderName::To)
                .map(super::request::uri_of)
                .unwrap_or(""),
        );
        let contact = msg
            .contact()
            .and_then(|c| c.address().map(|a| a.uri.to_owned()))
            .unwrap_or_default();
        let asked = msg
            .contact()
            .and_then(|c| c.address().and_then(|a| a.expires()))
            .or_else(|| msg.expires())
            .unwrap_or(3600);
        self.bindings
            .retain(|b| !(b.contact == contact && b.aor == aor));
        let mut b = Proxy::reply(msg, 200);
        if asked > 0 {
            let granted = self.grant.unwrap_or(asked);
            self.bindings.push(Binding {
                aor,
                contact: contact.clone(),
                conn,
            });
            b = b.header(
                HeaderName::Contact,
                format!(
                    "<{contact}>;expires={granted};received=\"sip:127.0.0.1:{};transport=ws\"",
                    40_000 + conn
                ),
            );
        }
        b.build().unwrap().to_bytes()
    }
}

/// `user@host` of a SIP URI.
fn aor_key(uri: &str) -> String {
    Uri::parse(uri)
        .map(|u| format!("{}@{}", u.user.unwrap_or(""), u.host))
        .unwrap_or_default()
}

/// A Contact value with `;alias=c~CONN` added to its URI.
fn with_alias(value: &str, conn: usize) -> String {
    match value.find('>') {
        Some(i) => format!("{};alias=c~{conn}{}", &value[..i], &value[i..]),
        None => value.to_owned(),
    }
}

/// The URI without its alias parameter, and the connection it named.
fn strip_alias(uri: &str) -> Option<(String, usize)> {
    let start = uri.find(";alias=c~")?;
    let rest = &uri[start + 9..];
    let end = rest.find(';').unwrap_or(rest.len());
    let conn = rest[..end].parse().ok()?;
    Some((format!("{}{}", &uri[..start], &rest[end..]), conn))
}

/// Decides which frames from user agent `i` are lost.
pub(crate) type DropFilter = Box<dyn FnMut(usize, &Message<'_>) -> bool>;

/// One message on the wire, for assertions on call flows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) at: Instant,
    /// `"A>P"`, `"P>B"`, …
    pub(crate) dir: String,
    pub(crate) data: Vec<u8>,
}

impl Hop {
    /// `REGISTER 1` / `401 REGISTER` style summary: start line's method or
    /// status and the CSeq.
    pub(crate) fn summary(&self) -> String {
        let Ok(m) = Message::parse(&self.data, &Limits::default()) else {
            return "?".into();
        };
        let cseq = m.header(HeaderName::CSeq).unwrap_or("");
        match m.status() {
            Some(s) => format!("{} {s} ({cseq})", self.dir),
            None => format!("{} {} ({cseq})", self.dir, m.method().unwrap_or("")),
        }
    }

    pub(crate) fn message(&self) -> Message<'_> {
        Message::parse(&self.data, &Limits::default()).unwrap()
    }
}

/// User agents around the proxy, in virtual time.
pub(crate) struct Net {
    pub(crate) now: Instant,
    pub(crate) uas: Vec<UserAgent>,
    names: Vec<&'static str>,
    pub(crate) proxy: Proxy,
    /// The current connection of each user agent.
    conns: Vec<Option<usize>>,
    next_conn: usize,
    pub(crate) server_up: bool,
    pub(crate) hops: Vec<Hop>,
    pub(crate) events: Vec<Vec<(Instant, UaEvent)>>,
    /// Frames from user agent `i` matching this are lost on the way.
    pub(crate) drop: Option<DropFilter>,
    queue: VecDeque<(usize, Vec<u8>)>,
}

pub(crate) fn config(user: &str, password: &str, seed: u64) -> UaConfig {
    let mut c = UaConfig::new(
        format!("sip:{user}@{DOMAIN}"),
        format!("sip:{DOMAIN}"),
        format!("6ba7b810-9dad-11d1-80b4-00c04fd430{seed:02x}"),
    )
    .with_credentials(user, password);
    c.refresh_jitter_permille = 0;
    c
}

impl Net {
    /// User agents named `names` (alice, bob, …) with the right password.
    pub(crate) fn new(names: &[&'static str]) -> Net {
        let configs = names
            .iter()
            .enumerate()
            .map(|(i, n)| config(n, PASSWORD, i as u64 + 1))
            .collect();
        Net::with_configs(names, configs)
    }

    pub(crate) fn with_configs(names: &[&'static str], configs: Vec<UaConfig>) -> Net {
        let uas = configs
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                UserAgent::with_seed(c, LinkConfig::new(["ws://127.0.0.1:8080"]), 100 + i as u64)
                    .unwrap()
            })
            .collect::<Vec<_>>();
        let n = uas.len();
        Net {
            now: Instant::ZERO,
            uas,
            names: names.to_vec(),
            proxy: Proxy::new(),
            conns: vec![None; n],
            next_conn: 1,
            server_up: true,
            hops: Vec::new(),
            events: vec![Vec::new(); n],
            drop: None,
            queue: VecDeque::new(),
        }
    }

    fn name(&self, i: usize) -> &'static str {
        self.names.get(i).copied().unwrap_or("?")
    }

    /// Move every frame until nothing moves.
    pub(crate) fn settle(&mut self) {
        loop {
            let mut busy = false;
            for i in 0..self.uas.len() {
                while let Some(t) = self.uas[i].poll_transmit() {
                    busy = true;
                    self.transmit(i, t);
                }
            }
            while let Some((i, data)) = self.queue.pop_front() {
                busy = true;
                let dir = format!("P>{}", self.name(i));
                self.hops.push(Hop {
                    at: self.now,
                    dir,
                    data: data.clone(),
                });
                self.uas[i].handle_frame(self.now, &data, Opcode::Text);
            }
            for i in 0..self.uas.len() {
                while let Some(e) = self.uas[i].poll_event() {
                    busy = true;
                    self.events[i].push((self.now, e));
                }
            }
            if !busy {
                break;
            }
        }
    }

    fn transmit(&mut self, i: usize, t: Transmit) {
        let now = self.now;
        match t {
            Transmit::Connect { .. } => {
                if self.server_up {
                    self.conns[i] = Some(self.next_conn);
                    self.next_conn += 1;
                    self.uas[i].handle_open(now, Some("sip"));
                } else {
                    self.uas[i].handle_connect_failed(now, ConnectError::Refused);
                }
            }
            Transmit::Frame { data, .. } => {
                let Some(conn) = self.conns[i] else { return };
                if data.iter().all(|&b| b == b'\r' || b == b'\n') {
                    self.uas[i].handle_frame(now, b"\r\n", Opcode::Text);
                    return;
                }
                if let (Some(drop), Ok(m)) = (
                    self.drop.as_mut(),
                    Message::parse(&data, &Limits::default()),
                ) {
                    if drop(i, &m) {
                        return;
                    }
                }
                let dir = format!("{}>P", self.name(i));
                self.hops.push(Hop {
                    at: now,
                    dir,
                    data: data.clone(),
                });
                for (to, out) in self.proxy.handle(conn, &data) {
                    if let Some(j) = self.conns.iter().position(|c| *c == Some(to)) {
                        self.queue.push_back((j, out));
                    }
                }
            }
            Transmit::Close { .. } => self.conns[i] = None,
            Transmit::Ping => self.uas[i].handle_ws_pong(now),
        }
    }

    /// Advance virtual time to `end`, firing every timer on its instant.
    pub(crate) fn run_until(&mut self, end: Instant) {
        loop {
            self.settle();
            let next = self.uas.iter().filter_map(UserAgent::poll_timeout).min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    for ua in &mut self.uas {
                        ua.handle_timeout(self.now);
                    }
                }
                _ => {
                    self.now = end;
                    self.settle();
                    return;
                }
            }
        }
    }

    /// Advance by `ms`.
    pub(crate) fn run_for(&mut self, ms: u64) {
        let end = self.now + core::time::Duration::from_millis(ms);
        self.run_until(end);
    }

    /// The connection of user agent `i` breaks (no Close frame, 1006).
    pub(crate) fn drop_connection(&mut self, i: usize) {
        self.conns[i] = None;
        self.uas[i].handle_closed(
            self.now,
            CloseInfo {
                code: None,
                reason: "connection reset".into(),
                clean: false,
            },
        );
        self.settle();
    }

    /// The server restarts: every connection breaks and the registrar
    /// forgets every binding.
    pub(crate) fn restart_server(&mut self) {
        self.proxy.bindings.clear();
        for i in 0..self.uas.len() {
            if self.conns[i].is_some() {
                self.drop_connection(i);
            }
        }
    }

    /// Deliver raw bytes to user agent `i` as if the proxy sent them.
    pub(crate) fn inject(&mut self, i: usize, data: &[u8]) {
        self.queue.push_back((i, data.to_vec()));
        self.settle();
    }

    /// Summaries of every hop (see [`Hop::summary`]).
    pub(crate) fn flow(&self) -> Vec<String> {
        self.hops.iter().map(Hop::summary).collect()
    }

    /// Hops since index `from`.
    pub(crate) fn flow_since(&self, from: usize) -> Vec<String> {
        self.hops.iter().skip(from).map(Hop::summary).collect()
    }

    /// The events of user agent `i` (dropping link news).
    pub(crate) fn ua_events(&self, i: usize) -> Vec<&UaEvent> {
        self.events[i]
            .iter()
            .map(|(_, e)| e)
            .filter(|e| !matches!(e, UaEvent::Link(_)))
            .collect()
    }

    /// Take user agent `i`'s events so far.
    pub(crate) fn take_events(&mut self, i: usize) -> Vec<UaEvent> {
        core::mem::take(&mut self.events[i])
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| !matches!(e, UaEvent::Link(_)))
            .collect()
    }

    /// The current connection of user agent `i`.
    pub(crate) fn conn(&self, i: usize) -> Option<usize> {
        self.conns[i]
    }
}
