//! The client side of digest authentication (RFC 3261 §22.2–22.4,
//! RFC 7616 §3.4): answers 401 / 407 challenges, keeps a nonce-count per
//! nonce, retries a `stale=true` challenge once on its own, and builds
//! `Authorization` / `Proxy-Authorization` values for later requests.
//!
//! The user agent drives it per request chain (the original request and
//! its authenticated retries):
//! 1. before sending, add every header [`DigestClient::authorize`] returns
//!    (none at first; credentials for known realms afterwards);
//! 2. on each final response, call [`DigestClient::handle_response`] with
//!    its status and `WWW-Authenticate` (401) or `Proxy-Authenticate` (407)
//!    values; [`AuthOutcome::Retry`] means "send the request again (new
//!    CSeq) with fresh [`DigestClient::authorize`] headers"; an error means
//!    give up and report it.

use core::fmt;

use super::algorithm::Algorithm;
use super::challenge::{ChallengeError, DigestChallenge, Qop};
use super::digest::{self, DigestInput};
use super::params::push_quoted;
use crate::link::RandomSource;
use crate::message::{AuthParams, HeaderName, Message};

/// How many `stale=true` challenges one request chain may answer on its
/// own (RFC 7616 §3.3: retry "without reprompting the user").
const MAX_STALE_RETRIES: u8 = 1;

/// What the application configured: who we are and the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (`username` parameter; `A1`'s first part).
    pub username: String,
    /// The password.
    pub password: String,
    /// If set, only challenges for exactly this realm are answered
    /// (others fail with [`AuthError::RealmMismatch`]).
    pub realm: Option<String>,
}

impl Credentials {
    /// Credentials valid for any realm that challenges us.
    #[must_use]
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
            realm: None,
        }
    }

    /// Restrict these credentials to one realm.
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Credentials {
        self.realm = Some(realm.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("realm", &self.realm)
            .finish()
    }
}

/// Policy knobs of the digest client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestOptions {
    /// Never answer an MD5 / MD5-sess challenge.
    pub refuse_md5: bool,
    /// Never answer a challenge without `qop` (the RFC 2069 computation,
    /// which has no client nonce).
    pub require_qop: bool,
    /// Use `auth-int` when offered alongside `auth` (default: `auth`,
    /// which survives proxies that rewrite bodies).
    pub prefer_auth_int: bool,
    /// Send the hashed username when the server offers `userhash=true`
    /// (RFC 7616 §3.4.4). Default on.
    pub userhash: bool,
}

impl Default for DigestOptions {
    fn default() -> Self {
        DigestOptions {
            refuse_md5: false,
            require_qop: false,
            prefer_auth_int: false,
            userhash: true,
        }
    }
}

/// Source of client nonces. The core never draws OS randomness: drivers
/// implement this over their platform's secure generator (or wrap a
/// seeded [`RandomSource`] in [`RandomCnonce`]); tests pass a closure.
pub trait CnonceSource {
    /// A fresh, unpredictable client nonce (token characters only).
    fn next_cnonce(&mut self) -> String;
}

impl<F: FnMut() -> String> CnonceSource for F {
    fn next_cnonce(&mut self) -> String {
        self()
    }
}

/// Client nonces from an injected [`RandomSource`]: 128 bits as 32 hex
/// characters each. As unpredictable as the source (drivers seed it from
/// the platform's secure generator; tests use a fixed seed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomCnonce<R>(pub R);

impl<R: RandomSource> CnonceSource for RandomCnonce<R> {
    fn next_cnonce(&mut self) -> String {
        let (a, b) = (self.0.next_u64(), self.0.next_u64());
        format!("{a:016x}{b:016x}")
    }
}

/// Which kind of challenge: origin (401) or proxy (407).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// 401 Unauthorized: `WWW-Authenticate` → `Authorization`.
    Www,
    /// 407 Proxy Authentication Required: `Proxy-Authenticate` →
    /// `Proxy-Authorization`.
    Proxy,
}

impl ChallengeKind {
    /// The kind a status code asks for, if it is 401 or 407.
    #[must_use]
    pub const fn from_status(status: u16) -> Option<ChallengeKind> {
        match status {
            401 => Some(ChallengeKind::Www),
            407 => Some(ChallengeKind::Proxy),
            _ => None,
        }
    }

    /// The header that carries the challenge.
    #[must_use]
    pub const fn challenge_header(self) -> HeaderName {
        match self {
            ChallengeKind::Www => HeaderName::WwwAuthenticate,
            ChallengeKind::Proxy => HeaderName::ProxyAuthenticate,
        }
    }

