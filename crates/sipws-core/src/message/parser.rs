//! The zero-copy message parser: [`Message::parse`].
//!
//! One call reads one SIP message from one WebSocket frame (RFC 7118 §5),
//! checks the limits before doing work proportional to them, indexes every
//! header into inline storage (no heap), and frames the body by
//! Content-Length.
//!
//! **Framing decisions** (documented behaviour):
//! - No Content-Length: the body is the rest of the frame (RFC 3261 §18.3
//!   allows this for message-oriented transports; a WebSocket message is one).
//! - Content-Length larger than what the frame holds:
//!   [`ParseErrorKind::BodyLength`] at the Content-Length value.
//! - Content-Length smaller than what the frame holds: the message ends where
//!   Content-Length says and the extra bytes are *ignored*, as RFC 4475 §3.1.1.8
//!   asks for datagrams; they stay visible through [`Message::trailing`] so a
//!   caller that wants RFC 7118's one-message-per-frame rule enforced strictly
//!   can reject them.
//! - Two Content-Length headers with different values:
//!   [`ParseErrorKind::ContentLength`] (the framing is undefined).

use core::fmt;

use arrayvec::ArrayVec;

use super::error::{ParseError, ParseErrorKind};
use super::lex::{is_lws, is_token, parse_u64_bytes};
use super::limits::{Limits, MAX_HEADERS};
use super::name::{known_after_letter, known_colon_at, letter};
use super::start_line::StartLine;
use super::HeaderName;

/// One header line, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name, case-folded, compact forms folded into the long form.
    pub name: HeaderName,
    /// The name as written (`"i"`, `"call-id"`, `"X-Foo"`).
    pub raw_name: &'a str,
    /// The bytes after `:` and leading LWS up to the line end, trailing
    /// whitespace trimmed. Folded continuation lines stay inside (CR LF +
    /// SP/HTAB); the typed accessors treat them as LWS.
    pub value: &'a str,
}

/// A parsed SIP message borrowing its frame. See the [module docs](crate::message)
/// for the framing rules.
#[derive(Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    /// The start line and header section (checked UTF-8), without the
    /// empty line: every header slot points into it.
    head: &'a str,
    start: StartLine<'a>,
    headers: ArrayVec<Slot, MAX_HEADERS>,
    body: &'a [u8],
    trailing: &'a [u8],
    content_length: Option<usize>,
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("start", &self.start)
            .field("headers", &self.headers())
            .field("body", &self.body)
            .field("trailing", &self.trailing)
            .field("content_length", &self.content_length)
            .finish()
    }
}

/// One header line as offsets into [`Message::head`]: 12 bytes instead of
/// the 40 of a [`Header`], so that a [`Message`] (whose inline storage
/// holds [`MAX_HEADERS`] of them) stays small enough to move cheaply. The
/// name and value are located relative to the line start, so one header
/// line (folds included) is at most [`MAX_HEADER_LINE`] bytes long.
#[derive(Clone, Copy)]
struct Slot {
    start: u32,
    name_len: u16,
    value_start: u16,
    value_end: u16,
    name: HeaderName,
}

/// Longest header line [`Message::parse`] indexes, folds included, up to the
/// end of its value: a longer one is [`ParseErrorKind::LineTooLong`].
const MAX_HEADER_LINE: usize = u16::MAX as usize;

impl Slot {
    /// The header this slot describes, its slices cut from `head`.
    #[inline]
    fn header<'a>(&self, head: &'a str) -> Header<'a> {
        let start = self.start as usize;
        // Offsets sit next to ASCII bytes, so on char boundaries. One cut
        // of the line up to the value end, then one cut at each end of
        // it (four boundary checks, two range checks).
        let line = head
            .get(start..start + usize::from(self.value_end))
            .unwrap_or("");
        Header {
            name: self.name,
            raw_name: line.get(..usize::from(self.name_len)).unwrap_or(""),
            value: line.get(usize::from(self.value_start)..).unwrap_or(""),
        }
    }
}

