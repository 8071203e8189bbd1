//! The digest computation itself (RFC 7616 §3.4.1–3.4.3, RFC 2617 §3.2.2,
//! RFC 3261 §22.4): `HA1`, `HA2` and the `response`, with and without
//! `qop`. Pure functions, shared by the client and the verifier.

use super::algorithm::{Algorithm, HexDigest};
use super::challenge::Qop;

/// Everything the `response` depends on, besides the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestInput<'a> {
    /// Hash function and whether `A1` is the session variant.
    pub algorithm: Algorithm,
    /// The user name as it goes into `A1` (the real one, even when the
    /// header carries a hashed `userhash` username).
    pub username: &'a str,
    /// The realm, unquoted.
    pub realm: &'a str,
    /// The server's nonce, unquoted.
    pub nonce: &'a str,
    /// The client nonce (unused without `qop` unless the algorithm is a
    /// `-sess` one).
    pub cnonce: &'a str,
    /// The nonce-count (`nc`), sent as 8 hex digits.
    pub nc: u32,
    /// The quality of protection; `None` is the RFC 2069 compatible
    /// computation (`response = H(HA1:nonce:HA2)`).
    pub qop: Option<Qop>,
    /// The request method (for SIP, the method of the request line; ACK
    /// and CANCEL use INVITE's credentials but their own method).
    pub method: &'a str,
    /// The `uri` parameter: the Request-URI (RFC 3261 §22.4).
    pub uri: &'a str,
    /// The message body (only used for `auth-int`).
    pub body: &'a [u8],
}

/// `nc` as written on the wire: exactly 8 lowercase hex digits.
#[must_use]
pub fn format_nc(nc: u32) -> [u8; 8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; 8];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 28 - 4 * i;
        *slot = HEX[((nc >> shift) & 0xf) as usize];
    }
    out
}

