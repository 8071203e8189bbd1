//! The server side's nonces (RFC 7616 §3.3, §5.4; RFC 3261 §22.4):
//! stateless, self-validating nonces with a lifetime, a nonce-count replay
//! check, and the `WWW-Authenticate` / `Proxy-Authenticate` value that
//! carries them. For registrars and test servers built on sipws.

use core::time::Duration;
use std::collections::HashMap;

use super::algorithm::Algorithm;
use super::params::push_quoted;
use crate::time::Instant;

/// What a nonce presented in credentials is worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceCheck {
    /// Issued by us, in its lifetime, and its nonce-count grew.
    Valid,
    /// Issued by us but expired: challenge again with `stale=true` (the
    /// client retries without asking its user, RFC 7616 §3.3).
    Stale,
    /// Not one of ours (or tampered with).
    Invalid,
    /// A nonce-count already used with this nonce: a replay.
    Replay,
}

/// Issues and checks nonces of the form `TTTTTTTTTTTTTTTT` (issue time,
/// 16 hex digits of milliseconds) followed by 32 hex digits of
/// `SHA-256(secret:time:realm)`. The secret is injected (the core draws no
/// randomness); nonce-counts are remembered per live nonce.
#[derive(Clone)]
pub struct NonceIssuer {
    secret: Vec<u8>,
    realm: String,
    lifetime: Duration,
    counts: HashMap<String, u32>,
    /// Issue time (ms) of the newest nonce: each nonce gets a later one, so
    /// two challenges in the same millisecond never share a nonce.
    last_issued: u64,
}

impl core::fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceIssuer")
            .field("realm", &self.realm)
            .field("lifetime", &self.lifetime)
            .field("live_nonces", &self.counts.len())
            .finish_non_exhaustive()
    }
}

const TIME_HEX: usize = 16;
const MAC_HEX: usize = 32;

impl NonceIssuer {
    /// An issuer for `realm` whose nonces live `lifetime`, keyed by
    /// `secret` (the driver draws it from the platform's secure generator).
    #[must_use]
    pub fn new(secret: impl Into<Vec<u8>>, realm: impl Into<String>, lifetime: Duration) -> Self {
        NonceIssuer {
            secret: secret.into(),
            realm: realm.into(),
            lifetime,
            counts: HashMap::new(),
            last_issued: 0,
        }
    }

