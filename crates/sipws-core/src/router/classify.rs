//! Structural classification of one inbound frame: keepalive ping
//! (`"\r\n\r\n"`), keepalive pong (any other frame made only of CRLFs,
//! RFC 5626 §4.4.1), SIP request, SIP response, or malformed. Built on
//! [`crate::message::classify`]: start line, CSeq,
//! Call-ID and Content-Length, no regex, no allocation.

use crate::link::frame::{classify as keepalive, FrameKind as Keepalive};
use crate::message::{self, Limits, ParseError, StartLine, Summary};

/// The kind of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FrameKind {
    /// The keepalive ping `"\r\n\r\n"` (RFC 5626 §4.4.1).
    Ping,
    /// A keepalive pong: one or more CRLFs, other than the ping.
    Pong,
    /// A SIP request.
    Request,
    /// A SIP response.
    Response,
    /// Neither a keepalive nor a SIP message that classifies.
    Malformed,
}

impl FrameKind {
    /// Every kind, in declaration order (the index of [`FrameKind::index`]).
    pub const ALL: [FrameKind; 5] = [
        FrameKind::Ping,
        FrameKind::Pong,
        FrameKind::Request,
        FrameKind::Response,
        FrameKind::Malformed,
    ];

    /// The word used for the kind in rule text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            FrameKind::Ping => "ping",
            FrameKind::Pong => "pong",
            FrameKind::Request => "request",
            FrameKind::Response => "response",
            FrameKind::Malformed => "malformed",
        }
    }

    /// Position in [`FrameKind::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether frames of this kind are SIP messages (requests or responses).
    #[must_use]
    pub const fn is_message(self) -> bool {
        matches!(self, FrameKind::Request | FrameKind::Response)
    }
}

/// What the router learned from a frame before looking at any rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classified<'a> {
    /// The keepalive ping `"\r\n\r\n"`.
    Ping,
    /// A keepalive pong (CRLFs only).
    Pong,
    /// A SIP request and its summary.
    Request(Summary<'a>),
    /// A SIP response and its summary.
    Response(Summary<'a>),
    /// Not a keepalive, and not a SIP message: why.
    Malformed(ParseError),
}

impl<'a> Classified<'a> {
    /// The frame's kind.
    #[must_use]
    pub fn kind(&self) -> FrameKind {
        match self {
            Classified::Ping => FrameKind::Ping,
            Classified::Pong => FrameKind::Pong,
            Classified::Request(_) => FrameKind::Request,
            Classified::Response(_) => FrameKind::Response,
            Classified::Malformed(_) => FrameKind::Malformed,
        }
    }

    /// The summary of a SIP message.
    #[must_use]
    pub fn summary(&self) -> Option<&Summary<'a>> {
        match self {
            Classified::Request(s) | Classified::Response(s) => Some(s),
            _ => None,
        }
    }

    /// The request method.
    #[must_use]
    pub fn method(&self) -> Option<&'a str> {
        match self {
            Classified::Request(Summary {
                start: StartLine::Request { method, .. },
                ..
            }) => Some(method),
            _ => None,
        }
    }

    /// The response status.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Classified::Response(Summary {
                start: StartLine::Response { status, .. },
                ..
            }) => Some(*status),
            _ => None,
        }
    }

    /// The CSeq method of a SIP message.
    #[must_use]
    pub fn cseq_method(&self) -> Option<&'a str> {
        self.summary().and_then(|s| s.cseq).map(|c| c.method)
    }

    /// The Call-ID of a SIP message.
    #[must_use]
    pub fn call_id(&self) -> Option<&'a str> {
        self.summary().and_then(|s| s.call_id)
    }

    /// The parse error of a malformed frame.
    #[must_use]
    pub fn error(&self) -> Option<ParseError> {
        match self {
            Classified::Malformed(e) => Some(*e),
            _ => None,
        }
    }
}

/// Classify one frame. Never panics; every input gets a kind. Keepalives
/// are recognised by [`link::frame::classify`](crate::link::frame::classify)
/// (one look at the first byte for a SIP message).
#[must_use]
pub fn classify<'a>(frame: &'a [u8], limits: &Limits) -> Classified<'a> {
    if frame.first() == Some(&b'\r') {
        match keepalive(frame) {
            Keepalive::Ping => return Classified::Ping,
            Keepalive::Pong => return Classified::Pong,
            _ => {}
        }
    }
    match message::classify(frame, limits) {
        Ok(s) => match s.start {
            StartLine::Request { .. } => Classified::Request(s),
            StartLine::Response { .. } => Classified::Response(s),
        },
        Err(e) => Classified::Malformed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ParseErrorKind;

    #[test]
    fn keepalives() {
        let l = Limits::default();
        assert_eq!(classify(b"\r\n\r\n", &l), Classified::Ping);
        assert_eq!(classify(b"\r\n", &l), Classified::Pong);
        assert_eq!(classify(b"\r\n\r\n\r\n", &l), Classified::Pong);
        assert_eq!(classify(b"\r\n\r", &l).kind(), FrameKind::Malformed);
        assert_eq!(classify(b"\n\n", &l).kind(), FrameKind::Malformed);
        assert_eq!(classify(b"\r\n\r\nX", &l).kind(), FrameKind::Malformed);
    }

    #[test]
    fn messages_and_errors() {
        let l = Limits::default();
        let r = classify(
            b"NOTIFY sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: c1\r\nCSeq: 2 NOTIFY\r\nContent-Length: 0\r\n\r\n",
            &l,
        );
        assert_eq!(r.kind(), FrameKind::Request);
        assert_eq!(r.method(), Some("NOTIFY"));
        assert_eq!(r.cseq_method(), Some("NOTIFY"));
        assert_eq!(r.call_id(), Some("c1"));
        assert_eq!(r.status(), None);
        let r = classify(b"SIP/2.0 486 Busy Here\r\nCSeq: 1 INVITE\r\n\r\n", &l);
        assert_eq!(r.kind(), FrameKind::Response);
        assert_eq!(r.status(), Some(486));
        assert_eq!(r.method(), None);
        let e = classify(b"", &l).error().unwrap();
        assert_eq!(e.kind, ParseErrorKind::Empty);
        assert!(classify(b"hello", &l).error().is_some());
    }
}
