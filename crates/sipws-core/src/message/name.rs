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
            pub fn from_bytes(name: &[u8]) -> HeaderName {
                // Dispatch on the first letter: at most a few candidates
                // are compared (see `BY_FIRST_LETTER`).
                let Some(&first) = name.first() else {
                    return HeaderName::Other;
                };
                let letter = first.to_ascii_lowercase().wrapping_sub(b'a');
                let Some(bucket) = BY_FIRST_LETTER.get(usize::from(letter)) else {
                    return HeaderName::Other;
                };
                if name.len() == 1 {
                    return match bucket.compact {
                        NONE => HeaderName::Other,
                        i => HeaderName::KNOWN[usize::from(i)],
                    };
                }
                for &i in &bucket.long {
                    if i == NONE {
                        break;
                    }
                    let i = usize::from(i);
                    if eq_fold(name, LONG_NAMES[i]) {
                        return HeaderName::KNOWN[i];
                    }
                }
                HeaderName::Other
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

/// ASCII case-insensitive equality of a header name as written with a
/// known name, eight bytes at a time. Exact for known names (letters and
/// `-`): OR-ing 0x20 only merges a letter with its other case, and `-`
/// with CR, which cannot occur in a name.
#[inline]
fn eq_fold(name: &[u8], known: &[u8]) -> bool {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    if name.len() != known.len() {
        return false;
    }
    let mut a = name.chunks_exact(8);
    let mut b = known.chunks_exact(8);
    for (x, y) in (&mut a).zip(&mut b) {
        let x = u64::from_le_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]);
        let y = u64::from_le_bytes([y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]]);
        if x | FOLD != y | FOLD {
            return false;
        }
    }
    a.remainder()
        .iter()
        .zip(b.remainder())
        .all(|(x, y)| x | 0x20 == y | 0x20)
}

/// The long form of each of [`HeaderName::KNOWN`], as bytes.
static LONG_NAMES: [&[u8]; HeaderName::KNOWN.len()] = {
    let mut t: [&[u8]; HeaderName::KNOWN.len()] = [b""; HeaderName::KNOWN.len()];
    let mut i = 0;
    while i < t.len() {
        if let Some(long) = HeaderName::KNOWN[i].as_str() {
            t[i] = long.as_bytes();
        }
        i += 1;
    }
    t
};

/// Marks an empty slot in [`BY_FIRST_LETTER`].
const NONE: u8 = u8::MAX;

/// Known names starting with one letter: indexes into [`HeaderName::KNOWN`]
/// of the long forms, and of the name whose compact form is that letter.
#[derive(Clone, Copy)]
struct Bucket {
    long: [u8; 10],
    compact: u8,
}

/// Built at compile time from [`HeaderName::KNOWN`]; a full bucket is a
/// compile error.
static BY_FIRST_LETTER: [Bucket; 26] = {
    let mut table = [Bucket {
        long: [NONE; 10],
        compact: NONE,
    }; 26];
    let mut i = 0;
    while i < HeaderName::KNOWN.len() {
        let name = HeaderName::KNOWN[i];
        if let Some(long) = name.as_str() {
            let b = (long.as_bytes()[0].to_ascii_lowercase() - b'a') as usize;
            let mut j = 0;
            while table[b].long[j] != NONE {
                j += 1;
            }
            table[b].long[j] = i as u8;
        }
        if let Some(c) = name.compact() {
            let b = (c.as_bytes()[0].to_ascii_lowercase() - b'a') as usize;
            table[b].compact = i as u8;
        }
        i += 1;
    }
    table
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
}