    /// The header that carries the answer.
    #[must_use]
    pub const fn credentials_header(self) -> HeaderName {
        match self {
            ChallengeKind::Www => HeaderName::Authorization,
            ChallengeKind::Proxy => HeaderName::ProxyAuthorization,
        }
    }
}

/// One header to add to an outgoing request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// [`HeaderName::Authorization`] or [`HeaderName::ProxyAuthorization`].
    pub name: HeaderName,
    /// The value, `Digest username="...", ...`.
    pub value: String,
}

/// What to do after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum AuthOutcome {
    /// Not an authentication challenge (the chain is over).
    NotChallenged,
    /// Send the request again with [`DigestClient::authorize`]'s headers.
    Retry,
}

/// Why a challenge cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// A 401/407 without any `Digest` challenge.
    NoChallenge,
    /// The only challenges were unreadable.
    Malformed(ChallengeError),
    /// Only algorithms sipws does not implement were offered (the token).
    UnsupportedAlgorithm(String),
    /// Only MD5 was offered and [`DigestOptions::refuse_md5`] is set.
    Md5Refused,
    /// Only challenges without `qop` were offered and
    /// [`DigestOptions::require_qop`] is set.
    QopRequired,
    /// `qop` offered only options other than `auth` / `auth-int`.
    UnsupportedQop,
    /// The credentials are restricted to another realm (the offered one).
    RealmMismatch(String),
    /// The server refused credentials computed with a nonce it had just
    /// issued, without `stale=true`: wrong user name or password.
    Rejected(String),
    /// `stale=true` again after the one automatic retry.
    RetryLimit,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::NoChallenge => f.write_str("no Digest challenge in the response"),
            AuthError::Malformed(e) => write!(f, "unreadable challenge: {e}"),
            AuthError::UnsupportedAlgorithm(t) => write!(f, "unsupported digest algorithm {t:?}"),
            AuthError::Md5Refused => f.write_str("only MD5 offered and MD5 is refused"),
            AuthError::QopRequired => f.write_str("challenge without qop refused"),
            AuthError::UnsupportedQop => f.write_str("no supported qop offered"),
            AuthError::RealmMismatch(r) => write!(f, "credentials not valid for realm {r:?}"),
            AuthError::Rejected(r) => write!(f, "credentials rejected for realm {r:?}"),
            AuthError::RetryLimit => f.write_str("stale nonce again after a retry"),
        }
    }
}

impl std::error::Error for AuthError {}

/// What we know about one protection space (kind + realm).
#[derive(Clone, Debug)]
struct Space {
    kind: ChallengeKind,
    challenge: DigestChallenge,
    algorithm: Algorithm,
    qop: Option<Qop>,
    /// Last nonce-count used with `challenge.nonce` (0: not used yet).
    nc: u32,
    /// The client nonce used with this nonce (kept, so `-sess` keys stay
    /// the same across requests).
    cnonce: String,
    /// Credentials for the current nonce went out since the chain began.
    sent: bool,
    /// The nonce was received within the current chain (so a rejection
    /// cannot be blamed on an old nonce).
    fresh: bool,
    stale_retries: u8,
}

/// A digest-authentication client for one identity.
pub struct DigestClient {
    credentials: Credentials,
    options: DigestOptions,
    cnonces: Box<dyn CnonceSource + Send>,
    spaces: Vec<Space>,
}

impl fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestClient")
            .field("credentials", &self.credentials)
            .field("options", &self.options)
            .field("spaces", &self.spaces.len())
            .finish_non_exhaustive()
    }
}

/// A usable challenge and how we would answer it.
struct Choice {
    challenge: DigestChallenge,
    algorithm: Algorithm,
    qop: Option<Qop>,
}

impl DigestClient {
    /// A client with `credentials`, `options`, and a cnonce source.
    #[must_use]
    pub fn new(
        credentials: Credentials,
        options: DigestOptions,
        cnonces: impl CnonceSource + Send + 'static,
    ) -> DigestClient {
        DigestClient {
            credentials,
            options,
            cnonces: Box::new(cnonces),
            spaces: Vec::new(),
        }
    }

    /// The configured credentials.
    #[must_use]
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Forget every nonce (e.g. after the user changed the password).
    pub fn reset(&mut self) {
        self.spaces.clear();
    }

