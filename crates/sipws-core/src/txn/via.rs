//! The parts of the top `Via` a transaction is matched by (RFC 3261
//! §20.42, §17.1.3, §17.2.3): sent-by and the `branch` parameter.

/// The RFC 3261 branch prefix (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The first via-parm of a `Via` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopVia<'a> {
    /// The transport of sent-protocol, e.g. `"WSS"`.
    pub transport: &'a str,
    /// `host[:port]` as written.
    pub sent_by: &'a str,
    /// The `branch` parameter, if any.
    pub branch: Option<&'a str>,
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Parse the first via-parm of a `Via` header value (a value may hold a
/// comma-separated list). `None` when it is not `SIP/2.0/transport
/// sent-by *(;param)`.
#[must_use]
pub fn top_via(value: &str) -> Option<TopVia<'_>> {
    // The first element ends at a comma outside a quoted string.
    let mut end = value.len();
    let mut quoted = false;
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b',' if !quoted => {
                end = i;
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let first = value.get(..end)?;
    // sent-protocol: name / version / transport, LWS allowed around '/'.
    let mut parts = first.splitn(3, '/');
    let name = parts
        .next()?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    let version = parts
        .next()?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    let rest = parts
        .next()?
        .trim_start_matches(|c: char| c.is_ascii_whitespace());
    if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
        return None;
    }
    let t_end = rest.bytes().position(is_lws)?;
    let transport = rest.get(..t_end)?;
    let after = rest
        .get(t_end..)?
        .trim_start_matches(|c: char| c.is_ascii_whitespace());
    let sb_end = after
        .bytes()
        .position(|b| b == b';' || is_lws(b))
        .unwrap_or(after.len());
    let sent_by = after.get(..sb_end)?;
    if transport.is_empty() || sent_by.is_empty() {
        return None;
    }
    let branch = after.get(sb_end..)?.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim_matches(|c: char| c.is_ascii_whitespace())
            .eq_ignore_ascii_case("branch")
            .then(|| v.trim_matches(|c: char| c.is_ascii_whitespace()))
    });
    Some(TopVia {
        transport,
        sent_by,
        branch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_transport_sent_by_and_branch() {
        let v = top_via("SIP/2.0/WSS df7jal23ls0d.invalid;rport;branch=z9hG4bKnashds7").unwrap();
        assert_eq!(
            v,
            TopVia {
                transport: "WSS",
                sent_by: "df7jal23ls0d.invalid",
                branch: Some("z9hG4bKnashds7"),
            }
        );
        let v = top_via("SIP / 2.0 / WS  127.0.0.1:8080 ; BRANCH = z9hG4bK1 ;received=x, SIP/2.0/WS b;branch=z9hG4bK2").unwrap();
        assert_eq!(v.sent_by, "127.0.0.1:8080");
        assert_eq!(v.branch, Some("z9hG4bK1"));
        assert_eq!(top_via("SIP/2.0/UDP h").unwrap().branch, None);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "SIP/2.0",
            "SIP/2.0/WS",
            "HTTP/1.1/WS h",
            "SIP/3.0/WS h",
            "SIP/2.0/WS ;branch=x",
        ] {
            assert_eq!(top_via(bad), None, "{bad:?}");
        }
    }
}
