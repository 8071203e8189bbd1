//! The registrar (RFC 3261 §10) with digest authentication (RFC 7616,
//! RFC 8760) and the in-memory location service: address-of-record →
//! bindings (connection, Contact, `+sip.instance` / `reg-id`, expiry).

use std::collections::HashMap;
use std::time::{Duration, Instant as StdInstant};

use sipws_core::auth::verify::verify_parsed;
use sipws_core::auth::{Algorithm, DigestCredentials, NonceCheck, NonceIssuer};
use sipws_core::message::{Contact, HeaderName, Message, ResponseBuilder};
use sipws_core::time::Instant;

use crate::sip::{tag_for, Outbox, SipContext};
use crate::{ConnId, TestbedEvent};

/// A user's password, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name (also the user part of its address-of-record).
    pub name: String,
    /// The password.
    pub password: String,
}

/// Reads `user:password` lines (blank lines and `#` comments skipped).
///
/// # Errors
/// The 1-based number of the first line without a `:` or with an empty
/// user name.
pub fn parse_users(text: &str) -> Result<Vec<User>, usize> {
    let mut users = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((name, password)) if !name.trim().is_empty() => users.push(User {
                name: name.trim().to_owned(),
                password: password.to_owned(),
            }),
            _ => return Err(i + 1),
        }
    }
    Ok(users)
}

/// One registered contact of an address-of-record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The connection that registered it.
    pub conn: ConnId,
    /// The Contact URI.
    pub contact: String,
    /// `+sip.instance`, if given (RFC 5626).
    pub instance: Option<String>,
    /// `reg-id`, if given (RFC 5626).
    pub reg_id: Option<u32>,
    /// When it lapses.
    expires_at: StdInstant,
}

impl Binding {
    /// Seconds left, at `now`.
    #[must_use]
    pub fn remaining(&self, now: StdInstant) -> u32 {
        u32::try_from(self.expires_at.saturating_duration_since(now).as_secs()).unwrap_or(u32::MAX)
    }
}

/// Registrar state: nonces, failure counts, the location service.
#[derive(Debug)]
pub(crate) struct Registrar {
    nonces: NonceIssuer,
    failures: HashMap<(ConnId, String), u32>,
    location: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    pub(crate) fn new(secret: Vec<u8>, realm: &str) -> Registrar {
        Registrar {
            nonces: NonceIssuer::new(secret, realm, Duration::from_secs(300)),
            failures: HashMap::new(),
            location: HashMap::new(),
        }
    }

    /// The live bindings of `aor` (expired ones are forgotten), newest
    /// first.
    pub(crate) fn lookup(&mut self, aor: &str, now: StdInstant) -> Vec<Binding> {
        let Some(list) = self.location.get_mut(aor) else {
            return Vec::new();
        };
        list.retain(|b| b.expires_at > now);
        let mut out = list.clone();
        out.reverse();
        out
    }

