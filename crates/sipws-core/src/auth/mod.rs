//! Digest authentication (RFC 7616, RFC 8760, RFC 3261 §22): answering
//! 401/407 challenges with MD5, SHA-256 or SHA-512-256 (and their `-sess`
//! variants), qop `auth` / `auth-int` / none, and verifying credentials on
//! the server side.
//!
//! - [`algorithm`]: the hash functions and their tokens;
//! - [`challenge`]: `WWW-Authenticate` / `Proxy-Authenticate` values;
//! - [`digest`]: `HA1`, `HA2` and `response`, pure functions;
//! - [`client`]: [`DigestClient`], nonce-count, stale retry, header values;
//! - [`verify`](mod@verify): the server side check;
//! - [`nonce`]: the server side's nonces and challenges.

pub mod algorithm;
pub mod challenge;
pub mod client;
pub mod digest;
pub mod nonce;
mod params;
pub mod verify;

pub use algorithm::{Algorithm, HexDigest};
pub use challenge::{ChallengeError, DigestChallenge, Qop, QopOptions};
pub use client::{
    AuthError, AuthOutcome, AuthorizationHeader, ChallengeKind, CnonceSource, Credentials,
    DigestClient, DigestOptions, RandomCnonce,
};
pub use digest::DigestInput;
pub use nonce::{NonceCheck, NonceIssuer};
pub use verify::{verify, DigestCredentials, Verified, VerifyError};

#[cfg(test)]
mod tests;
