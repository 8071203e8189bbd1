//! Digest algorithms (RFC 7616 §3.3, §6.1; RFC 8760 for SIP): the hash
//! function behind `H()` and whether `A1` is the session variant (`-sess`).

use core::fmt;

use md5::Md5;
use sha2::{Sha256, Sha512_256};

/// A digest algorithm sipws can compute.
///
/// Ordered by [`Algorithm::strength`] when a server offers several
/// challenges; the `-sess` variants fold the nonce and cnonce into `HA1`
/// (RFC 7616 §3.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5` (RFC 2617, RFC 3261 §22.4; the default when `algorithm` is absent).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256` (SHA-512/256, FIPS 180-4 §6.7).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Md5Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
    ];

    /// Parse the `algorithm` parameter's token (ASCII case-insensitive).
    /// `None` for algorithms sipws does not implement.
    #[must_use]
    pub fn from_token(token: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(token))
    }

    /// The token as written in an `algorithm` parameter, e.g. `"SHA-256"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (`A1` includes nonce and cnonce).
    #[must_use]
    pub const fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// Whether the hash function is MD5 (which [`super::DigestOptions`]
    /// can refuse).
    #[must_use]
    pub const fn is_md5(self) -> bool {
        matches!(self, Algorithm::Md5 | Algorithm::Md5Sess)
    }

    /// Relative strength of the hash function (higher is stronger); the
    /// session variant ranks with its base hash.
    #[must_use]
    pub const fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => 3,
        }
    }

    /// `H(data)` as lowercase hex (RFC 7616 §3.4: the output of every
    /// `H()` is hex-encoded), where `data` is the concatenation of `parts`.
    #[must_use]
    pub fn hash_hex(self, parts: &[&[u8]]) -> HexDigest {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex_of::<Md5>(parts),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex_of::<Sha256>(parts),
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => hex_of::<Sha512_256>(parts),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex_of<D: sha2::Digest>(parts: &[&[u8]]) -> HexDigest {
    let mut h = D::new();
    for p in parts {
        h.update(p);
    }
    HexDigest::from_bytes(&h.finalize())
}

/// A hash output as lowercase hex, stored inline (at most 32 bytes of hash,
/// 64 hex characters): no allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexDigest {
    buf: [u8; 64],
    len: u8,
}

impl HexDigest {
    fn from_bytes(bytes: &[u8]) -> HexDigest {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 64];
        let mut len = 0usize;
        for b in bytes.iter().take(32) {
            buf[len] = HEX[usize::from(b >> 4)];
            buf[len + 1] = HEX[usize::from(b & 0x0f)];
            len += 2;
        }
        HexDigest {
            buf,
            // At most 64, always fits.
            len: u8::try_from(len).unwrap_or(64),
        }
    }

    /// The hex string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = &self.buf[..usize::from(self.len)];
        // Only ASCII hex digits are ever written into `buf`.
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// The hex string as bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexDigest({})", self.as_str())
    }
}

impl fmt::Display for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_case_insensitively() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_token(a.as_str()), Some(a));
            assert_eq!(
                Algorithm::from_token(&a.as_str().to_ascii_lowercase()),
                Some(a)
            );
        }
        assert_eq!(Algorithm::from_token("SHA-512"), None);
        assert_eq!(Algorithm::from_token("AKAv1-MD5"), None);
        assert_eq!(Algorithm::from_token(""), None);
    }

    // Known-answer tests of the hash functions themselves: FIPS 180-4 /
    // RFC 1321 "abc" vectors.
    #[test]
    fn hash_functions_match_published_abc_vectors() {
        assert_eq!(
            Algorithm::Md5.hash_hex(&[b"abc"]).as_str(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            Algorithm::Sha256.hash_hex(&[b"a", b"bc"]).as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Algorithm::Sha512_256Sess.hash_hex(&[b"ab", b"c"]).as_str(),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
    }

    #[test]
    fn strength_orders_hashes() {
        assert!(Algorithm::Sha512_256.strength() > Algorithm::Sha256Sess.strength());
        assert!(Algorithm::Sha256.strength() > Algorithm::Md5Sess.strength());
        assert!(Algorithm::Md5Sess.is_session() && Algorithm::Md5Sess.is_md5());
        assert!(!Algorithm::Sha256.is_session() && !Algorithm::Sha256.is_md5());
    }
}
