//! CRLF keepalive frames over WebSocket (RFC 5626 §4.4.1 as used by
//! RFC 7118 servers): classification of one inbound WebSocket message.
//!
//! A client keepalive *ping* is the payload `"\r\n\r\n"`; the server's
//! *pong* is `"\r\n"`. Servers send either in text or binary frames and
//! answer with the opcode they received, so the opcode never changes the
//! classification.

/// The payload of a CRLF keepalive ping: `"\r\n\r\n"`.
pub const CRLF_PING: &[u8] = b"\r\n\r\n";

/// The payload of a CRLF keepalive pong: `"\r\n"`.
pub const CRLF_PONG: &[u8] = b"\r\n";

/// The WebSocket data opcode a message travelled in (RFC 6455 §5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// A text frame (opcode 0x1). SIP is sent as text by default.
    Text,
    /// A binary frame (opcode 0x2). Accepted on input like text.
    Binary,
}

/// What one inbound WebSocket message is, as far as keepalive goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Exactly `"\r\n\r\n"`: the peer pings us; answer [`CRLF_PONG`].
    Ping,
    /// One or more `"\r\n"` pairs and nothing else (other than exactly
    /// [`CRLF_PING`]): a keepalive pong.
    Pong,
    /// Anything else, including an empty payload: a SIP message (or
    /// garbage) for the layers above.
    Other,
}

/// Classify one inbound WebSocket message payload.
///
/// Runs in time linear in the payload but stops at the first byte that is
/// not part of a CRLF pair, so a SIP message is classified after one byte.
#[must_use]
pub fn classify(payload: &[u8]) -> FrameKind {
    if payload == CRLF_PING {
        return FrameKind::Ping;
    }
    if payload.is_empty() || payload.len() % 2 != 0 {
        return FrameKind::Other;
    }
    if payload.chunks_exact(2).all(|pair| pair == CRLF_PONG) {
        FrameKind::Pong
    } else {
        FrameKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_and_other() {
        assert_eq!(classify(b"\r\n\r\n"), FrameKind::Ping);
        assert_eq!(classify(b"\r\n"), FrameKind::Pong);
        assert_eq!(classify(b"\r\n\r\n\r\n"), FrameKind::Pong);
        assert_eq!(classify(b""), FrameKind::Other);
        assert_eq!(classify(b"\n"), FrameKind::Other);
        assert_eq!(classify(b"\n\r"), FrameKind::Other);
        assert_eq!(classify(b"\r\n\r"), FrameKind::Other);
        assert_eq!(classify(b"\r\n\n\r"), FrameKind::Other);
        assert_eq!(classify(b"OPTIONS sip:a SIP/2.0\r\n\r\n"), FrameKind::Other);
    }
}
