//! Header names (RFC 3261 §7.3, §20) and their compact forms (§7.3.3).

use core::fmt;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident = $long:literal $(, $compact:literal)? ; )*) => {
        /// A SIP header name, case-folded, with compact forms folded into
        /// their long form (`i` is [`HeaderName::CallId`], `v` is
        /// [`HeaderName::Via`], …). Names sipws does not know are
        /// [`HeaderName::Other`]; the name as written is kept on the
        /// header itself.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* $variant, )*
            /// Any other (extension) header; compare the raw name.
            Other,
        }

        impl HeaderName {
            /// Every known name, in declaration order (without `Other`).
            pub const KNOWN: &'static [HeaderName] = &[ $( HeaderName::$variant, )* ];

            /// The canonical long form, e.g. `"Call-ID"`; `None` for `Other`.
            #[must_use]
            pub const fn as_str(self) -> Option<&'static str> {
                match self {
                    $( HeaderName::$variant => Some($long), )*
                    HeaderName::Other => None,
                }
            }

            /// The compact form (RFC 3261 §7.3.3 and extensions), if any.
            #[must_use]
            pub const fn compact(self) -> Option<&'static str> {
                match self {
                    $( HeaderName::$variant => header_names!(@compact $($compact)?), )*
                    HeaderName::Other => None,
                }
            }

            /// Classify a header name as written on the wire, ignoring
            /// ASCII case and accepting compact forms. Never allocates.
            #[must_use]
            #[inline]
            pub fn from_bytes(name: &[u8]) -> HeaderName {
                // A perfect hash of (length, first letter, last letter)
                // picks the one candidate form; one case-insensitive
                // compare confirms it (see `BY_HASH`).
                let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
                    return HeaderName::Other;
                };
                let slot = BY_HASH[name_hash(name.len(), first, last)];
                match FORMS.get(usize::from(slot)) {
                    Some(form) if form.matches(name) => form.name,
                    _ => HeaderName::Other,
                }
            }
        }
    };
    (@compact $c:literal) => { Some($c) };
    (@compact) => { None };
}

header_names! {
    /// `Via` (`v`).
    Via = "Via", "v";
    /// `From` (`f`).
    From = "From", "f";
    /// `To` (`t`).
    To = "To", "t";
    /// `Call-ID` (`i`).
    CallId = "Call-ID", "i";
    /// `CSeq`.
    CSeq = "CSeq";
    /// `Contact` (`m`).
    Contact = "Contact", "m";
    /// `Max-Forwards`.
    MaxForwards = "Max-Forwards";
    /// `Expires`.
    Expires = "Expires";
    /// `Min-Expires`.
    MinExpires = "Min-Expires";
    /// `Content-Length` (`l`).
    ContentLength = "Content-Length", "l";
    /// `Content-Type` (`c`).
    ContentType = "Content-Type", "c";
    /// `Content-Encoding` (`e`).
    ContentEncoding = "Content-Encoding", "e";
    /// `Content-Disposition`.
    ContentDisposition = "Content-Disposition";
    /// `Route`.
    Route = "Route";
    /// `Record-Route`.
    RecordRoute = "Record-Route";
    /// `Path` (RFC 3327).
    Path = "Path";
    /// `WWW-Authenticate`.
    WwwAuthenticate = "WWW-Authenticate";
    /// `Proxy-Authenticate`.
    ProxyAuthenticate = "Proxy-Authenticate";
    /// `Authorization`.
    Authorization = "Authorization";
    /// `Proxy-Authorization`.
    ProxyAuthorization = "Proxy-Authorization";
    /// `Authentication-Info`.
    AuthenticationInfo = "Authentication-Info";
    /// `Event` (`o`, RFC 6665).
    Event = "Event", "o";
    /// `Allow-Events` (`u`, RFC 6665).
    AllowEvents = "Allow-Events", "u";
    /// `Subscription-State` (RFC 6665).
    SubscriptionState = "Subscription-State";
    /// `Allow`.
    Allow = "Allow";
    /// `Supported` (`k`).
    Supported = "Supported", "k";
    /// `Require`.
    Require = "Require";
    /// `Proxy-Require`.
    ProxyRequire = "Proxy-Require";
    /// `Unsupported`.
    Unsupported = "Unsupported";
    /// `Subject` (`s`).
    Subject = "Subject", "s";
    /// `User-Agent`.
    UserAgent = "User-Agent";
    /// `Server`.
    Server = "Server";
    /// `Accept`.
    Accept = "Accept";
    /// `Accept-Contact` (`a`, RFC 3841).
    AcceptContact = "Accept-Contact", "a";
    /// `Reject-Contact` (`j`, RFC 3841).
    RejectContact = "Reject-Contact", "j";
    /// `Request-Disposition` (`d`, RFC 3841).
    RequestDisposition = "Request-Disposition", "d";
    /// `Refer-To` (`r`, RFC 3515).
    ReferTo = "Refer-To", "r";
    /// `Referred-By` (`b`, RFC 3892).
    ReferredBy = "Referred-By", "b";
    /// `Session-Expires` (`x`, RFC 4028).
    SessionExpires = "Session-Expires", "x";
    /// `Identity` (`y`, RFC 8224).
    Identity = "Identity", "y";
    /// `Date`.
    Date = "Date";
    /// `Timestamp`.
    Timestamp = "Timestamp";
    /// `Warning`.
    Warning = "Warning";
    /// `Reason` (RFC 3326).
    Reason = "Reason";
}