    /// Feed a final response of the current request chain: `status` and
    /// the values of its challenge headers (`WWW-Authenticate` for 401,
    /// `Proxy-Authenticate` for 407; ignored otherwise). Provisional
    /// responses change nothing.
    pub fn handle_response<'v>(
        &mut self,
        status: u16,
        challenges: impl IntoIterator<Item = &'v str>,
    ) -> Result<AuthOutcome, AuthError> {
        let Some(kind) = ChallengeKind::from_status(status) else {
            if status >= 200 {
                self.end_chain();
            }
            return Ok(AuthOutcome::NotChallenged);
        };
        let choices = self.choose(challenges)?;
        for choice in choices {
            self.adopt(kind, choice)?;
        }
        Ok(AuthOutcome::Retry)
    }

    /// [`DigestClient::handle_response`] for a parsed response: its status,
    /// and the `WWW-Authenticate` / `Proxy-Authenticate` values of a 401 /
    /// 407. A 2xx's `Authentication-Info` `nextnonce` is adopted too.
    pub fn handle_message(&mut self, response: &Message<'_>) -> Result<AuthOutcome, AuthError> {
        let status = response.status().unwrap_or(0);
        let header = match ChallengeKind::from_status(status) {
            Some(kind) => kind.challenge_header(),
            None => HeaderName::Other,
        };
        let values: Vec<&str> = if header == HeaderName::Other {
            Vec::new()
        } else {
            response.headers_named(header).collect()
        };
        let outcome = self.handle_response(status, values)?;
        if (200..300).contains(&status) {
            if let Some(info) = response.header(HeaderName::AuthenticationInfo) {
                self.handle_authentication_info(info);
            }
        }
        Ok(outcome)
    }

    /// An `Authentication-Info` value (RFC 7616 §3.5, RFC 3261 §20.6) of a
    /// successful response: its `nextnonce` replaces the nonce of the
    /// origin protection space (when there is exactly one), restarting the
    /// nonce-count. Anything else in it is ignored; returns whether a
    /// nonce was adopted.
    pub fn handle_authentication_info(&mut self, value: &str) -> bool {
        let Ok(params) = AuthParams::parse_list(value) else {
            return false;
        };
        let Some(next) = params.get("nextnonce") else {
            return false;
        };
        let next = super::params::unescape(next).into_owned();
        let mut www = self
            .spaces
            .iter_mut()
            .filter(|s| s.kind == ChallengeKind::Www);
        let (Some(space), None) = (www.next(), www.next()) else {
            return false;
        };
        if space.challenge.nonce != next {
            space.challenge.nonce = next;
            space.nc = 0;
            space.cnonce = self.cnonces.next_cnonce();
        }
        true
    }

    /// The best usable challenge per realm, or why there is none.
    fn choose<'v>(
        &self,
        values: impl IntoIterator<Item = &'v str>,
    ) -> Result<Vec<Choice>, AuthError> {
        let mut rejection: Option<AuthError> = None;
        let mut chosen: Vec<Choice> = Vec::new();
        for value in values {
            let parsed = match DigestChallenge::parse_all(value) {
                Ok(p) => p,
                Err(e) => {
                    rejection.get_or_insert(AuthError::Malformed(e));
                    continue;
                }
            };
            for challenge in parsed {
                match self.usable(&challenge) {
                    Ok((algorithm, qop)) => {
                        match chosen
                            .iter_mut()
                            .find(|c| c.challenge.realm == challenge.realm)
                        {
                            // Several challenges for one realm: the
                            // strongest hash wins, the first among equals.
                            Some(c) if algorithm.strength() > c.algorithm.strength() => {
                                *c = Choice {
                                    challenge,
                                    algorithm,
                                    qop,
                                };
                            }
                            Some(_) => {}
                            None => chosen.push(Choice {
                                challenge,
                                algorithm,
                                qop,
                            }),
                        }
                    }
                    Err(e) => {
                        rejection.get_or_insert(e);
                    }
                }
            }
        }
        if chosen.is_empty() {
            return Err(rejection.unwrap_or(AuthError::NoChallenge));
        }
        Ok(chosen)
    }

    /// Whether we can and may answer `c`, and with what.
    fn usable(&self, c: &DigestChallenge) -> Result<(Algorithm, Option<Qop>), AuthError> {
        if let Some(realm) = &self.credentials.realm {
            if *realm != c.realm {
                return Err(AuthError::RealmMismatch(c.realm.clone()));
            }
        }
        let algorithm = c.algorithm().ok_or_else(|| {
            AuthError::UnsupportedAlgorithm(c.algorithm_token.clone().unwrap_or_default())
        })?;
        if algorithm.is_md5() && self.options.refuse_md5 {
            return Err(AuthError::Md5Refused);
        }
        let qop = match c.qop {
            None if self.options.require_qop => return Err(AuthError::QopRequired),
            None => None,
            Some(q) if q.auth_int && (self.options.prefer_auth_int || !q.auth) => {
                Some(Qop::AuthInt)
            }
            Some(q) if q.auth => Some(Qop::Auth),
            Some(_) => return Err(AuthError::UnsupportedQop),
        };
        Ok((algorithm, qop))
    }

    fn adopt(&mut self, kind: ChallengeKind, choice: Choice) -> Result<(), AuthError> {
        let idx = self
            .spaces
            .iter()
            .position(|s| s.kind == kind && s.challenge.realm == choice.challenge.realm);
        let Some(idx) = idx else {
            let cnonce = self.cnonces.next_cnonce();
            self.spaces.push(Space {
                kind,
                algorithm: choice.algorithm,
                qop: choice.qop,
                challenge: choice.challenge,
                nc: 0,
                cnonce,
                sent: false,
                fresh: true,
                stale_retries: 0,
            });
            return Ok(());
        };
        let space = &mut self.spaces[idx];
        if space.sent {
            if choice.challenge.stale {
                if space.stale_retries >= MAX_STALE_RETRIES {
                    self.spaces.remove(idx);
                    return Err(AuthError::RetryLimit);
                }
                space.stale_retries += 1;
            } else if space.fresh {
                let realm = choice.challenge.realm.clone();
                self.spaces.remove(idx);
                return Err(AuthError::Rejected(realm));
            }
        }
        if space.challenge.nonce != choice.challenge.nonce {
            space.nc = 0;
            space.cnonce = self.cnonces.next_cnonce();
        }
        space.challenge = choice.challenge;
        space.algorithm = choice.algorithm;
        space.qop = choice.qop;
        space.sent = false;
        space.fresh = true;
        Ok(())
    }

    /// A final response other than 401/407 ended the chain.
    fn end_chain(&mut self) {
        for s in &mut self.spaces {
            s.sent = false;
            s.fresh = false;
            s.stale_retries = 0;
        }
    }

    /// The credential headers for an outgoing request with this `method`,
    /// Request-URI `uri` and `body` (hashed only for `auth-int`); one per
    /// known protection space, each with its nonce-count incremented.
    /// Empty before any challenge.
    pub fn authorize(&mut self, method: &str, uri: &str, body: &[u8]) -> Vec<AuthorizationHeader> {
        let mut out = Vec::with_capacity(self.spaces.len());
        for space in &mut self.spaces {
            space.nc = space.nc.saturating_add(1);
            space.sent = true;
            out.push(AuthorizationHeader {
                name: space.kind.credentials_header(),
                value: credentials_value(
                    &self.credentials,
                    &self.options,
                    space,
                    method,
                    uri,
                    body,
                ),
            });
        }
        out
    }
}

