//! Via (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 7118 §5 `WS`/`WSS`):
//! `sent-protocol LWS sent-by *( SEMI via-params )`, with LWS allowed
//! around `/` and `:`.

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, offset_in, skip_lws, trim_lws};
use super::params::{params_start, Mode, Params};
use super::uri::host_len;
use super::{HeaderName, Message};

/// One Via entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name, normally `"SIP"`.
    pub protocol: &'a str,
    /// Protocol version, normally `"2.0"`.
    pub version: &'a str,
    /// Transport as written: `"WS"`, `"WSS"`, `"UDP"`, `"TCP"`, `"TLS"`, …
    pub transport: &'a str,
    /// The sent-by host (IPv6 references keep their brackets).
    pub host: &'a str,
    /// The sent-by port, if written.
    pub port: Option<u16>,
    /// The via parameters (`branch`, `received`, `rport`, …).
    pub params: Params<'a>,
}

/// Read a token at `i` (after LWS); returns `(start, end)`.
fn token_at(b: &[u8], i: usize) -> Result<(usize, usize), usize> {
    let s = skip_lws(b, i);
    let n = b[s.min(b.len())..]
        .iter()
        .take_while(|&&c| is_token(c))
        .count();
    if n == 0 {
        return Err(s);
    }
    Ok((s, s + n))
}

/// Expect `sep` after optional LWS at `i`; returns the index after it.
fn expect(b: &[u8], i: usize, sep: u8) -> Result<usize, usize> {
    let j = skip_lws(b, i);
    if b.get(j) == Some(&sep) {
        Ok(j + 1)
    } else {
        Err(j)
    }
}

impl<'a> Via<'a> {
    /// Parse one Via entry (a comma list must be split first; see
    /// [`Message::vias`]).
    ///
    /// # Errors
    /// [`ParseErrorKind::Via`] with the offset inside `value`.
    pub fn parse(value: &'a str) -> Result<Via<'a>, ParseError> {
        let v = trim_lws(value);
        let base = offset_in(value, v);
        let err = |at| ParseError::new(ParseErrorKind::Via, base + at);
        let b = v.as_bytes();
        let (p0, p1) = token_at(b, 0).map_err(err)?;
        let i = expect(b, p1, b'/').map_err(err)?;
        let (v0, v1) = token_at(b, i).map_err(err)?;
        let i = expect(b, v1, b'/').map_err(err)?;
        let (t0, t1) = token_at(b, i).map_err(err)?;
        if !b.get(t1).is_some_and(|&c| is_lws(c)) {
            return Err(err(t1));
        }
        let h0 = skip_lws(b, t1);
        let hl = host_len(&b[h0..]).map_err(|p| err(h0 + p))?;
        let h1 = h0 + hl;
        // COLON = SWS ":" SWS before the port.
        let j = skip_lws(b, h1);
        let (port, after) = if b.get(j) == Some(&b':') {
            let k = skip_lws(b, j + 1);
            let n = b[k..].iter().take_while(|c| c.is_ascii_digit()).count();
            let digits = &v[k..k + n];
            let port = (n > 0 && n <= 5)
                .then(|| digits.parse::<u16>().ok())
                .flatten()
                .ok_or(err(k))?;
            (Some(port), k + n)
        } else {
            (None, h1)
        };
        let ps = params_start(b, after).map_err(err)?;
        let params = Params::parse(&v[ps..], Mode::Header).map_err(|e| err(ps + e.offset))?;
        Ok(Via {
            protocol: &v[p0..p1],
            version: &v[v0..v1],
            transport: &v[t0..t1],
            host: &v[h0..h1],
            port,
            params,
        })
    }

    /// The `branch` parameter.
    #[must_use]
    pub fn branch(&self) -> Option<&'a str> {
        self.params.value("branch")
    }

    /// The `received` parameter.
    #[must_use]
    pub fn received(&self) -> Option<&'a str> {
        self.params.value("received")
    }

    /// The `rport` parameter (RFC 3581): `None` when absent, `Some(None)`
    /// when present without a value (a request asking for it),
    /// `Some(Some(port))` when filled in. A non-numeric value reads as absent.
    #[must_use]
    pub fn rport(&self) -> Option<Option<u16>> {
        let p = self.params.get("rport")?;
        match p.value {
            None => Some(None),
            Some(v) => v.parse().ok().map(Some),
        }
    }

    /// The `maddr` parameter.
    #[must_use]
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.value("maddr")
    }

    /// The value of parameter `name` (quotes stripped).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.value(name)
    }
}

impl<'a> Message<'a> {
    /// The top-most Via entry; `None` when absent or malformed.
    #[must_use]
    pub fn via(&self) -> Option<Via<'a>> {
        self.vias().next()?.ok()
    }

    /// Every Via entry (all Via headers, comma lists split), top-most first.
    /// Error offsets count from the start of the frame.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, ParseError>> + '_ {
        self.items(HeaderName::Via, ParseErrorKind::Via)
            .map(move |item| {
                let item = item?;
                Via::parse(item).map_err(|e| e.shifted(self.offset_of(item)))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kamailio_two_spaces_and_folding() {
        let v =
            Via::parse("SIP/2.0/WS  127.0.0.1:8080;branch=z9hG4bK1;rport=5060;received=127.0.0.1")
                .unwrap();
        assert_eq!((v.protocol, v.version, v.transport), ("SIP", "2.0", "WS"));
        assert_eq!((v.host, v.port), ("127.0.0.1", Some(8080)));
        assert_eq!(v.branch(), Some("z9hG4bK1"));
        assert_eq!(v.rport(), Some(Some(5060)));
        assert_eq!(v.received(), Some("127.0.0.1"));
        let v = Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!((v.transport, v.host, v.port), ("UDP", "192.0.2.2", None));
        let v = Via::parse(
            "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8",
        )
        .unwrap();
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
        let v = Via::parse("SIP/2.0/WSS [2001:db8::9] : 443;rport").unwrap();
        assert_eq!(
            (v.host, v.port, v.rport()),
            ("[2001:db8::9]", Some(443), Some(None))
        );
        let v = Via::parse("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK").unwrap();
        assert_eq!(v.rport(), None);
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "SIP/2.0/UDP",
            "SIP/2.0 UDP host",
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP host:",
            "SIP/2.0/UDP host:70000",
            "SIP/2.0/UDP host junk",
            "SIP/2.0/UDP ;branch=x",
        ] {
            assert_eq!(
                Via::parse(bad).unwrap_err().kind,
                ParseErrorKind::Via,
                "{bad:?}"
            );
        }
    }
}