    /// The realm.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn mac(&self, time_hex: &str) -> String {
        let h = Algorithm::Sha256.hash_hex(&[
            &self.secret,
            b":",
            time_hex.as_bytes(),
            b":",
            self.realm.as_bytes(),
        ]);
        h.as_str().get(..MAC_HEX).unwrap_or("").to_owned()
    }

    /// A fresh nonce issued at `now` (or 1 ms after the previous one, if
    /// that is later: every nonce is distinct).
    #[must_use]
    pub fn issue(&mut self, now: Instant) -> String {
        let issued = now.as_millis().max(self.last_issued.saturating_add(1));
        self.last_issued = issued;
        let time_hex = format!("{issued:016x}");
        let mac = self.mac(&time_hex);
        time_hex + &mac
    }

    /// Check a nonce (and the `nc` sent with it, if any) at `now`. A valid
    /// nonce-count is remembered so the same or a lower one is a replay;
    /// expired nonces are forgotten.
    pub fn check(&mut self, nonce: &str, nc: Option<u32>, now: Instant) -> NonceCheck {
        self.prune(now);
        if nonce.len() != TIME_HEX + MAC_HEX || !nonce.is_ascii() {
            return NonceCheck::Invalid;
        }
        let (time_hex, mac) = nonce.split_at(TIME_HEX);
        let Ok(issued) = u64::from_str_radix(time_hex, 16) else {
            return NonceCheck::Invalid;
        };
        let expected = self.mac(time_hex);
        // Compare without an early exit.
        let diff = expected
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 || issued > now.as_millis().max(self.last_issued) {
            return NonceCheck::Invalid;
        }
        if now.saturating_duration_since(Instant::from_millis(issued)) > self.lifetime {
            return NonceCheck::Stale;
        }
        let Some(nc) = nc else {
            // RFC 2069 style (no qop): nothing to count.
            return NonceCheck::Valid;
        };
        let last = self.counts.entry(nonce.to_owned()).or_insert(0);
        if nc <= *last {
            return NonceCheck::Replay;
        }
        *last = nc;
        NonceCheck::Valid
    }

    fn prune(&mut self, now: Instant) {
        let lifetime = self.lifetime;
        self.counts.retain(|nonce, _| {
            nonce
                .get(..TIME_HEX)
                .and_then(|t| u64::from_str_radix(t, 16).ok())
                .is_some_and(|issued| {
                    now.saturating_duration_since(Instant::from_millis(issued)) <= lifetime
                })
        });
    }

    /// A challenge value with a fresh nonce: `Digest realm="...",
    /// nonce="...", algorithm=..., qop="auth"` (and `stale=true` when the
    /// client's nonce had expired).
    #[must_use]
    pub fn challenge(&mut self, algorithm: Algorithm, now: Instant, stale: bool) -> String {
        let mut v = String::with_capacity(128);
        v.push_str("Digest realm=");
        push_quoted(&mut v, &self.realm);
        v.push_str(", nonce=");
        push_quoted(&mut v, &self.issue(now));
        v.push_str(", algorithm=");
        v.push_str(algorithm.as_str());
        v.push_str(", qop=\"auth\"");
        if stale {
            v.push_str(", stale=true");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{
        verify, AuthError, AuthOutcome, Credentials, DigestClient, DigestOptions, VerifyError,
    };

    fn issuer() -> NonceIssuer {
        NonceIssuer::new(
            *b"test secret, not random",
            "sipws.test",
            Duration::from_secs(30),
        )
    }

    #[test]
    fn nonces_issued_in_the_same_millisecond_are_distinct() {
        let mut i = issuer();
        let at = Instant::from_millis(5_000);
        let a = i.issue(at);
        let b = i.issue(at);
        assert_ne!(a, b);
        assert_eq!(i.check(&a, Some(1), at), NonceCheck::Valid);
        assert_eq!(i.check(&b, Some(1), at), NonceCheck::Valid);
    }

    #[test]
    fn issued_nonces_check_and_tampering_fails() {
        let mut i = issuer();
        let n = i.issue(Instant::from_millis(1_000));
        assert_eq!(n.len(), 48);
        assert!(n.starts_with("00000000000003e8"));
        assert_eq!(
            i.check(&n, Some(1), Instant::from_millis(1_000)),
            NonceCheck::Valid
        );
        assert_eq!(
            i.check(&n, Some(1), Instant::from_millis(1_500)),
            NonceCheck::Replay
        );
        assert_eq!(
            i.check(&n, Some(3), Instant::from_millis(1_500)),
            NonceCheck::Valid
        );
        assert_eq!(
            i.check(&n, Some(2), Instant::from_millis(1_500)),
            NonceCheck::Replay
        );
        assert_eq!(
            i.check(&n, None, Instant::from_millis(2_000)),
            NonceCheck::Valid
        );
        // Exactly at the end of its lifetime it is still good; 1 ms later stale.
        assert_eq!(
            i.check(&n, Some(4), Instant::from_millis(31_000)),
            NonceCheck::Valid
        );
        assert_eq!(
            i.check(&n, Some(5), Instant::from_millis(31_001)),
            NonceCheck::Stale
        );
        // Another secret, realm, a changed digit, or garbage: invalid.
        let mut other = NonceIssuer::new(*b"other", "sipws.test", Duration::from_secs(30));
        assert_eq!(
            other.check(&n, Some(1), Instant::from_millis(1_000)),
            NonceCheck::Invalid
        );
        let mut other_realm =
            NonceIssuer::new(*b"test secret, not random", "x", Duration::from_secs(30));
        assert_eq!(
            other_realm.check(&n, Some(1), Instant::from_millis(1_000)),
            NonceCheck::Invalid
        );
        let mut forged = n.clone().into_bytes();
        forged[15] = b'0';
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(
            i.check(&forged, Some(1), Instant::from_millis(1_000)),
            NonceCheck::Invalid
        );
        for junk in ["", "zz", "é", &n[..47]] {
            assert_eq!(
                i.check(junk, None, Instant::from_millis(1_000)),
                NonceCheck::Invalid
            );
        }
        // Issued "in the future" (by another issuer with the same key, whose
        // clock runs ahead of ours): invalid.
        let later = issuer().issue(Instant::from_millis(9_000));
        assert_eq!(
            i.check(&later, None, Instant::from_millis(8_999)),
            NonceCheck::Invalid
        );
    }

    // Server and client together: challenge, answer, replay refused,
    // expiry answered with stale=true and retried by the client on its own.
    #[test]
    fn registrar_round_trip_with_stale_retry() {
        let mut server = issuer();
        let mut client = DigestClient::new(
            Credentials::new("alice", "pw"),
            DigestOptions::default(),
            || "cn".to_owned(),
        );
        let lookup =
            |u: &str, r: &str| (u == "alice" && r == "sipws.test").then(|| "pw".to_owned());
        let t0 = Instant::from_millis(0);
        let ch = server.challenge(Algorithm::Sha256, t0, false);
        assert_eq!(
            client.handle_response(401, [ch.as_str()]),
            Ok(AuthOutcome::Retry)
        );
        let h = client
            .authorize("REGISTER", "sip:sipws.test", b"")
            .pop()
            .unwrap();
        let ok = verify(&h.value, "REGISTER", b"", lookup).unwrap();
        let c = &ok.credentials;
        assert_eq!(server.check(&c.nonce, c.nc, t0), NonceCheck::Valid);
        assert_eq!(server.check(&c.nonce, c.nc, t0), NonceCheck::Replay);
        assert_eq!(
            client.handle_response(200, []),
            Ok(AuthOutcome::NotChallenged)
        );

        // 40 s later the refresh uses the old nonce: stale.
        let t1 = Instant::from_millis(40_000);
        let h = client
            .authorize("REGISTER", "sip:sipws.test", b"")
            .pop()
            .unwrap();
        let c = verify(&h.value, "REGISTER", b"", lookup)
            .unwrap()
            .credentials;
        assert_eq!(server.check(&c.nonce, c.nc, t1), NonceCheck::Stale);
        let ch = server.challenge(Algorithm::Sha256, t1, true);
        assert!(ch.ends_with(", stale=true"));
        assert_eq!(
            client.handle_response(401, [ch.as_str()]),
            Ok(AuthOutcome::Retry)
        );
        let h = client
            .authorize("REGISTER", "sip:sipws.test", b"")
            .pop()
            .unwrap();
        let c = verify(&h.value, "REGISTER", b"", lookup)
            .unwrap()
            .credentials;
        assert_eq!(
            (server.check(&c.nonce, c.nc, t1), c.nc),
            (NonceCheck::Valid, Some(1))
        );

        // A wrong password is refused by the verifier and, challenged
        // again, the client gives up after one try.
        let mut bad = DigestClient::new(
            Credentials::new("alice", "nope"),
            DigestOptions::default(),
            || "cn".to_owned(),
        );
        let ch = server.challenge(Algorithm::Sha256, t1, false);
        let _ = bad.handle_response(401, [ch.as_str()]).unwrap();
        let h = bad
            .authorize("REGISTER", "sip:sipws.test", b"")
            .pop()
            .unwrap();
        assert_eq!(
            verify(&h.value, "REGISTER", b"", lookup).map(|_| ()),
            Err(VerifyError::WrongResponse)
        );
        let ch = server.challenge(Algorithm::Sha256, t1, false);
        assert_eq!(
            bad.handle_response(401, [ch.as_str()]),
            Err(AuthError::Rejected("sipws.test".into()))
        );
    }
}
