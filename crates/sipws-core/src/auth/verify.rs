//! The server side: check the `Authorization` / `Proxy-Authorization` of a
//! request against a user's password (RFC 3261 §22.4, RFC 7616 §3.4).
//! Nonce issuing, freshness and replay (the nonce-count must grow) are the
//! caller's policy: [`Verified`] reports what it needs for them.

use core::fmt;

use super::algorithm::Algorithm;
use super::challenge::Qop;
use super::digest::{self, DigestInput};
use super::params;
use crate::message::AuthParams;

/// The parameters of `Digest` credentials, unquoted and unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestCredentials {
    /// `username` as sent (the hashed one when `userhash` is true).
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce` the client answered.
    pub nonce: String,
    /// `uri`: should equal the Request-URI (the caller checks).
    pub uri: String,
    /// `response` (hex).
    pub response: String,
    /// The algorithm (MD5 when the parameter is absent).
    pub algorithm: Algorithm,
    /// `cnonce`, if sent.
    pub cnonce: Option<String>,
    /// `nc`, if sent.
    pub nc: Option<u32>,
    /// `qop`, if sent.
    pub qop: Option<Qop>,
    /// `opaque`, if sent.
    pub opaque: Option<String>,
    /// `userhash=true`: `username` is `H(username:realm)`.
    pub userhash: bool,
}

/// Why credentials do not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not auth-param syntax (byte offset where parsing stopped).
    Syntax(usize),
    /// Not `Digest` credentials.
    NotDigest,
    /// A required parameter is missing (its name).
    MissingParameter(&'static str),
    /// The algorithm is not one sipws implements (the token).
    UnsupportedAlgorithm(String),
    /// `qop` names something other than `auth` / `auth-int`.
    UnsupportedQop(String),
    /// `nc` is not 8 hex digits.
    BadNonceCount,
    /// The password lookup knows no such user in that realm.
    UnknownUser,
    /// The response does not match: wrong password (or tampering).
    WrongResponse,
    /// `userhash=true` credentials given to [`verify`], whose lookup maps
    /// a user name to a password only; map the hashed name yourself and
    /// use [`verify_parsed_as`].
    Userhash,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Syntax(at) => write!(f, "malformed credentials at byte {at}"),
            VerifyError::NotDigest => f.write_str("not Digest credentials"),
            VerifyError::MissingParameter(p) => write!(f, "credentials without {p}"),
            VerifyError::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm {a:?}"),
            VerifyError::UnsupportedQop(q) => write!(f, "unsupported qop {q:?}"),
            VerifyError::BadNonceCount => f.write_str("nc is not 8 hex digits"),
            VerifyError::UnknownUser => f.write_str("unknown user"),
            VerifyError::WrongResponse => f.write_str("wrong digest response"),
            VerifyError::Userhash => f.write_str("hashed user name needs verify_parsed_as"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl DigestCredentials {
    /// Parse an `Authorization` / `Proxy-Authorization` value.
    pub fn parse(value: &str) -> Result<DigestCredentials, VerifyError> {
        let all = params::parse_challenges(value).map_err(|e| VerifyError::Syntax(e.offset))?;
        match all.as_slice() {
            [one] if one.scheme.eq_ignore_ascii_case("Digest") => {
                DigestCredentials::from_lookup(|name| one.get(name))
            }
            _ => Err(VerifyError::NotDigest),
        }
    }

    /// Credentials already split by the message parser (one value of
    /// [`crate::message::Message::authorization`]).
    pub fn from_auth_params(p: &AuthParams<'_>) -> Result<DigestCredentials, VerifyError> {
        if !p.is_scheme("Digest") {
            return Err(VerifyError::NotDigest);
        }
        DigestCredentials::from_lookup(|name| p.get(name))
    }

    fn from_lookup<'v>(
        get: impl Fn(&str) -> Option<&'v str>,
    ) -> Result<DigestCredentials, VerifyError> {
        let text = |name: &str| get(name).map(|v| params::unescape(v).into_owned());
        let need = |name: &'static str| text(name).ok_or(VerifyError::MissingParameter(name));
        let algorithm = match text("algorithm") {
            None => Algorithm::Md5,
            Some(t) => {
                Algorithm::from_token(t.trim()).ok_or(VerifyError::UnsupportedAlgorithm(t))?
            }
        };
        let qop = match text("qop") {
            None => None,
            Some(q) => Some(Qop::from_token(q.trim()).ok_or(VerifyError::UnsupportedQop(q))?),
        };
        let nc = match get("nc") {
            None => None,
            Some(n) if n.len() == 8 && n.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(u32::from_str_radix(n, 16).map_err(|_| VerifyError::BadNonceCount)?)
            }
            Some(_) => return Err(VerifyError::BadNonceCount),
        };
        let creds = DigestCredentials {
            username: need("username")?,
            realm: need("realm")?,
            nonce: need("nonce")?,
            uri: need("uri")?,
            response: need("response")?,
            algorithm,
            cnonce: text("cnonce"),
            nc,
            qop,
            opaque: text("opaque"),
            userhash: get("userhash").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        };
        if creds.qop.is_some() {
            if creds.cnonce.is_none() {
                return Err(VerifyError::MissingParameter("cnonce"));
            }
            if creds.nc.is_none() {
                return Err(VerifyError::MissingParameter("nc"));
            }
        }
        if creds.algorithm.is_session() && creds.cnonce.is_none() {
            return Err(VerifyError::MissingParameter("cnonce"));
        }
        Ok(creds)
    }
}

/// Credentials that verified: what the caller still has to check (the
/// nonce is one it issued and still valid, `nc` grew since the last
/// request with that nonce, `uri` matches the Request-URI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The credentials as parsed.
    pub credentials: DigestCredentials,
}

/// Verify `authorization` (a header value) for a request with `method`
/// and `body`. `lookup(username, realm)` returns the user's password, or
/// `None` for an unknown user. Credentials with `userhash=true` fail with
/// [`VerifyError::Userhash`] (see [`verify_parsed_as`]).
pub fn verify(
    authorization: &str,
    method: &str,
    body: &[u8],
    lookup: impl FnOnce(&str, &str) -> Option<String>,
) -> Result<Verified, VerifyError> {
    let c = DigestCredentials::parse(authorization)?;
    if c.userhash {
        return Err(VerifyError::Userhash);
    }
    let password = lookup(&c.username, &c.realm).ok_or(VerifyError::UnknownUser)?;
    verify_parsed(&c, method, body, &password)?;
    Ok(Verified { credentials: c })
}

/// Verify already parsed credentials against a known password. With
/// `userhash=true` the caller has mapped the hashed username to
/// `real_username` before — use [`verify_parsed_as`] then.
pub fn verify_parsed(
    c: &DigestCredentials,
    method: &str,
    body: &[u8],
    password: &str,
) -> Result<(), VerifyError> {
    verify_parsed_as(c, &c.username, method, body, password)
}

/// As [`verify_parsed`], computing `A1` with `real_username` (the user the
/// hashed `username` of a `userhash=true` request stands for).
pub fn verify_parsed_as(
    c: &DigestCredentials,
    real_username: &str,
    method: &str,
    body: &[u8],
    password: &str,
) -> Result<(), VerifyError> {
    let input = DigestInput {
        algorithm: c.algorithm,
        username: real_username,
        realm: &c.realm,
        nonce: &c.nonce,
        cnonce: c.cnonce.as_deref().unwrap_or(""),
        nc: c.nc.unwrap_or(0),
        qop: c.qop,
        method,
        uri: &c.uri,
        body,
    };
    let expected = digest::response(&input, password);
    if eq_hex_constant_time(expected.as_bytes(), c.response.as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::WrongResponse)
    }
}

/// Compare hex strings ASCII case-insensitively without an early exit on
/// the first differing byte.
fn eq_hex_constant_time(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x.to_ascii_lowercase() ^ y.to_ascii_lowercase();
    }
    diff == 0
}