/// The headers of a [`Message`] in wire order, as returned by
/// [`Message::headers`]: a light view that yields each [`Header`] by value.
#[derive(Clone, Copy)]
pub struct Headers<'a, 'm> {
    head: &'a str,
    slots: &'m [Slot],
}

impl<'a, 'm> Headers<'a, 'm> {
    /// Number of header lines.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the message has no header at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The `i`-th header line (from 0), if there are that many.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<Header<'a>> {
        self.slots.get(i).map(|s| s.header(self.head))
    }

    /// The first header line.
    #[must_use]
    pub fn first(&self) -> Option<Header<'a>> {
        self.get(0)
    }

    /// The last header line.
    #[must_use]
    pub fn last(&self) -> Option<Header<'a>> {
        self.slots.last().map(|s| s.header(self.head))
    }

    /// Every header line in wire order.
    #[must_use]
    pub fn iter(&self) -> HeaderIter<'a, 'm> {
        HeaderIter {
            head: self.head,
            slots: self.slots.iter(),
        }
    }
}

impl fmt::Debug for Headers<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, 'm> IntoIterator for Headers<'a, 'm> {
    type Item = Header<'a>;
    type IntoIter = HeaderIter<'a, 'm>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, 'm> IntoIterator for &Headers<'a, 'm> {
    type Item = Header<'a>;
    type IntoIter = HeaderIter<'a, 'm>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the headers of a [`Message`] in wire order
/// ([`Headers::iter`]).
#[derive(Clone)]
pub struct HeaderIter<'a, 'm> {
    head: &'a str,
    slots: core::slice::Iter<'m, Slot>,
}

impl HeaderIter<'_, 'static> {
    /// An iterator over no header.
    pub(crate) fn empty() -> Self {
        HeaderIter {
            head: "",
            slots: [].iter(),
        }
    }
}

impl<'a> HeaderIter<'a, '_> {
    /// The next header named `name` (cheaper than `find`: the slices of
    /// the other headers are not cut).
    #[inline]
    pub(crate) fn next_named(&mut self, name: HeaderName) -> Option<Header<'a>> {
        let head = self.head;
        self.slots.find(|s| s.name == name).map(|s| s.header(head))
    }
}

impl<'a> Iterator for HeaderIter<'a, '_> {
    type Item = Header<'a>;

    #[inline]
    fn next(&mut self) -> Option<Header<'a>> {
        let head = self.head;
        self.slots.next().map(|s| s.header(head))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slots.size_hint()
    }

    fn nth(&mut self, n: usize) -> Option<Header<'a>> {
        let head = self.head;
        self.slots.nth(n).map(|s| s.header(head))
    }
}

impl DoubleEndedIterator for HeaderIter<'_, '_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let head = self.head;
        self.slots.next_back().map(|s| s.header(head))
    }
}

impl ExactSizeIterator for HeaderIter<'_, '_> {}

impl core::iter::FusedIterator for HeaderIter<'_, '_> {}

/// Where the line starting at `from` ends: `Ok((cr, next))` with `cr` the
/// index of its CR and `next` the index after its LF. Looks at most
/// `max_line + 2` bytes.
#[inline]
pub(crate) fn line_end(
    buf: &[u8],
    from: usize,
    max_line: usize,
) -> Result<(usize, usize), ParseError> {
    line_end_from(buf, from, from, max_line)
}

/// The first CR or LF of a haystack: memchr's two-byte search, built once
/// per message. On x86-64 its SSE2 flavour (SSE2 is part of the base
/// instruction set) inlines into the line loop, where the runtime-dispatched
/// [`memchr::memchr2`] pays a call and a set-up per line, which dominates on
/// 30-100 byte header lines.
#[derive(Clone, Copy)]
pub(crate) struct CrLf {
    #[cfg(target_arch = "x86_64")]
    sse2: Option<memchr::arch::x86_64::sse2::memchr::Two>,
}

