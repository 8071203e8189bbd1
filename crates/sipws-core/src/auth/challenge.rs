//! Digest challenges: the `WWW-Authenticate` of a 401 and the
//! `Proxy-Authenticate` of a 407 (RFC 3261 §22.2–22.3, §25.1;
//! RFC 7616 §3.3).

use core::fmt;

use super::algorithm::Algorithm;
use super::params;
use crate::message::AuthParams;

/// The `qop` options a server offered (RFC 7616 §3.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QopOptions {
    /// `auth` is offered.
    pub auth: bool,
    /// `auth-int` (integrity of the body) is offered.
    pub auth_int: bool,
}

/// A quality of protection sipws can answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication with the hash of the message body.
    AuthInt,
}

impl Qop {
    /// The token, `"auth"` or `"auth-int"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }

    /// Parse a `qop` token (ASCII case-insensitive).
    #[must_use]
    pub fn from_token(token: &str) -> Option<Qop> {
        if token.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if token.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `Digest` challenge, unquoted and unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestChallenge {
    /// `realm`: the protection space, shown to users and part of `A1`.
    pub realm: String,
    /// `nonce`: the server's one-time value.
    pub nonce: String,
    /// `opaque`: echoed unchanged in the credentials, if present.
    pub opaque: Option<String>,
    /// The `algorithm` token as written; `None` when absent (meaning MD5).
    pub algorithm_token: Option<String>,
    /// The `qop` options; `None` when the parameter is absent (RFC 2069 /
    /// RFC 2617 compatibility: the response is then computed without
    /// nonce-count and cnonce).
    pub qop: Option<QopOptions>,
    /// `stale=true`: the previous credentials were right but their nonce
    /// expired; retry with the new nonce without asking the user again.
    pub stale: bool,
    /// `domain`: space-separated URIs of the protection space, as written.
    pub domain: Option<String>,
    /// `userhash=true`: the server accepts a hashed username (RFC 7616 §3.4.4).
    pub userhash: bool,
    /// `charset=UTF-8` was present (RFC 7616 §4).
    pub charset_utf8: bool,
}

/// Why a challenge could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The value is not valid auth-param syntax; `offset` is the byte where
    /// parsing stopped.
    Syntax {
        /// Byte offset in the header value.
        offset: usize,
    },
    /// The value holds no `Digest` challenge (only other schemes).
    NotDigest,
    /// A `Digest` challenge without `realm`.
    MissingRealm,
    /// A `Digest` challenge without `nonce`.
    MissingNonce,
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::Syntax { offset } => {
                write!(f, "malformed authentication challenge at byte {offset}")
            }
            ChallengeError::NotDigest => f.write_str("no Digest challenge"),
            ChallengeError::MissingRealm => f.write_str("Digest challenge without realm"),
            ChallengeError::MissingNonce => f.write_str("Digest challenge without nonce"),
        }
    }
}

impl std::error::Error for ChallengeError {}

impl DigestChallenge {
    /// Every `Digest` challenge in one header value (usually one; HTTP
    /// style lists of several are accepted), in order. Challenges of other
    /// schemes are skipped; a `Digest` challenge lacking realm or nonce
    /// makes the whole call fail, as does broken syntax.
    pub fn parse_all(value: &str) -> Result<Vec<DigestChallenge>, ChallengeError> {
        let raw = params::parse_challenges(value)
            .map_err(|e| ChallengeError::Syntax { offset: e.offset })?;
        raw.iter()
            .filter(|c| c.scheme.eq_ignore_ascii_case("Digest"))
            .map(|c| DigestChallenge::from_lookup(|name| c.get(name)))
            .collect()
    }

    /// The first `Digest` challenge of a header value.
    pub fn parse(value: &str) -> Result<DigestChallenge, ChallengeError> {
        DigestChallenge::parse_all(value)?
            .into_iter()
            .next()
            .ok_or(ChallengeError::NotDigest)
    }

    /// A challenge already split by the message parser (one
    /// `WWW-Authenticate` value of [`crate::message::Message::www_authenticate`]).
    pub fn from_auth_params(p: &AuthParams<'_>) -> Result<DigestChallenge, ChallengeError> {
        if !p.is_scheme("Digest") {
            return Err(ChallengeError::NotDigest);
        }
        DigestChallenge::from_lookup(|name| p.get(name))
    }

