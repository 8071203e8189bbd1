//! Wire codecs: how one SIP message becomes one WebSocket message and back
//! (RFC 7118 §5: exactly one SIP message per WebSocket message).
//!
//! | codec | subprotocol | what goes on the wire |
//! |---|---|---|
//! | [`Codec::Text`] (default) | `sip` | RFC 3261 text, header names as written |
//! | [`Codec::Compact`] | `sip` | RFC 3261 text, compact header names (§7.3.3) where one exists |
//! | [`Codec::Json`] | `sipws.json` | the JSON form of `docs/json-codec.md` ([`json`]) |
//!
//! A driver can also transcode at the WebSocket boundary and let the layers
//! above keep speaking SIP text: [`Codec::encode_text`] before sending,
//! [`Codec::decode_to_text`] after receiving.
//!
//! Every codec writes `Content-Length` computed from the body. Text and
//! compact frames decode with the same parser (compact names are always
//! understood). Encoding appends to a caller-supplied buffer; decoding
//! returns an [`OwnedMessage`] or a [`DecodeError`], never panics.
//!
//! ```
//! use sipws_core::codec::Codec;
//! use sipws_core::message::{HeaderName, Limits, RequestBuilder};
//!
//! let msg = RequestBuilder::new("OPTIONS", "sip:127.0.0.1")
//!     .header(HeaderName::CallId, "a84b4c76e66710")
//!     .header(HeaderName::CSeq, "1 OPTIONS")
//!     .build()?;
//! for codec in Codec::ALL {
//!     let mut frame = Vec::new();
//!     codec.encode(&msg, &mut frame)?;
//!     let back = codec.decode(&frame, &Limits::default())?;
//!     assert_eq!(back.header(HeaderName::CallId), Some("a84b4c76e66710"));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod json;

use core::fmt;

use crate::message::{BuildError, Limits, Message, NameForm, OwnedMessage, ParseError};

/// The subprotocol token of SIP over WebSocket (RFC 7118 §4).
pub const SIP_SUBPROTOCOL: &str = "sip";

/// A wire format for SIP messages. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Codec {
    /// RFC 3261 text with header names as written.
    #[default]
    Text,
    /// RFC 3261 text with compact header names where one exists.
    Compact,
    /// The JSON form (`docs/json-codec.md`).
    Json,
}

impl Codec {
    /// Every codec, in the order above.
    pub const ALL: [Codec; 3] = [Codec::Text, Codec::Compact, Codec::Json];