/// Longest wire form of a known name (`Content-Disposition`, …), rounded
/// up to whole eight-byte words.
const FORM_BYTES: usize = 24;

/// One wire form of a known name (its long or its compact form), laid out
/// for an exact ASCII case-insensitive compare eight bytes at a time:
/// `byte | mask == lower` at every position, where `mask` is 0x20 on
/// letters (either case matches) and 0 elsewhere (`-` matches only `-`).
///
/// The same form followed by `:` is also kept as little-endian words
/// (`colon_*`), for [`known_colon_at`]: `(word | mask) & keep == lower`
/// on each of its `words` words, `keep` selecting the bytes of the name
/// and its colon.
#[derive(Clone, Copy)]
pub(crate) struct Form {
    lower: [u8; FORM_BYTES],
    mask: [u8; FORM_BYTES],
    colon_lower: [u64; COLON_WORDS],
    colon_mask: [u64; COLON_WORDS],
    colon_keep: [u64; COLON_WORDS],
    words: u8,
    len: u8,
    name: HeaderName,
}

/// Words of a form followed by its colon (at most `FORM_BYTES` bytes).
const COLON_WORDS: usize = FORM_BYTES / 8;

/// The little-endian word of `b` at `8 * k` (const).
const fn const_word(b: &[u8; FORM_BYTES], k: usize) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < 8 {
        w |= (b[8 * k + i] as u64) << (8 * i);
        i += 1;
    }
    w
}

impl Form {
    /// The form of `name` spelt `text`.
    const fn new(text: &str, name: HeaderName) -> Form {
        let b = text.as_bytes();
        assert!(
            !b.is_empty() && b.len() < FORM_BYTES,
            "header name form too long"
        );
        let mut lower = [0u8; FORM_BYTES];
        let mut mask = [0u8; FORM_BYTES];
        let mut keep = [0u8; FORM_BYTES];
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_alphabetic() {
                mask[i] = 0x20;
                lower[i] = b[i] | 0x20;
            } else {
                lower[i] = b[i];
            }
            keep[i] = 0xff;
            i += 1;
        }
        // The colon after the name (`matches` looks at the name only).
        lower[b.len()] = b':';
        keep[b.len()] = 0xff;
        let mut colon_lower = [0u64; COLON_WORDS];
        let mut colon_mask = [0u64; COLON_WORDS];
        let mut colon_keep = [0u64; COLON_WORDS];
        let mut k = 0;
        while k < COLON_WORDS {
            colon_lower[k] = const_word(&lower, k);
            colon_mask[k] = const_word(&mask, k);
            colon_keep[k] = const_word(&keep, k);
            k += 1;
        }
        Form {
            lower,
            mask,
            colon_lower,
            colon_mask,
            colon_keep,
            words: (b.len() / 8 + 1) as u8,
            len: b.len() as u8,
            name,
        }
    }

    /// Whether `name` is this form, ignoring ASCII case (overlapping loads
    /// at the end, bytes one by one below four).
    #[inline]
    fn matches(&self, name: &[u8]) -> bool {
        let n = name.len();
        if n != usize::from(self.len) {
            return false;
        }
        if n >= 8 {
            let mut i = 0;
            while i + 8 < n {
                if word8(name, i) | word8(&self.mask, i) != word8(&self.lower, i) {
                    return false;
                }
                i += 8;
            }
            word8(name, n - 8) | word8(&self.mask, n - 8) == word8(&self.lower, n - 8)
        } else if n >= 4 {
            word4(name, 0) | word4(&self.mask, 0) == word4(&self.lower, 0)
                && word4(name, n - 4) | word4(&self.mask, n - 4) == word4(&self.lower, n - 4)
        } else {
            name.iter()
                .zip(self.mask.iter().zip(&self.lower))
                .all(|(x, (m, l))| x | m == *l)
        }
    }
}