impl CrLf {
    /// The searcher for this CPU.
    #[inline]
    pub(crate) fn new() -> CrLf {
        CrLf {
            #[cfg(target_arch = "x86_64")]
            sse2: memchr::arch::x86_64::sse2::memchr::Two::new(b'\r', b'\n'),
        }
    }

    /// Index of the first CR or LF in `haystack`.
    #[inline]
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(two) = &self.sse2 {
            return two.find(haystack);
        }
        memchr::memchr2(b'\r', b'\n', haystack)
    }
}

/// [`line_end`] of the line starting at `line`, searching from `from`
/// (`line <= from`): the caller knows `buf[line..from]` holds no CR or LF.
#[inline]
fn line_end_from(
    buf: &[u8],
    line: usize,
    from: usize,
    max_line: usize,
) -> Result<(usize, usize), ParseError> {
    line_end_with(&CrLf::new(), buf, line, from, max_line)
}

/// [`line_end_from`] with a searcher built beforehand.
#[inline(always)]
fn line_end_with(
    crlf: &CrLf,
    buf: &[u8],
    line: usize,
    from: usize,
    max_line: usize,
) -> Result<(usize, usize), ParseError> {
    // Searching past `line + max_line + 2` gives the same answers as a
    // search bounded there (checked below); the unbounded search is still
    // bounded by the frame size, itself limited.
    let at = match buf.get(from..) {
        Some(rest) => crlf.find(rest).map(|p| from + p),
        None => None,
    };
    match at {
        Some(at) if at - line <= max_line && buf.get(at..at + 2) == Some(b"\r\n") => {
            Ok((at, at + 2))
        }
        _ => Err(line_end_error(buf, line, at, max_line)),
    }
}

/// The error of a line starting at `line` whose first CR or LF is at `at`
/// (`None`: it has none) and which is not a well-formed line of at most
/// `max_line` bytes.
#[cold]
fn line_end_error(buf: &[u8], line: usize, at: Option<usize>, max_line: usize) -> ParseError {
    // Saturating: the limits are the caller's, `usize::MAX` included.
    let too_long = ParseError::new(ParseErrorKind::LineTooLong, line.saturating_add(max_line));
    match at {
        Some(at) if at - line > max_line.saturating_add(1) => too_long,
        Some(at) if buf[at] == b'\r' && buf.get(at + 1) == Some(&b'\n') => too_long,
        Some(at) if buf[at] == b'\r' && at + 1 >= buf.len() => {
            ParseError::new(ParseErrorKind::Incomplete, buf.len())
        }
        Some(at) => ParseError::new(ParseErrorKind::NewLine, at),
        None if buf.len() - line > max_line => too_long,
        None => ParseError::new(ParseErrorKind::Incomplete, buf.len()),
    }
}

/// UTF-8 view of `buf[from..to]`, or a [`ParseErrorKind::Utf8`] error at the
/// first bad byte.
#[inline]
pub(crate) fn utf8(buf: &[u8], from: usize, to: usize) -> Result<&str, ParseError> {
    let bytes = buf.get(from..to).unwrap_or(&[]);
    // SIMD validation; on failure the standard one locates the bad byte.
    simdutf8::basic::from_utf8(bytes).map_err(|_| {
        let at = core::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), str::len);
        ParseError::new(ParseErrorKind::Utf8, from + at)
    })
}

/// The error [`parse_start_line`] finds in the start line `buf[..cr]`, if
/// any (its UTF-8 first, then its syntax).
#[cold]
fn start_line_error(buf: &[u8], cr: usize) -> Option<ParseError> {
    match utf8(buf, 0, cr) {
        Err(e) => Some(e),
        Ok(line) => StartLine::parse(line, 0).err(),
    }
}