    /// Build from a parameter lookup (raw values: unquoted, escapes kept).
    fn from_lookup<'v>(
        get: impl Fn(&str) -> Option<&'v str>,
    ) -> Result<DigestChallenge, ChallengeError> {
        let text = |name: &str| get(name).map(|v| params::unescape(v).into_owned());
        let flag = |name: &str| {
            get(name).is_some_and(|v| params::unescape(v).trim().eq_ignore_ascii_case("true"))
        };
        let realm = text("realm").ok_or(ChallengeError::MissingRealm)?;
        let nonce = text("nonce").ok_or(ChallengeError::MissingNonce)?;
        let qop = get("qop").map(|v| {
            let mut q = QopOptions::default();
            for token in v.split(',') {
                match Qop::from_token(token.trim_matches(|c: char| c.is_ascii_whitespace())) {
                    Some(Qop::Auth) => q.auth = true,
                    Some(Qop::AuthInt) => q.auth_int = true,
                    None => {}
                }
            }
            q
        });
        Ok(DigestChallenge {
            realm,
            nonce,
            opaque: text("opaque"),
            algorithm_token: text("algorithm").map(|a| a.trim().to_owned()),
            qop,
            stale: flag("stale"),
            domain: text("domain"),
            userhash: flag("userhash"),
            charset_utf8: get("charset").is_some_and(|v| v.trim().eq_ignore_ascii_case("UTF-8")),
        })
    }

    /// The algorithm to use: [`Algorithm::Md5`] when the parameter is
    /// absent, `None` when it names one sipws does not implement.
    #[must_use]
    pub fn algorithm(&self) -> Option<Algorithm> {
        match &self.algorithm_token {
            None => Some(Algorithm::Md5),
            Some(t) => Algorithm::from_token(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616: &str = "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

    #[test]
    fn rfc7616_challenge_with_folded_lines() {
        let c = DigestChallenge::parse(RFC7616).unwrap();
        assert_eq!(c.realm, "http-auth@example.org");
        assert_eq!(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
        assert_eq!(
            c.opaque.as_deref(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
        assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
        assert_eq!(
            c.qop,
            Some(QopOptions {
                auth: true,
                auth_int: true
            })
        );
        assert!(!c.stale && !c.userhash && !c.charset_utf8);
        assert_eq!(c.domain, None);
    }

    #[test]
    fn every_parameter_and_odd_spelling() {
        let c = DigestChallenge::parse(
            "digest REALM=\"a\\\"b\" , NONCE=abc/+=, stale=\"TRUE\", userhash=true, \
             charset=utf-8, domain=\"sip:a.example sip:b.example\", qop=auth-int, algorithm=\"sha-512-256-SESS\"",
        )
        .unwrap();
        assert_eq!(c.realm, "a\"b");
        assert_eq!(c.nonce, "abc/+=");
        assert!(c.stale && c.userhash && c.charset_utf8);
        assert_eq!(c.domain.as_deref(), Some("sip:a.example sip:b.example"));
        assert_eq!(
            c.qop,
            Some(QopOptions {
                auth: false,
                auth_int: true
            })
        );
        assert_eq!(c.algorithm(), Some(Algorithm::Sha512_256Sess));
    }

    #[test]
    fn absent_algorithm_means_md5_and_unknown_is_none() {
        let c = DigestChallenge::parse("Digest realm=\"r\", nonce=\"n\"").unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Md5));
        assert_eq!(c.qop, None);
        let c =
            DigestChallenge::parse("Digest realm=\"r\", nonce=\"n\", algorithm=AKAv1-MD5").unwrap();
        assert_eq!(c.algorithm(), None);
        assert_eq!(c.algorithm_token.as_deref(), Some("AKAv1-MD5"));
    }

    #[test]
    fn multiple_challenges_and_other_schemes() {
        let all = DigestChallenge::parse_all(
            "Basic realm=\"x\", Digest realm=\"r\", nonce=\"1\", algorithm=MD5, \
             Digest realm=\"r\", nonce=\"2\", algorithm=SHA-256",
        )
        .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].nonce, "1");
        assert_eq!(all[1].algorithm(), Some(Algorithm::Sha256));
        assert_eq!(
            DigestChallenge::parse("Basic realm=\"x\""),
            Err(ChallengeError::NotDigest)
        );
    }

    #[test]
    fn from_the_message_parsers_auth_params() {
        let p = AuthParams::parse(RFC7616).unwrap();
        assert_eq!(
            DigestChallenge::from_auth_params(&p),
            DigestChallenge::parse(RFC7616)
        );
        let basic = AuthParams::parse("Basic realm=\"x\"").unwrap();
        assert_eq!(
            DigestChallenge::from_auth_params(&basic),
            Err(ChallengeError::NotDigest)
        );
    }

    #[test]
    fn missing_parameters_and_syntax_errors() {
        assert_eq!(
            DigestChallenge::parse("Digest nonce=\"n\""),
            Err(ChallengeError::MissingRealm)
        );
        assert_eq!(
            DigestChallenge::parse("Digest realm=\"r\""),
            Err(ChallengeError::MissingNonce)
        );
        assert_eq!(
            DigestChallenge::parse("Digest realm=\"r"),
            Err(ChallengeError::Syntax { offset: 13 })
        );
    }
}