/// The eight bytes of `b` at `at` as a little-endian word (0 past the end:
/// callers stay in bounds).
#[inline]
fn word8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The four bytes of `b` at `at` as a little-endian word (0 past the end).
#[inline]
fn word4(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_le_bytes)
}

/// Number of known names with a compact form.
const COMPACT_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < HeaderName::KNOWN.len() {
        if HeaderName::KNOWN[i].compact().is_some() {
            n += 1;
        }
        i += 1;
    }
    n
};

/// Number of [`FORMS`].
const FORM_COUNT: usize = HeaderName::KNOWN.len() + COMPACT_COUNT;

/// Every form a known name can take on the wire: the long forms in
/// declaration order (the common ones first), then the compact ones.
static FORMS: [Form; FORM_COUNT] = {
    let mut t = [Form::new("-", HeaderName::Other); FORM_COUNT];
    let mut n = 0;
    let mut i = 0;
    while i < HeaderName::KNOWN.len() {
        if let Some(long) = HeaderName::KNOWN[i].as_str() {
            t[n] = Form::new(long, HeaderName::KNOWN[i]);
            n += 1;
        }
        i += 1;
    }
    i = 0;
    while i < HeaderName::KNOWN.len() {
        if let Some(c) = HeaderName::KNOWN[i].compact() {
            t[n] = Form::new(c, HeaderName::KNOWN[i]);
            n += 1;
        }
        i += 1;
    }
    assert!(n == FORM_COUNT && FORM_COUNT < NONE as usize);
    t
};

/// Most [`FORMS`] sharing a [`pair_slot`].
const BUCKET: usize = 8;

/// Where the forms starting with letter `l1` (0 for `a`) and then the
/// byte `second` are listed in [`BY_PAIR`]: one bucket per pair of
/// letters, plus one per first letter for anything else as second byte
/// (a compact form's `:`, SP or HTAB, or a name no known form starts
/// like). Letters in either case.
#[inline]
const fn pair_slot(l1: u8, second: u8) -> usize {
    l1 as usize * 27 + LETTER[second as usize] as usize
}

/// Each byte's letter number (0 for `a` or `A`, …, 25), 26 for any other
/// byte.
static LETTER: [u8; 256] = {
    let mut t = [26u8; 256];
    let mut c = 0;
    while c < 26 {
        t[b'a' as usize + c] = c as u8;
        t[b'A' as usize + c] = c as u8;
        c += 1;
    }
    t
};

/// Indexes into [`FORMS`] of the forms starting with each pair of bytes
/// (see [`pair_slot`]), in [`FORMS`] order, [`NONE`] after the last. Built
/// at compile time; a full bucket is a compile error.
static BY_PAIR: [[u8; BUCKET]; 26 * 27] = {
    let mut t = [[NONE; BUCKET]; 26 * 27];
    // The names of [`COMMON`] first, each bucket in [`FORMS`] order.
    let mut pass = 0;
    while pass < 2 {
        let mut i = 0;
        while i < FORM_COUNT {
            let form = &FORMS[i];
            let mut common = false;
            let mut k = 0;
            while k < COMMON.len() {
                common |= COMMON[k] as u8 == form.name as u8;
                k += 1;
            }
            if common == (pass == 0) {
                let l1 = LETTER[form.lower[0] as usize];
                let second = if form.len > 1 { form.lower[1] } else { b':' };
                let slot = pair_slot(l1, second);
                let mut j = 0;
                while t[slot][j] != NONE {
                    j += 1;
                }
                t[slot][j] = i as u8;
            }
            i += 1;
        }
        pass += 1;
    }
    t
};