/// `H(username:realm:password)`: the stored secret of a user (what a
/// registrar may keep instead of the password).
#[must_use]
pub fn ha1_base(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> HexDigest {
    algorithm.hash_hex(&[
        username.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.as_bytes(),
    ])
}

/// `HA1 = H(A1)` from the base secret: the base itself for plain
/// algorithms, `H(base:nonce:cnonce)` for `-sess` (RFC 7616 §3.4.2).
#[must_use]
pub fn ha1(algorithm: Algorithm, base: &HexDigest, nonce: &str, cnonce: &str) -> HexDigest {
    if algorithm.is_session() {
        algorithm.hash_hex(&[
            base.as_bytes(),
            b":",
            nonce.as_bytes(),
            b":",
            cnonce.as_bytes(),
        ])
    } else {
        *base
    }
}

/// `HA2 = H(A2)`: `H(method:uri)`, or `H(method:uri:H(body))` for
/// `auth-int` (RFC 7616 §3.4.3).
#[must_use]
pub fn ha2(
    algorithm: Algorithm,
    qop: Option<Qop>,
    method: &str,
    uri: &str,
    body: &[u8],
) -> HexDigest {
    match qop {
        Some(Qop::AuthInt) => {
            let hbody = algorithm.hash_hex(&[body]);
            algorithm.hash_hex(&[
                method.as_bytes(),
                b":",
                uri.as_bytes(),
                b":",
                hbody.as_bytes(),
            ])
        }
        Some(Qop::Auth) | None => algorithm.hash_hex(&[method.as_bytes(), b":", uri.as_bytes()]),
    }
}

/// The `response` value from `HA1` (RFC 7616 §3.4.1):
/// `H(HA1:nonce:nc:cnonce:qop:HA2)` with a qop,
/// `H(HA1:nonce:HA2)` without (RFC 2617 §3.2.2.1).
#[must_use]
pub fn response_from_ha1(ha1: &HexDigest, input: &DigestInput<'_>) -> HexDigest {
    let alg = input.algorithm;
    let ha2 = ha2(alg, input.qop, input.method, input.uri, input.body);
    match input.qop {
        Some(qop) => {
            let nc = format_nc(input.nc);
            alg.hash_hex(&[
                ha1.as_bytes(),
                b":",
                input.nonce.as_bytes(),
                b":",
                &nc,
                b":",
                input.cnonce.as_bytes(),
                b":",
                qop.as_str().as_bytes(),
                b":",
                ha2.as_bytes(),
            ])
        }
        None => alg.hash_hex(&[
            ha1.as_bytes(),
            b":",
            input.nonce.as_bytes(),
            b":",
            ha2.as_bytes(),
        ]),
    }
}

/// The `response` value from the password.
#[must_use]
pub fn response(input: &DigestInput<'_>, password: &str) -> HexDigest {
    let base = ha1_base(input.algorithm, input.username, input.realm, password);
    let ha1 = ha1(input.algorithm, &base, input.nonce, input.cnonce);
    response_from_ha1(&ha1, input)
}

/// The hashed username of RFC 7616 §3.4.4: `H(username:realm)`.
#[must_use]
pub fn userhash(algorithm: Algorithm, username: &str, realm: &str) -> HexDigest {
    algorithm.hash_hex(&[username.as_bytes(), b":", realm.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request of RFC 7616 §3.9.1 (user "Mufasa", password
    /// "Circle of Life", GET /dir/index.html, qop=auth, nc=1).
    fn rfc7616(algorithm: Algorithm) -> DigestInput<'static> {
        DigestInput {
            algorithm,
            username: "Mufasa",
            realm: "http-auth@example.org",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            nc: 1,
            qop: Some(Qop::Auth),
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        }
    }

    // RFC 7616 §3.9.1, the two Authorization examples (MD5 and SHA-256).
    #[test]
    fn rfc7616_section_3_9_1_md5() {
        assert_eq!(
            response(&rfc7616(Algorithm::Md5), "Circle of Life").as_str(),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn rfc7616_section_3_9_1_sha256() {
        assert_eq!(
            response(&rfc7616(Algorithm::Sha256), "Circle of Life").as_str(),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    // The RFC has no SHA-512-256 example with these inputs (its §3.9.2
    // example, with the values of erratum 4897, is tested in
    // auth/tests.rs). Expected value derived independently with Python's
    // hashlib:
    //   H = lambda s: hashlib.new("sha512_256", s.encode()).hexdigest()
    //   ha1 = H("Mufasa:http-auth@example.org:Circle of Life")
    //   ha2 = H("GET:/dir/index.html")
    //   H(f"{ha1}:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:"
    //     f"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:{ha2}")
    #[test]
    fn sha512_256_same_request() {
        assert_eq!(
            response(&rfc7616(Algorithm::Sha512_256), "Circle of Life").as_str(),
            "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0"
        );
    }

    // RFC 2617 §3.5 (MD5, qop=auth, "Circle Of Life" with a capital O).
    #[test]
    fn rfc2617_section_3_5() {
        let input = DigestInput {
            algorithm: Algorithm::Md5,
            username: "Mufasa",
            realm: "testrealm@host.com",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            cnonce: "0a4f113b",
            nc: 1,
            qop: Some(Qop::Auth),
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        };
        assert_eq!(
            response(&input, "Circle Of Life").as_str(),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    #[test]
    fn nc_is_eight_hex_digits() {
        assert_eq!(&format_nc(1), b"00000001");
        assert_eq!(&format_nc(0xab), b"000000ab");
        assert_eq!(&format_nc(u32::MAX), b"ffffffff");
    }

    // The following expected values were computed with Python's hashlib
    // (md5 / sha256), following RFC 7616 §3.4 by hand; see each comment.
    #[test]
    fn md5_sess_auth_int_and_no_qop() {
        let base = DigestInput {
            algorithm: Algorithm::Md5Sess,
            username: "alice",
            realm: "sipws.test",
            nonce: "n0nce",
            cnonce: "c0nce",
            nc: 2,
            qop: Some(Qop::Auth),
            method: "REGISTER",
            uri: "sip:sipws.test",
            body: b"",
        };
        // ha1 = md5(md5("alice:sipws.test:secret") + ":n0nce:c0nce")
        // md5(f"{ha1}:n0nce:00000002:c0nce:auth:{md5('REGISTER:sip:sipws.test')}")
        assert_eq!(
            response(&base, "secret").as_str(),
            "30dfbf1676131702c49a45b09061c9b8"
        );
        // auth-int, SHA-256, body "v=0\r\n", nc=1:
        // ha2 = sha256("INVITE:sip:bob@sipws.test:" + sha256("v=0\r\n"))
        // sha256(f"{sha256('alice:sipws.test:secret')}:n0nce:00000001:c0nce:auth-int:{ha2}")
        let int = DigestInput {
            algorithm: Algorithm::Sha256,
            qop: Some(Qop::AuthInt),
            method: "INVITE",
            uri: "sip:bob@sipws.test",
            body: b"v=0\r\n",
            nc: 1,
            ..base
        };
        assert_eq!(
            response(&int, "secret").as_str(),
            "445d54081fc2b51f739a8f274667fb67561ebba2dbf2c47eb2099a7b2f9b9068"
        );
        // No qop (RFC 2069 / RFC 3261 §22.4 compatibility), MD5:
        // md5(f"{md5('alice:sipws.test:secret')}:n0nce:{md5('REGISTER:sip:sipws.test')}")
        let none = DigestInput {
            algorithm: Algorithm::Md5,
            qop: None,
            ..base
        };
        assert_eq!(
            response(&none, "secret").as_str(),
            "9bdfc4e48ed892d7a70082e9b072be2d"
        );
    }
}