    /// Every live binding (address-of-record, binding).
    pub(crate) fn all(&mut self, now: StdInstant) -> Vec<(String, Binding)> {
        let mut out = Vec::new();
        for (aor, list) in &mut self.location {
            list.retain(|b| b.expires_at > now);
            out.extend(list.iter().map(|b| (aor.clone(), b.clone())));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Forgets every binding (as a restart would); returns them.
    pub(crate) fn drop_all(&mut self) -> Vec<(String, Binding)> {
        let mut out = Vec::new();
        for (aor, list) in self.location.drain() {
            out.extend(list.into_iter().map(|b| (aor.clone(), b)));
        }
        out
    }

    /// Handles one REGISTER from `conn`.
    pub(crate) fn register(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        req: &Message<'_>,
        out: &mut Outbox,
    ) {
        let Some(aor) = req
            .to()
            .and_then(|to| to.sip_uri())
            .and_then(|u| Some(cx.aor(u.user?, u.host_unbracketed())))
        else {
            out.reply(conn, req, 400, "To without a SIP user");
            return;
        };
        if !cx.config.users.is_empty() && !self.authenticate(cx, conn, req, &aor, out) {
            return;
        }
        self.failures.remove(&(conn, aor.clone()));
        self.update_bindings(cx, conn, req, &aor, out);
    }

    /// Whether the request carries good credentials; otherwise the 401 or
    /// 403 is in `out`.
    fn authenticate(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        req: &Message<'_>,
        aor: &str,
        out: &mut Outbox,
    ) -> bool {
        let now = cx.now;
        let Some(value) = req.header(HeaderName::Authorization) else {
            self.challenge(cx, conn, req, aor, false, out);
            return false;
        };
        let failure = match DigestCredentials::parse(value) {
            Err(e) => e.to_string(),
            Ok(c) => match self.nonces.check(&c.nonce, c.nc, now_core(now)) {
                NonceCheck::Stale => {
                    self.challenge(cx, conn, req, aor, true, out);
                    return false;
                }
                NonceCheck::Valid => {
                    let user = cx.config.users.iter().find(|u| u.name == c.username);
                    match user {
                        None => "unknown user".to_owned(),
                        Some(_) if c.realm != cx.config.domain => "wrong realm".to_owned(),
                        Some(u) => {
                            match verify_parsed(
                                &c,
                                req.method().unwrap_or(""),
                                req.body(),
                                &u.password,
                            ) {
                                Ok(()) => return true,
                                Err(e) => e.to_string(),
                            }
                        }
                    }
                }
                other => format!("nonce {other:?}"),
            },
        };
        let count = self.failures.entry((conn, aor.to_owned())).or_insert(0);
        *count = count.saturating_add(1);
        let forbidden = *count >= cx.config.max_auth_failures;
        out.event(TestbedEvent::AuthFailed {
            conn,
            aor: aor.to_owned(),
            reason: failure,
            forbidden,
        });
        if forbidden {
            self.failures.remove(&(conn, aor.to_owned()));
            out.reply(conn, req, 403, "Forbidden");
        } else {
            self.challenge(cx, conn, req, aor, false, out);
        }
        false
    }

    fn challenge(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        req: &Message<'_>,
        aor: &str,
        stale: bool,
        out: &mut Outbox,
    ) {
        let value = self
            .nonces
            .challenge(cx.config.algorithm, now_core(cx.now), stale);
        let response = ResponseBuilder::reply_to(req, 401)
            .to_tag(tag_for(req))
            .header(HeaderName::WwwAuthenticate, value)
            .build();
        out.event(TestbedEvent::AuthChallenged {
            conn,
            aor: aor.to_owned(),
            algorithm: cx.config.algorithm.as_str().to_owned(),
        });
        out.send_built(conn, response);
    }

    fn update_bindings(
        &mut self,
        cx: &SipContext<'_>,
        conn: ConnId,
        req: &Message<'_>,
        aor: &str,
        out: &mut Outbox,
    ) {
        let now = cx.now;
        let header_expires = req.expires();
        let mut contacts = Vec::new();
        for c in req.contacts() {
            match c {
                Ok(c) => contacts.push(c),
                Err(_) => {
                    out.reply(conn, req, 400, "Bad Contact");
                    return;
                }
            }
        }
        let list = self.location.entry(aor.to_owned()).or_default();
        list.retain(|b| b.expires_at > now);
        if contacts.iter().any(|c| matches!(c, Contact::Wildcard)) {
            if contacts.len() != 1 || header_expires != Some(0) {
                out.reply(conn, req, 400, "Contact * needs Expires: 0 alone");
                return;
            }
            for b in list.drain(..) {
                out.event(TestbedEvent::Unregistered {
                    conn: b.conn,
                    aor: aor.to_owned(),
                    contact: b.contact,
                    reason: "Contact: *".into(),
                });
            }
        }
        for c in &contacts {
            let Some(addr) = c.address() else { continue };
            let expires = addr
                .expires()
                .or(header_expires)
                .unwrap_or(cx.config.default_expires)
                .min(cx.config.max_expires);
            let instance = addr.instance().map(str::to_owned);
            let reg_id = addr.reg_id();
            // Same Contact URI, or the same RFC 5626 flow, replaces.
            let same = |b: &Binding| {
                b.contact == addr.uri
                    || (instance.is_some() && b.instance == instance && b.reg_id == reg_id)
            };
            let old: Vec<Binding> = list.iter().filter(|b| same(b)).cloned().collect();
            list.retain(|b| !same(b));
            if expires == 0 {
                for b in old {
                    out.event(TestbedEvent::Unregistered {
                        conn: b.conn,
                        aor: aor.to_owned(),
                        contact: b.contact,
                        reason: "expires 0".into(),
                    });
                }
                continue;
            }
            out.learn(addr.uri, conn);
            list.push(Binding {
                conn,
                contact: addr.uri.to_owned(),
                instance,
                reg_id,
                expires_at: now + Duration::from_secs(u64::from(expires)),
            });
            out.event(TestbedEvent::Registered {
                conn,
                aor: aor.to_owned(),
                contact: addr.uri.to_owned(),
                expires,
            });
        }
        let mut ok = ResponseBuilder::reply_to(req, 200).to_tag(tag_for(req));
        for b in list.iter() {
            let mut v = format!("<{}>;expires={}", b.contact, b.remaining(now));
            if let Some(i) = &b.instance {
                // The accessor gives the value without its quotes.
                v.push_str(";+sip.instance=\"");
                v.push_str(i);
                v.push('"');
            }
            if let Some(r) = b.reg_id {
                v.push_str(&format!(";reg-id={r}"));
            }
            ok = ok.header(HeaderName::Contact, v);
        }
        if list.is_empty() {
            self.location.remove(aor);
        }
        out.send_built(conn, ok.build());
    }
}

/// The core's millisecond clock from the process clock (the core's nonces
/// carry their issue time).
pub(crate) fn now_core(now: StdInstant) -> Instant {
    let base = *crate::sip::EPOCH.get_or_init(StdInstant::now);
    let ms = now.saturating_duration_since(base).as_millis();
    Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX).saturating_add(1))
}

/// The algorithm token for `md5` / `sha-256` (case-insensitive).
#[must_use]
pub fn algorithm_from_name(name: &str) -> Option<Algorithm> {
    Algorithm::from_token(name).or_else(|| match name.to_ascii_lowercase().as_str() {
        "md5" => Some(Algorithm::Md5),
        "sha256" | "sha-256" => Some(Algorithm::Sha256),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_file_lines() {
        let users = parse_users("# users\nalice:secret\n\n bob : p:w \n").unwrap();
        assert_eq!(
            users,
            vec![
                User {
                    name: "alice".into(),
                    password: "secret".into()
                },
                User {
                    name: "bob".into(),
                    password: " p:w".into()
                },
            ]
        );
        assert_eq!(parse_users("alice:x\nnocolon\n"), Err(2));
        assert_eq!(parse_users(":pw"), Err(1));
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(algorithm_from_name("md5"), Some(Algorithm::Md5));
        assert_eq!(algorithm_from_name("SHA-256"), Some(Algorithm::Sha256));
        assert_eq!(algorithm_from_name("sha256"), Some(Algorithm::Sha256));
        assert_eq!(algorithm_from_name("crc32"), None);
    }
}