/// Names tried before the others sharing their first two letters: the
/// ones in nearly every message a WebSocket client sends or receives.
const COMMON: [HeaderName; 12] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::Contact,
    HeaderName::ContentLength,
    HeaderName::ContentType,
    HeaderName::MaxForwards,
    HeaderName::Allow,
    HeaderName::Supported,
    HeaderName::Server,
];

/// The known name written at `buf[pos..]` and directly followed by `:`,
/// SP or HTAB, with its length: what the parser tries before scanning an
/// unknown name byte by byte. Only the forms starting with the same two
/// bytes are tried (one or two mostly, most common first); a form matches
/// exactly (ASCII case ignored), so the name bytes are token characters.
/// `None` means the name there is not a known form (or is not followed by
/// one of those bytes).
#[cfg(test)]
pub(crate) fn known_at(buf: &[u8], pos: usize) -> Option<(HeaderName, usize)> {
    let l1 = letter(*buf.get(pos)?);
    if l1 >= 26 {
        return None;
    }
    known_after_letter(buf, pos, l1)
}

/// The letter number of `b` (0 for `a` or `A`, …, 25), 26 for any byte
/// that is not an ASCII letter.
#[inline]
pub(crate) fn letter(b: u8) -> u8 {
    LETTER[usize::from(b)]
}

/// [`known_at`] when the byte at `pos` is known to be the letter numbered
/// `l1` (see [`letter`], `l1 < 26`).
#[inline]
pub(crate) fn known_after_letter(buf: &[u8], pos: usize, l1: u8) -> Option<(HeaderName, usize)> {
    let second = buf.get(pos + 1).copied().unwrap_or(b':');
    let bucket = BY_PAIR.get(pair_slot(l1, second))?;
    for &i in bucket {
        let form = FORMS.get(usize::from(i))?;
        let end = pos + usize::from(form.len);
        if matches!(buf.get(end), Some(b':' | b' ' | b'\t'))
            && form.matches(buf.get(pos..end).unwrap_or(&[]))
        {
            return Some((form.name, end - pos));
        }
    }
    None
}

/// The known name written at `buf[pos..]` and directly followed by `:`,
/// with its length, given that `buf[pos]` is the letter numbered `l1`
/// (see [`letter`], `l1 < 26`): the parser's common case, compared a word
/// (eight bytes) at a time, name and colon together. `None` when the name
/// there is not a known form directly followed by `:`, and also when the
/// frame ends within eight bytes of the compared words: the caller then
/// reads the name with [`known_after_letter`].
#[inline]
pub(crate) fn known_colon_at(buf: &[u8], pos: usize, l1: u8) -> Option<(HeaderName, usize)> {
    let w0 = word8(buf, pos);
    // The second byte (the `:` of a compact form).
    let bucket = BY_PAIR.get(pair_slot(l1, (w0 >> 8) as u8))?;
    for &i in bucket {
        let form = FORMS.get(usize::from(i))?;
        // Past the end of `buf`, `word8` reads 0, which no form matches
        // (its colon is never 0).
        if (w0 | form.colon_mask[0]) & form.colon_keep[0] == form.colon_lower[0]
            && (form.words < 2
                || (word8(buf, pos + 8) | form.colon_mask[1]) & form.colon_keep[1]
                    == form.colon_lower[1])
            && (form.words < 3
                || (word8(buf, pos + 16) | form.colon_mask[2]) & form.colon_keep[2]
                    == form.colon_lower[2])
        {
            return Some((form.name, usize::from(form.len)));
        }
    }
    None
}

/// Marks an empty slot in [`BY_HASH`].
const NONE: u8 = u8::MAX;

/// The hash of a name of length `len` from its first and last bytes,
/// ASCII case ignored: an index into [`BY_HASH`]. The multipliers were
/// chosen so that no two [`FORMS`] collide (checked at compile time).
#[inline]
const fn name_hash(len: usize, first: u8, last: u8) -> usize {
    (len.wrapping_mul(2))
        .wrapping_add((first | 0x20) as usize * 35)
        .wrapping_add((last | 0x20) as usize * 21)
        & 0xff
}