/// Parse the start line; returns it and the offset of the next line.
pub(crate) fn parse_start_line<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<(StartLine<'a>, usize), ParseError> {
    if buf.is_empty() {
        return Err(ParseError::new(ParseErrorKind::Empty, 0));
    }
    if buf.len() > limits.max_message_bytes {
        return Err(ParseError::new(
            ParseErrorKind::TooLarge,
            limits.max_message_bytes,
        ));
    }
    let (cr, next) = line_end(buf, 0, limits.max_line_bytes)?;
    let line = utf8(buf, 0, cr)?;
    Ok((StartLine::parse(line, 0)?, next))
}

impl<'a> Message<'a> {
    /// Parse one SIP message from `buf` (one WebSocket frame).
    ///
    /// Structural checks only: the start line (strict single spaces, a
    /// token method, a scheme-led Request-URI without LWS, `SIP/x.y`, a
    /// three-digit status), CR LF line ends, header names, UTF-8 in the
    /// start line and header section, and Content-Length framing. The typed
    /// header values are read on demand; [`Message::validate`] checks them
    /// all.
    ///
    /// # Errors
    /// A [`ParseError`] with its kind and byte offset; never panics.
    ///
    /// # Example
    /// ```
    /// use sipws_core::message::{HeaderName, Limits, Message};
    ///
    /// let frame = b"OPTIONS sip:example.com SIP/2.0\r\n\
    /// Via: SIP/2.0/WSS  df7jal23ls0d.invalid;branch=z9hG4bK1\r\n\
    /// i: a84b4c76e66710\r\n\
    /// CSeq: 1 OPTIONS\r\n\
    /// Content-Length: 0\r\n\r\n";
    /// let m = Message::parse(frame, &Limits::default())?;
    /// assert_eq!(m.method(), Some("OPTIONS"));
    /// assert_eq!(m.call_id(), Some("a84b4c76e66710"));
    /// assert_eq!(m.cseq().map(|c| c.seq), Some(1));
    /// assert_eq!(m.via().map(|v| v.transport), Some("WSS"));
    /// assert_eq!(m.headers().get(1).unwrap().raw_name, "i");
    /// assert_eq!(m.headers().get(1).unwrap().name, HeaderName::CallId);
    /// m.validate()?;
    /// # Ok::<(), sipws_core::message::ParseError>(())
    /// ```
    #[inline]
    pub fn parse(buf: &'a [u8], limits: &Limits) -> Result<Message<'a>, ParseError> {
        if buf.is_empty() {
            return Err(ParseError::new(ParseErrorKind::Empty, 0));
        }
        if buf.len() > limits.max_message_bytes {
            return Err(ParseError::new(
                ParseErrorKind::TooLarge,
                limits.max_message_bytes,
            ));
        }
        let (cr, next) = line_end(buf, 0, limits.max_line_bytes)?;
        let mut out = Ok(Message {
            bytes: buf,
            head: "",
            start: StartLine::Response {
                version: "",
                status: 0,
                reason: "",
            },
            headers: ArrayVec::new(),
            body: &[],
            trailing: &[],
            content_length: None,
        });
        // One local, returned on every path: with a caller that matches
        // the result in place (`match Message::parse(..) { Ok(ref m) => .. }`)
        // that is about 20 instructions a parse fewer than early returns.
        // The `Message` is still copied once on its way out (rustc does
        // not elide it), whichever way it is written.
        if let Ok(msg) = &mut out {
            // The start line is read after the header section, so that its
            // UTF-8 is checked with the section's in one pass; its errors
            // still come first, as if it had been read first.
            let read = match msg.index(buf, limits, next) {
                Ok(()) => StartLine::parse(msg.head.get(..cr).unwrap_or(""), 0),
                Err(e) => Err(start_line_error(buf, cr).unwrap_or(e)),
            };
            match read {
                Ok(start) => msg.start = start,
                Err(e) => out = Err(e),
            }
        }
        out
    }

    /// The part of [`Message::parse`] after the start line: index the
    /// header lines from `pos`, check the UTF-8 of the whole head, frame
    /// the body.
    #[inline(always)]
    fn index(&mut self, buf: &'a [u8], limits: &Limits, mut pos: usize) -> Result<(), ParseError> {
        if u32::try_from(buf.len()).is_err() {
            return Err(ParseError::new(ParseErrorKind::TooLarge, u32::MAX as usize));
        }
        let max_headers = limits.max_headers.min(MAX_HEADERS);
        let max_line = limits.max_line_bytes;
        let crlf = CrLf::new();
        let msg = self;
        let mut content_length: Option<(usize, usize)> = None;
        loop {
            let Some(&first) = buf.get(pos) else {
                return Err(ParseError::new(ParseErrorKind::Incomplete, buf.len()));
            };
            // Most lines start with a letter: then they are neither the
            // empty line nor a misplaced fold.
            let l1 = letter(first);
            if l1 >= 26 {
                match first {
                    b'\r' => {
                        if buf.get(pos + 1) == Some(&b'\n') {
                            break;
                        }
                        if pos + 1 >= buf.len() {
                            return Err(ParseError::new(ParseErrorKind::Incomplete, buf.len()));
                        }
                        return Err(ParseError::new(ParseErrorKind::NewLine, pos));
                    }
                    b' ' | b'\t' => return Err(ParseError::new(ParseErrorKind::HeaderName, pos)),
                    _ => {}
                }
            }
            if msg.headers.len() >= max_headers {
                return Err(ParseError::new(ParseErrorKind::TooManyHeaders, pos));
            }
            let line = pos;
            // The line end first: fewer values are live across the search
            // (a call) than after the name is read. Up to the colon there
            // is no CR or LF either way.
            let first_end = line_end_with(&crlf, buf, line, line, max_line)?;
            // The common case first: a known name directly followed by
            // its colon (one compare per word of both).
            let known = if l1 < 26 {
                match known_colon_at(buf, pos, l1) {
                    Some(found) => Ok(found),
                    None => Err(known_after_letter(buf, pos, l1)),
                }
            } else {
                Err(None)
            };
            let (name, name_end, value_start, cr, next) = match known {
                // A known name, a colon, SP/HTAB, the value.
                Ok((name, len)) => {
                    let name_end = pos + len;
                    // Mostly one SP.
                    let mut vs = name_end + 1;
                    if buf.get(vs) == Some(&b' ') {
                        vs += 1;
                    }
                    // SP and HTAB are below `!`: one compare for the rest.
                    if buf.get(vs).is_some_and(|&c| c <= b' ') {
                        while matches!(buf.get(vs), Some(b' ' | b'\t')) {
                            vs += 1;
                        }
                    }
                    let (mut cr, mut next) = first_end;
                    // The next line mostly starts with a letter, above SP.
                    if buf.get(next).is_some_and(|&c| c <= b' ') {
                        let cr0 = cr;
                        while matches!(buf.get(next), Some(b' ' | b'\t')) {
                            (cr, next) = line_end_with(&crlf, buf, next, next, max_line)?;
                        }
                        if vs == cr0 {
                            // Empty first line: the value starts after a
                            // fold (without one, there is nothing to skip).
                            while vs < cr && is_lws(buf[vs]) {
                                vs += 1;
                            }
                        }
                    }
                    (name, name_end, vs, cr, next)
                }
                Err(known) => {
                    // The name, then SP/HTAB up to the colon.
                    let (name, mut i) = match known {
                        Some((name, len)) => (name, pos + len),
                        None => {
                            let mut i = pos;
                            while i < buf.len() && is_token(buf[i]) {
                                i += 1;
                            }
                            // Every known form followed by `:`/SP/HTAB was tried.
                            (HeaderName::Other, i)
                        }
                    };
                    let name_end = i;
                    while i < buf.len() && matches!(buf[i], b' ' | b'\t') {
                        i += 1;
                    }
                    let colon = i;
                    let (mut cr, mut next) = first_end;
                    while matches!(buf.get(next), Some(b' ' | b'\t')) {
                        (cr, next) = line_end_with(&crlf, buf, next, next, max_line)?;
                    }
                    if name_end == line {
                        return Err(ParseError::new(ParseErrorKind::HeaderName, line));
                    }
                    // `colon <= cr`: the bytes before it are no CR.
                    if colon >= cr || buf[colon] != b':' {
                        return Err(ParseError::new(ParseErrorKind::HeaderName, colon));
                    }
                    let mut value_start = colon + 1;
                    while value_start < cr && is_lws(buf[value_start]) {
                        value_start += 1;
                    }
                    (name, name_end, value_start, cr, next)
                }
            };
            let mut value_end = cr;
            // LWS bytes are all at most SP: one compare rules out the rest.
            if buf.get(cr.wrapping_sub(1)).is_some_and(|&c| c <= b' ') {
                while value_end > value_start && is_lws(buf[value_end - 1]) {
                    value_end -= 1;
                }
            }
            if value_end - line > MAX_HEADER_LINE {
                return Err(ParseError::new(
                    ParseErrorKind::LineTooLong,
                    line + MAX_HEADER_LINE,
                ));
            }
            if name == HeaderName::ContentLength {
                let at = value_start;
                let n = parse_u64_bytes(&buf[value_start..value_end])
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or(ParseError::new(ParseErrorKind::ContentLength, at))?;
                match content_length {
                    Some((prev, _)) if prev != n => {
                        return Err(ParseError::new(ParseErrorKind::ContentLength, at));
                    }
                    Some(_) => {}
                    None => content_length = Some((n, at)),
                }
            }
            // `parse` checked that the frame fits `u32` offsets, and the
            // line its `u16` ones.
            msg.headers.push(Slot {
                start: line as u32,
                name_len: (name_end - line) as u16,
                value_start: (value_start - line) as u16,
                value_end: (value_end - line) as u16,
                name,
            });
            pos = next;
        }
        // The start line and every header line, checked for UTF-8 at once.
        // (Inline: the valid case pays no call and no `Result` in memory.)
        msg.head = match buf.get(..pos).map(simdutf8::basic::from_utf8) {
            Some(Ok(head)) => head,
            // `utf8` fails the same way and locates the first bad byte.
            _ => {
                return Err(utf8(buf, 0, pos)
                    .err()
                    .unwrap_or(ParseError::new(ParseErrorKind::Utf8, 0)))
            }
        };
        msg.content_length = content_length.map(|(n, _)| n);
        pos += 2;
        let available = buf.len() - pos;
        let body_len = match content_length {
            Some((n, _)) if n <= available => n,
            Some((_, at)) => return Err(ParseError::new(ParseErrorKind::BodyLength, at)),
            None => available,
        };
        let end = pos + body_len;
        msg.bytes = &buf[..end];
        msg.body = &buf[pos..end];
        msg.trailing = &buf[end..];
        Ok(())
    }

    /// The whole message including its body (without [`trailing`](Self::trailing) bytes).
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The start line.
    #[must_use]
    pub fn start_line(&self) -> StartLine<'a> {
        self.start
    }