/// `Digest username="...", realm="...", uri="...", algorithm=...,
/// nonce="...", nc=..., cnonce="...", qop=..., response="...",
/// opaque="..."` — the order of RFC 7616 §3.9.1; `algorithm`, `qop` and
/// `nc` unquoted (RFC 7616 §3.4), the rest quoted.
fn credentials_value(
    cred: &Credentials,
    options: &DigestOptions,
    space: &Space,
    method: &str,
    uri: &str,
    body: &[u8],
) -> String {
    let ch = &space.challenge;
    let alg = space.algorithm;
    let with_cnonce = space.qop.is_some() || alg.is_session();
    let input = DigestInput {
        algorithm: alg,
        username: &cred.username,
        realm: &ch.realm,
        nonce: &ch.nonce,
        cnonce: if with_cnonce { &space.cnonce } else { "" },
        nc: space.nc,
        qop: space.qop,
        method,
        uri,
        body,
    };
    let response = digest::response(&input, &cred.password);
    let hashed_user = ch.userhash && options.userhash;

    let mut v = String::with_capacity(256);
    v.push_str("Digest username=");
    if hashed_user {
        let h = digest::userhash(alg, &cred.username, &ch.realm);
        push_quoted(&mut v, h.as_str());
    } else {
        push_quoted(&mut v, &cred.username);
    }
    v.push_str(", realm=");
    push_quoted(&mut v, &ch.realm);
    v.push_str(", uri=");
    push_quoted(&mut v, uri);
    v.push_str(", algorithm=");
    v.push_str(alg.as_str());
    v.push_str(", nonce=");
    push_quoted(&mut v, &ch.nonce);
    if space.qop.is_some() {
        v.push_str(", nc=");
        v.extend(digest::format_nc(space.nc).iter().map(|&b| char::from(b)));
    }
    if with_cnonce {
        v.push_str(", cnonce=");
        push_quoted(&mut v, &space.cnonce);
    }
    if let Some(qop) = space.qop {
        v.push_str(", qop=");
        v.push_str(qop.as_str());
    }
    v.push_str(", response=");
    push_quoted(&mut v, response.as_str());
    if let Some(opaque) = &ch.opaque {
        v.push_str(", opaque=");
        push_quoted(&mut v, opaque);
    }
    if hashed_user {
        v.push_str(", userhash=true");
    }
    v
}