/// Index into [`FORMS`] by [`name_hash`]; [`NONE`] where no form hashes.
/// Built at compile time; a collision is a compile error.
static BY_HASH: [u8; 256] = {
    let mut t = [NONE; 256];
    let mut i = 0;
    while i < FORMS.len() {
        let form = &FORMS[i];
        let len = form.len as usize;
        let h = name_hash(len, form.lower[0], form.lower[len - 1]);
        assert!(t[h] == NONE, "two header name forms share a hash");
        t[h] = i as u8;
        i += 1;
    }
    t
};

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("(other)"))
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderName;

    #[test]
    fn compact_and_case_fold_to_one_name() {
        for (raw, name) in [
            (&b"i"[..], HeaderName::CallId),
            (b"I", HeaderName::CallId),
            (b"call-id", HeaderName::CallId),
            (b"CALL-ID", HeaderName::CallId),
            (b"v", HeaderName::Via),
            (b"m", HeaderName::Contact),
            (b"l", HeaderName::ContentLength),
            (b"o", HeaderName::Event),
            (b"x", HeaderName::SessionExpires),
            (b"cseq", HeaderName::CSeq),
            (b"X-Anything", HeaderName::Other),
            (b"q", HeaderName::Other),
            (b"", HeaderName::Other),
        ] {
            assert_eq!(HeaderName::from_bytes(raw), name, "{:?}", raw);
        }
    }

    #[test]
    fn every_known_name_round_trips() {
        for &n in HeaderName::KNOWN {
            let long = n.as_str().unwrap();
            assert_eq!(HeaderName::from_bytes(long.as_bytes()), n);
            if let Some(c) = n.compact() {
                assert_eq!(c.len(), 1);
                assert_eq!(HeaderName::from_bytes(c.as_bytes()), n);
            }
        }
        let compacts: Vec<_> = HeaderName::KNOWN
            .iter()
            .filter_map(|n| n.compact())
            .collect();
        let mut dedup = compacts.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(compacts.len(), dedup.len(), "compact forms are unique");
    }

    #[test]
    fn known_at_needs_a_delimiter_and_exact_bytes() {
        use super::known_at;
        assert_eq!(known_at(b"Via: x", 0), Some((HeaderName::Via, 3)));
        assert_eq!(known_at(b"xx  via\t: x", 4), Some((HeaderName::Via, 3)));
        assert_eq!(known_at(b"i:x", 0), Some((HeaderName::CallId, 1)));
        assert_eq!(
            known_at(b"CONTENT-LENGTH :0", 0),
            Some((HeaderName::ContentLength, 14))
        );
        assert_eq!(known_at(b"Vias: x", 0), None);
        assert_eq!(known_at(b"Via", 0), None);
        assert_eq!(known_at(b"Via", 3), None);
        assert_eq!(known_at(b"X-Foo: x", 0), None);
        // `-` matches only `-` (CR differs from it in the case bit only).
        assert_eq!(known_at(b"Call\rID: x", 0), None);
        assert_eq!(HeaderName::from_bytes(b"Call\rID"), HeaderName::Other);
        assert_eq!(known_at(b"", 0), None);
        assert_eq!(known_at(b"@: x", 0), None);
        for &n in HeaderName::KNOWN {
            for form in [n.as_str(), n.compact()].into_iter().flatten() {
                let line = format!("{}: v", form.to_ascii_uppercase());
                assert_eq!(known_at(line.as_bytes(), 0), Some((n, form.len())));
            }
        }
    }

    #[test]
    fn near_misses_are_other() {
        // Same length, first and last letter as a known form (same hash),
        // different middle.
        for raw in [
            &b"Call-IX"[..],
            b"Cxntact",
            b"Content-Lengtx",
            b"Content-Dispositiom",
            b"Vxa",
            b"Toooo",
            b"T-",
            b"\xffia",
            b"V\x00a",
            b"Call\r\nID",
        ] {
            assert_eq!(HeaderName::from_bytes(raw), HeaderName::Other, "{:?}", raw);
        }
        // Case folding across the whole name, at every length.
        for &n in HeaderName::KNOWN {
            let long = n.as_str().unwrap();
            let upper = long.to_ascii_uppercase();
            let lower = long.to_ascii_lowercase();
            assert_eq!(HeaderName::from_bytes(upper.as_bytes()), n);
            assert_eq!(HeaderName::from_bytes(lower.as_bytes()), n);
            // One letter changed anywhere: not that name.
            for i in 0..long.len() {
                let mut b = lower.clone().into_bytes();
                b[i] = if b[i] == b'q' { b'z' } else { b'q' };
                assert_ne!(HeaderName::from_bytes(&b), n, "{:?}", b);
            }
        }
    }
}
