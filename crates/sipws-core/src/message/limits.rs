//! Parser limits, checked before any work proportional to them.

/// The inline header storage of a [`Message`](super::Message): the hard cap
/// on [`Limits::max_headers`] (equal to its default). A message with more
/// headers is rejected with
/// [`ParseErrorKind::TooManyHeaders`](super::ParseErrorKind::TooManyHeaders),
/// never truncated. Kept small because a `Message` carries this storage
/// inline and every move of it copies the whole of it.
pub const MAX_HEADERS: usize = 64;

/// Limits applied by [`Message::parse`](super::Message::parse) and
/// [`classify`](super::classify) before they do work proportional to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame accepted, in bytes (default 65 536).
    pub max_message_bytes: usize,
    /// Most header lines accepted (default 64, which is also
    /// [`MAX_HEADERS`]: values above it act as [`MAX_HEADERS`]).
    pub max_headers: usize,
    /// Longest physical line accepted, without its CR LF (default 8 192).
    /// Independently of it, [`Message::parse`](super::Message::parse)
    /// rejects a header whose logical line (folds included, up to the end
    /// of its value) is longer than 65 535 bytes: its inline index keeps
    /// 16-bit offsets within a line.
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 65_536,
            max_headers: 64,
            max_line_bytes: 8_192,
        }
    }
}