    /// A short name: `"text"`, `"compact"` or `"json"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Codec::Text => "text",
            Codec::Compact => "compact",
            Codec::Json => "json",
        }
    }

    /// The WebSocket subprotocol token to offer for this codec.
    #[must_use]
    pub fn subprotocol(self) -> &'static str {
        match self {
            Codec::Text | Codec::Compact => SIP_SUBPROTOCOL,
            Codec::Json => json::SUBPROTOCOL,
        }
    }

    /// The codec to decode with once the server has selected `token`
    /// (exact, case-sensitive match as RFC 6455 §4.1 asks); `None` for a
    /// subprotocol sipws does not speak.
    #[must_use]
    pub fn for_subprotocol(token: &str) -> Option<Codec> {
        match token {
            SIP_SUBPROTOCOL => Some(Codec::Text),
            json::SUBPROTOCOL => Some(Codec::Json),
            _ => None,
        }
    }

    /// Append the encoding of `msg` to `out`.
    ///
    /// Errors only if the JSON serialiser fails, which it does not for the
    /// types involved; the `Result` keeps that path honest.
    pub fn encode(self, msg: &OwnedMessage, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Codec::Text => msg.write_with(out, NameForm::AsWritten),
            Codec::Compact => msg.write_with(out, NameForm::Compact),
            Codec::Json => json::write(msg, out, json::Layout::Compact)?,
        }
        Ok(())
    }

    /// Append the encoding of a parsed message to `out`, without an owned
    /// copy (e.g. to relay a frame in another codec). Text output normalises
    /// the header line layout to `name: value`; to forward the exact bytes
    /// use [`Message::as_bytes`].
    pub fn encode_parsed(self, msg: &Message<'_>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let form = match self {
            Codec::Text => NameForm::AsWritten,
            Codec::Compact => NameForm::Compact,
            Codec::Json => return json::write_parsed(msg, out, json::Layout::Compact),
        };
        msg.write_with(out, form);
        Ok(())
    }

    /// Re-encode SIP text, as the layers above produce it
    /// (`OwnedMessage::to_bytes`), for the wire in this codec, appending to
    /// `out`. [`Codec::Text`] copies the bytes as they are; the others parse
    /// them with `limits` first. This is the send-side hook for a driver
    /// that negotiated a subprotocol: the core can keep writing SIP text.
    ///
    /// Errors: the text does not parse ([`DecodeError::Parse`]), or the JSON
    /// serialiser failed ([`DecodeError::Json`], not expected).
    pub fn encode_text(
        self,
        sip_text: &[u8],
        limits: &Limits,
        out: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        if self == Codec::Text {
            out.extend_from_slice(sip_text);
            return Ok(());
        }
        let m = Message::parse(sip_text, limits).map_err(DecodeError::Parse)?;
        self.encode_parsed(&m, out).map_err(|e| match e {
            EncodeError::Json(j) => DecodeError::Json(j),
        })
    }

    /// Turn one received WebSocket message of this codec into SIP text for
    /// the layers above, appending to `out`: the receive-side twin of
    /// [`encode_text`](Self::encode_text). Text and compact frames are
    /// copied as they are (the parser reads compact names); JSON frames are
    /// decoded and written as SIP text.
    pub fn decode_to_text(
        self,
        frame: &[u8],
        limits: &Limits,
        out: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        match self {
            Codec::Text | Codec::Compact => {
                if frame.len() > limits.max_message_bytes {
                    return Err(DecodeError::TooLarge {
                        len: frame.len(),
                        max: limits.max_message_bytes,
                    });
                }
                out.extend_from_slice(frame);
            }
            Codec::Json => json::decode(frame, limits)?.write_to(out),
        }
        Ok(())
    }

    /// Decode one WebSocket message. Text and compact frames go through the
    /// SIP parser with `limits`; JSON frames through [`json::decode`].
    pub fn decode(self, frame: &[u8], limits: &Limits) -> Result<OwnedMessage, DecodeError> {
        match self {
            Codec::Text | Codec::Compact => {
                let m = Message::parse(frame, limits).map_err(DecodeError::Parse)?;
                OwnedMessage::try_from(&m).map_err(DecodeError::Invalid)
            }
            Codec::Json => json::decode(frame, limits),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether encoded bytes may go in a WebSocket text frame (valid UTF-8,
/// RFC 6455 §5.6); otherwise send a binary frame (RFC 7118 §5). JSON
/// output always qualifies; SIP text does unless its body is binary.
#[must_use]
pub fn fits_text_frame(encoded: &[u8]) -> bool {
    core::str::from_utf8(encoded).is_ok()
}

/// Encoding failed (only the JSON serialiser can fail, and does not for
/// the types sipws gives it).
#[derive(Debug)]
#[non_exhaustive]
pub enum EncodeError {
    /// The JSON serialiser reported an error.
    Json(serde_json::Error),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Json(e) => write!(f, "JSON encoding failed: {e}"),
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EncodeError::Json(e) => Some(e),
        }
    }
}

/// A frame could not be decoded into a SIP message.
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is larger than `Limits::max_message_bytes` (checked first).
    TooLarge {
        /// Frame length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More headers than `Limits::max_headers` (JSON form).
    TooManyHeaders {
        /// Headers in the frame.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// SIP text did not parse (kind and byte offset).
    Parse(ParseError),
    /// Not JSON, or not the shape of the JSON form (unknown or duplicate
    /// field, wrong type, …); carries line and column.
    Json(serde_json::Error),
    /// JSON form: neither a request (`method` + `uri`, no `status`/`reason`)
    /// nor a response (`status`, no `method`/`uri`).
    StartLine,
    /// JSON form: both `body` and `body_base64` present.
    BodyTwice,
    /// JSON form: `body_base64` is not padded standard base64.
    Base64,
    /// A part that would not serialise as valid SIP (a control character or
    /// CR/LF in a value, a name that is not a token, a bad status, …).
    Invalid(BuildError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max}-byte limit")
            }
            DecodeError::TooManyHeaders { count, max } => {
                write!(f, "{count} headers exceed the limit of {max}")
            }
            DecodeError::Parse(e) => write!(f, "SIP parse error: {e}"),
            DecodeError::Json(e) => write!(f, "invalid JSON form: {e}"),
            DecodeError::StartLine => f.write_str(
                "invalid JSON form: need either \"method\"+\"uri\" (request) or \"status\" \
                 (response), not both",
            ),
            DecodeError::BodyTwice => {
                f.write_str("invalid JSON form: both \"body\" and \"body_base64\" present")
            }
            DecodeError::Base64 => {
                f.write_str("invalid JSON form: \"body_base64\" is not padded standard base64")
            }
            DecodeError::Invalid(e) => write!(f, "invalid SIP message: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Parse(e) => Some(e),
            DecodeError::Json(e) => Some(e),
            DecodeError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}