    /// Whether this is a request.
    #[must_use]
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method; `None` for responses.
    #[must_use]
    pub fn method(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI as written; `None` for responses.
    #[must_use]
    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The response status code; `None` for requests.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase; `None` for requests.
    #[must_use]
    pub fn reason(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// All headers in wire order.
    #[must_use]
    pub fn headers(&self) -> Headers<'a, '_> {
        Headers {
            head: self.head,
            slots: &self.headers,
        }
    }

    /// The value of the first header named `name`.
    #[must_use]
    pub fn header(&self, name: HeaderName) -> Option<&'a str> {
        self.headers().iter().next_named(name).map(|h| h.value)
    }

    /// The values of every header named `name`, in wire order (one item per
    /// header line; split comma lists with the typed accessors).
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &'a str> + '_ {
        let mut it = self.headers().iter();
        core::iter::from_fn(move || it.next_named(name).map(|h| h.value))
    }

    /// The value of the first header whose name as written equals `raw_name`
    /// ignoring ASCII case (for extension headers; compact forms are *not*
    /// folded here).
    #[must_use]
    pub fn header_raw(&self, raw_name: &str) -> Option<&'a str> {
        self.headers()
            .iter()
            .find(|h| h.raw_name.eq_ignore_ascii_case(raw_name))
            .map(|h| h.value)
    }

    /// The body, framed by Content-Length (or the rest of the frame).
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Bytes of the frame after the Content-Length-framed body. They are
    /// not part of the message (RFC 4475 §3.1.1.8); normally empty.
    #[must_use]
    pub fn trailing(&self) -> &'a [u8] {
        self.trailing
    }

    /// The Content-Length value, if present.
    #[must_use]
    pub fn content_length(&self) -> Option<usize> {
        self.content_length
    }

    /// The Call-ID (first one), trimmed.
    #[must_use]
    pub fn call_id(&self) -> Option<&'a str> {
        self.header(HeaderName::CallId).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<Message<'_>, ParseError> {
        Message::parse(s, &Limits::default())
    }

    const REG: &[u8] = b"REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/WS  127.0.0.1:8080;branch=z9hG4bK1\r\n\
i: abc@host\r\n\
CSeq: 1 REGISTER\r\n\
X-Foo: bar\r\n\
X-Folded: one\r\n  two\r\n\
Content-Length: 4\r\n\
\r\n\
body";

    #[test]
    fn parses_request_headers_and_body() {
        let m = parse(REG).unwrap();
        assert!(m.is_request());
        assert_eq!(m.method(), Some("REGISTER"));
        assert_eq!(m.request_uri(), Some("sip:example.com"));
        assert_eq!(m.status(), None);
        assert_eq!(m.headers().len(), 6);
        assert_eq!(
            m.header(HeaderName::Via),
            Some("SIP/2.0/WS  127.0.0.1:8080;branch=z9hG4bK1")
        );
        assert_eq!(m.call_id(), Some("abc@host"));
        assert_eq!(m.headers().get(1).unwrap().raw_name, "i");
        assert_eq!(m.header_raw("x-foo"), Some("bar"));
        assert_eq!(m.header_raw("X-Folded"), Some("one\r\n  two"));
        assert_eq!(m.body(), b"body");
        assert_eq!(m.as_bytes(), REG);
        assert_eq!(m.content_length(), Some(4));
        assert!(m.trailing().is_empty());
    }

    #[test]
    fn response_without_content_length_takes_rest() {
        let m = parse(b"SIP/2.0 200 OK\r\nCSeq: 2 INVITE\r\n\r\nv=0\r\n").unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.reason(), Some("OK"));
        assert_eq!(m.body(), b"v=0\r\n");
        assert_eq!(m.content_length(), None);
    }

    #[test]
    fn framing_errors() {
        let e = parse(b"SIP/2.0 200 OK\r\nl: 10\r\n\r\nabc").unwrap_err();
        assert_eq!(e, ParseError::new(ParseErrorKind::BodyLength, 19));
        let e = parse(b"SIP/2.0 200 OK\r\nl: -1\r\n\r\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::ContentLength);
        let e = parse(b"SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 2\r\n\r\nab").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::ContentLength);
        let m = parse(b"SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 1\r\n\r\nab").unwrap();
        assert_eq!((m.body(), m.trailing()), (&b"a"[..], &b"b"[..]));
        assert_eq!(parse(b"").unwrap_err().kind, ParseErrorKind::Empty);
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nA: b\r\n").unwrap_err().kind,
            ParseErrorKind::Incomplete
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nA: b\r").unwrap_err().kind,
            ParseErrorKind::Incomplete
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\nA: b\r\n\r\n").unwrap_err().kind,
            ParseErrorKind::NewLine
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nA: b\rc\r\n\r\n")
                .unwrap_err()
                .kind,
            ParseErrorKind::NewLine
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\n A: b\r\n\r\n").unwrap_err().kind,
            ParseErrorKind::HeaderName
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nA b\r\n\r\n").unwrap_err().kind,
            ParseErrorKind::HeaderName
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\n: b\r\n\r\n").unwrap_err().kind,
            ParseErrorKind::HeaderName
        );
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nA: \xff\r\n\r\n").unwrap_err(),
            ParseError::new(ParseErrorKind::Utf8, 19)
        );
    }

    #[test]
    fn start_line_errors_come_before_header_errors() {
        // The start line is read after the header section; its errors are
        // still the ones reported.
        assert_eq!(
            parse(b"SIP/2.0 20 OK\r\nA b\r\n\r\n").unwrap_err(),
            ParseError::new(ParseErrorKind::StatusCode, 8)
        );
        assert_eq!(
            parse(b"SIP/2.0 200 O\xffK\r\nA: b\r\n").unwrap_err(),
            ParseError::new(ParseErrorKind::Utf8, 13)
        );
        assert_eq!(
            parse(b"INVITE sip:a SIP/2\r\nA: \xff\r\n\r\n").unwrap_err(),
            ParseError::new(ParseErrorKind::Version, 13)
        );
        // A header error with a good start line.
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nA b\r\n\r\n").unwrap_err().kind,
            ParseErrorKind::HeaderName
        );
        // Fold at the value start, tabs, trailing LWS, compact and unknown
        // names through both paths.
        let m =
            parse(b"SIP/2.0 200 OK\r\nSubject:\r\n  hi  \r\nv :\tSIP/2.0/WS a\t\r\nX-A:b\r\n\r\n")
                .unwrap();
        let h: Vec<_> = m
            .headers()
            .iter()
            .map(|h| (h.name, h.raw_name, h.value))
            .collect();
        assert_eq!(
            h,
            [
                (HeaderName::Subject, "Subject", "hi"),
                (HeaderName::Via, "v", "SIP/2.0/WS a"),
                (HeaderName::Other, "X-A", "b"),
            ]
        );
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_message_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            Message::parse(REG, &limits).unwrap_err().kind,
            ParseErrorKind::TooLarge
        );
        let limits = Limits {
            max_headers: 2,
            ..Limits::default()
        };
        assert_eq!(
            Message::parse(REG, &limits).unwrap_err().kind,
            ParseErrorKind::TooManyHeaders
        );
        let limits = Limits {
            max_line_bytes: 20,
            ..Limits::default()
        };
        let e = Message::parse(REG, &limits).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::LineTooLong);
        // More headers than the inline storage: rejected, not truncated.
        let mut many = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend_from_slice(b"A: b\r\n");
        }
        many.extend_from_slice(b"\r\n");
        let limits = Limits {
            max_headers: usize::MAX,
            ..Limits::default()
        };
        assert_eq!(
            Message::parse(&many, &limits).unwrap_err().kind,
            ParseErrorKind::TooManyHeaders
        );
    }

    #[test]
    fn limits_at_usize_max_do_not_overflow() {
        let limits = Limits {
            max_message_bytes: usize::MAX,
            max_headers: usize::MAX,
            max_line_bytes: usize::MAX,
        };
        assert!(Message::parse(REG, &limits).is_ok());
        assert!(crate::message::classify(REG, &limits).is_ok());
        // Every error path of the line search: bare LF, bare CR, no end.
        for bad in [
            &b"OPTIONS sip:a SIP/2.0\nA: b\r\n\r\n"[..],
            b"OPTIONS sip:a SIP/2.0\r\nA: b\rc\r\n\r\n",
            b"OPTIONS sip:a SIP/2.0\r\nA: b",
            b"OPTIONS sip:a SIP/2.0\r",
        ] {
            assert!(Message::parse(bad, &limits).is_err());
            let _ = crate::message::classify(bad, &limits);
        }
        let near = Limits {
            max_line_bytes: usize::MAX - 1,
            ..limits
        };
        assert!(Message::parse(b"OPTIONS sip:a SIP/2.0\r\nA: b", &near).is_err());
    }
}
