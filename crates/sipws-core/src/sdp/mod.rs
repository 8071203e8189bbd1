//! SDP offer/answer (RFC 4566, RFC 3264), as much as a signaling endpoint
//! needs to complete calls with WebRTC browsers and with plain RTP peers.
//!
//! sipws carries no media. Its command-line endpoints still have to put
//! an SDP in an INVITE and in a 200, and a browser's `RTCPeerConnection`
//! refuses a description without ICE credentials, a DTLS fingerprint and
//! `a=rtcp-mux`. So:
//!
//! - [`SessionDescription::parse`] reads an offer (borrowing, no copies of
//!   values): session-level attributes, and per media section the kind,
//!   port, protocol, formats and attributes;
//! - [`answer`] writes the RFC 3264 answer to it: one media section per
//!   offered one, in order; audio accepted with the offerer's first codec
//!   among Opus, PCMU, PCMA and G722, plus `telephone-event` at its clock
//!   rate when offered,
//!   everything else rejected with port 0; the direction mirrored; for an
//!   ICE offer (WebRTC) the answer carries [`LocalMedia`]'s ICE credentials
//!   and fingerprint, `a=setup` answering the offer's role, `a=mid`,
//!   `a=rtcp-mux` and the `BUNDLE` group;
//! - [`offer`] writes an audio offer, WebRTC-shaped or plain RTP/AVP.
//!
//! Randomness (ICE credentials, fingerprint, session id) is the caller's:
//! [`LocalMedia::from_random`] takes the bytes, [`LocalMedia::from_seed`]
//! one number.

#[cfg(test)]
mod tests;

use core::fmt::{self, Write as _};

/// A media section of an SDP (`m=` and the lines under it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media<'a> {
    /// `audio`, `video`, `application`, …
    pub kind: &'a str,
    /// The transport port (0: rejected / disabled).
    pub port: u16,
    /// `RTP/AVP`, `UDP/TLS/RTP/SAVPF`, …
    pub proto: &'a str,
    /// Payload types / formats, in preference order.
    pub formats: Vec<&'a str>,
    /// `a=` lines of this section as (name, value).
    pub attributes: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Media<'a> {
    /// The first value of attribute `name`, or `Some("")` for a flag
    /// attribute (`a=rtcp-mux`).
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        find(&self.attributes, name)
    }

    /// The encoding name of payload type `pt` (`opus`, `PCMU`, …): from
    /// `a=rtpmap`, or the RFC 3551 static assignment.
    #[must_use]
    pub fn encoding(&self, pt: &str) -> Option<&'a str> {
        for (name, value) in &self.attributes {
            if *name != "rtpmap" {
                continue;
            }
            let Some((p, rest)) = value.and_then(|v| v.split_once(' ')) else {
                continue;
            };
            if p == pt {
                return rest.split('/').next();
            }
        }
        match pt {
            "0" => Some("PCMU"),
            "8" => Some("PCMA"),
            "9" => Some("G722"),
            _ => None,
        }
    }

    /// The RTP clock rate of payload type `pt`: from `a=rtpmap`, or 8000
    /// for the static PCMU, PCMA and G722 assignments.
    #[must_use]
    pub fn clock_rate(&self, pt: &str) -> Option<u32> {
        for (name, value) in &self.attributes {
            let rest = match value.and_then(|v| v.split_once(' ')) {
                Some((p, rest)) if *name == "rtpmap" && p == pt => rest,
                _ => continue,
            };
            return rest.split('/').nth(1).and_then(|r| r.parse().ok());
        }
        matches!(pt, "0" | "8" | "9").then_some(8000)
    }

    /// Whether this section's transport is secure RTP with DTLS (WebRTC).
    #[must_use]
    pub fn is_dtls(&self) -> bool {
        self.proto.to_ascii_uppercase().contains("TLS")
    }
}

/// A parsed session description (only what offer/answer needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// Session-level `a=` lines as (name, value).
    pub attributes: Vec<(&'a str, Option<&'a str>)>,
    /// The media sections, in order.
    pub media: Vec<Media<'a>>,
}

/// Why an SDP could not be read or answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// Not UTF-8 text.
    NotText,
    /// The first line is not `v=0`.
    Version,
    /// Line `line` (1-based) is not `x=value`.
    Line {
        /// 1-based line number.
        line: usize,
    },
    /// An `m=` line without kind, port, protocol and a format.
    MediaLine {
        /// 1-based line number.
        line: usize,
    },
    /// The offer has no section this endpoint can accept (answer with 488).
    NothingAcceptable,
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotText => f.write_str("SDP is not UTF-8 text"),
            Self::Version => f.write_str("SDP does not start with v=0"),
            Self::Line { line } => write!(f, "SDP line {line} is not x=value"),
            Self::MediaLine { line } => write!(f, "SDP line {line} is not a valid m= line"),
            Self::NothingAcceptable => f.write_str("no acceptable media in the offer"),
        }
    }
}

impl std::error::Error for SdpError {}

impl<'a> SessionDescription<'a> {
    /// Reads an SDP body (CRLF or LF line ends).
    ///
    /// # Errors
    /// [`SdpError`] when it is not text, does not start with `v=0`, or a
    /// line is malformed.
    pub fn parse(body: &'a [u8]) -> Result<Self, SdpError> {
        let text = core::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
        let mut sd = SessionDescription {
            attributes: Vec::new(),
            media: Vec::new(),
        };
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .filter(|(_, l)| !l.is_empty());
        match lines.next() {
            Some((_, "v=0")) => {}
            _ => return Err(SdpError::Version),
        }
        for (i, line) in lines {
            let n = i + 1;
            let (key, value) = match line.as_bytes() {
                [k, b'=', ..] => (*k, &line[2..]),
                _ => return Err(SdpError::Line { line: n }),
            };
            match key {
                b'm' => sd
                    .media
                    .push(media_line(value).ok_or(SdpError::MediaLine { line: n })?),
                b'a' => {
                    let attr = match value.split_once(':') {
                        Some((name, v)) => (name, Some(v)),
                        None => (value, None),
                    };
                    match sd.media.last_mut() {
                        Some(m) => m.attributes.push(attr),
                        None => sd.attributes.push(attr),
                    }
                }
                _ => {}
            }
        }
        Ok(sd)
    }

    /// The first session-level value of attribute `name`.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        find(&self.attributes, name)
    }

    /// Attribute `name` of `media`, else at session level (ICE and DTLS
    /// attributes may sit at either).
    #[must_use]
    pub fn media_or_session(&self, media: &Media<'a>, name: &str) -> Option<&'a str> {
        media.attribute(name).or_else(|| self.attribute(name))
    }
}

fn find<'a>(attrs: &[(&'a str, Option<&'a str>)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.unwrap_or(""))
}

fn media_line(value: &str) -> Option<Media<'_>> {
    let mut parts = value.split(' ').filter(|p| !p.is_empty());
    let kind = parts.next()?;
    // `port/count` is allowed; only the port matters here.
    let port = parts.next()?.split('/').next()?.parse().ok()?;
    let proto = parts.next()?;
    let formats: Vec<&str> = parts.collect();
    if formats.is_empty() {
        return None;
    }
    Some(Media {
        kind,
        port,
        proto,
        formats,
        attributes: Vec::new(),
    })
}

/// ICE credentials (RFC 8839): `ice-char` strings of 4+ and 22+ chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCredentials {
    /// `a=ice-ufrag`.
    pub ufrag: String,
    /// `a=ice-pwd`.
    pub pwd: String,
}

/// What this endpoint says about itself in an offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// The `o=` user name.
    pub user: String,
    /// The `o=` session id (also its first version).
    pub session_id: u64,
    /// The address in `o=` and `c=` (no media is ever sent to it).
    pub address: String,
    /// The RTP port of a plain (non-ICE) section.
    pub port: u16,
    /// ICE credentials for WebRTC sections.
    pub ice: IceCredentials,
    /// SHA-256 fingerprint, `AA:BB:…` (32 bytes) for WebRTC sections.
    pub fingerprint: String,
}

const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl LocalMedia {
    /// Description of `user` at `address`, its ICE credentials,
    /// fingerprint and session id drawn from `random` (the caller's
    /// randomness: 8 bytes of ufrag, 24 of password, 32 of fingerprint,
    /// 8 of session id).
    #[must_use]
    pub fn from_random(user: &str, address: &str, random: &[u8; 72]) -> Self {
        let ice = |bytes: &[u8]| -> String {
            bytes
                .iter()
                .map(|b| char::from(ICE_CHARS[usize::from(b & 63)]))
                .collect()
        };
        let mut fingerprint = String::with_capacity(95);
        for (i, b) in random[32..64].iter().enumerate() {
            if i > 0 {
                fingerprint.push(':');
            }
            let _ = write!(fingerprint, "{b:02X}");
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&random[64..72]);
        LocalMedia {
            user: user.to_owned(),
            // Kept below 2^62 so it stays a positive 64-bit number in any reader.
            session_id: u64::from_be_bytes(id) >> 2,
            address: address.to_owned(),
            port: 9,
            ice: IceCredentials {
                ufrag: ice(&random[..8]),
                pwd: ice(&random[8..32]),
            },
            fingerprint,
        }
    }

    /// [`LocalMedia::from_random`] with the 72 bytes expanded from one
    /// 64-bit `seed` (SplitMix64): for callers whose randomness is a single
    /// number, such as std's randomly keyed hasher. Unique per seed, not
    /// secret — no media flows, so nothing depends on it being secret.
    #[must_use]
    pub fn from_seed(user: &str, address: &str, seed: u64) -> Self {
        let mut state = seed;
        let mut random = [0u8; 72];
        for chunk in random.chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
        }
        Self::from_random(user, address, &random)
    }

    fn session_head(&self, out: &mut String) {
        let _ = write!(
            out,
            "v=0\r\no={} {} {} IN IP4 {}\r\ns=-\r\nc=IN IP4 {}\r\nt=0 0\r\n",
            self.user, self.session_id, self.session_id, self.address, self.address
        );
    }

    fn webrtc_lines(&self, out: &mut String, setup: &str) {
        let _ = write!(
            out,
            "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\na=fingerprint:sha-256 {}\r\na=setup:{setup}\r\n",
            self.ice.ufrag, self.ice.pwd, self.fingerprint
        );
    }
}

/// The shape of an offer made by [`offer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferKind {
    /// `UDP/TLS/RTP/SAVPF` with ICE, DTLS fingerprint, `a=rtcp-mux` and
    /// BUNDLE: what a browser accepts.
    WebRtc,
    /// `RTP/AVP` on [`LocalMedia::port`]: what a plain SIP phone expects.
    Plain,
}

/// An audio offer: Opus (WebRTC only), PCMU, PCMA, telephone-event.
#[must_use]
pub fn offer(local: &LocalMedia, kind: OfferKind) -> String {
    let mut out = String::with_capacity(512);
    local.session_head(&mut out);
    match kind {
        OfferKind::WebRtc => {
            out.push_str("a=group:BUNDLE 0\r\n");
            out.push_str("m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 101\r\n");
            out.push_str("a=rtcp:9 IN IP4 0.0.0.0\r\n");
            local.webrtc_lines(&mut out, "actpass");
            out.push_str("a=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n");
            out.push_str("a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n");
        }
        OfferKind::Plain => {
            let _ = write!(
                out,
                "m=audio {} RTP/AVP 0 8 101\r\na=sendrecv\r\n",
                local.port
            );
        }
    }
    out.push_str("a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n");
    out.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
    out
}

/// Codecs this endpoint accepts.
const CODECS: [&str; 4] = ["opus", "PCMU", "PCMA", "G722"];

/// The RFC 3264 answer to `offer`.
///
/// # Errors
/// [`SdpError::NothingAcceptable`] when no section can be accepted (no
/// audio, or no common codec): answer the INVITE with 488.
pub fn answer(offer: &SessionDescription<'_>, local: &LocalMedia) -> Result<String, SdpError> {
    let mut body = String::with_capacity(640);
    let mut bundle: Vec<&str> = Vec::new();
    let mut accepted = 0;
    for m in &offer.media {
        let mid = m.attribute("mid");
        let codec = (m.kind == "audio" && m.port != 0)
            .then(|| {
                // The offerer's preference order decides (RFC 3264 §6.1).
                m.formats.iter().find(|pt| {
                    m.encoding(pt)
                        .is_some_and(|e| CODECS.iter().any(|c| e.eq_ignore_ascii_case(c)))
                })
            })
            .flatten();
        let Some(codec) = codec else {
            // Rejected: port 0, same protocol, one of the offered formats.
            let _ = write!(
                body,
                "m={} 0 {} {}\r\n",
                m.kind,
                m.proto,
                m.formats.first().copied().unwrap_or("0")
            );
            if let Some(mid) = mid {
                let _ = write!(body, "a=mid:{mid}\r\n");
            }
            continue;
        };
        accepted += 1;
        // telephone-event at the codec's clock rate (RFC 4733), else any.
        let events: Vec<&&str> = m
            .formats
            .iter()
            .filter(|pt| {
                m.encoding(pt)
                    .is_some_and(|e| e.eq_ignore_ascii_case("telephone-event"))
            })
            .collect();
        let dtmf = events
            .iter()
            .find(|pt| m.clock_rate(pt) == m.clock_rate(codec))
            .or_else(|| events.first())
            .copied();
        let ice = offer.media_or_session(m, "ice-ufrag").is_some();
        let port = if ice { 9 } else { local.port };
        let _ = write!(body, "m=audio {port} {} {codec}", m.proto);
        if let Some(d) = dtmf {
            let _ = write!(body, " {d}");
        }
        body.push_str("\r\n");
        if ice {
            body.push_str("a=rtcp:9 IN IP4 0.0.0.0\r\n");
            let setup = match offer.media_or_session(m, "setup") {
                Some("active") => "passive",
                _ => "active",
            };
            local.webrtc_lines(&mut body, setup);
        }
        if let Some(mid) = mid {
            let _ = write!(body, "a=mid:{mid}\r\n");
            bundle.push(mid);
        }
        let direction = ["sendrecv", "sendonly", "recvonly", "inactive"]
            .into_iter()
            .find(|d| m.attribute(d).is_some() || offer.attribute(d).is_some())
            .unwrap_or("sendrecv");
        let answer_direction = match direction {
            "sendonly" => "recvonly",
            "recvonly" => "sendonly",
            other => other,
        };
        let _ = write!(body, "a={answer_direction}\r\n");
        if m.attribute("rtcp-mux").is_some() {
            body.push_str("a=rtcp-mux\r\n");
        }
        for pt in core::iter::once(codec).chain(dtmf) {
            for (name, value) in &m.attributes {
                let Some(v) = value else { continue };
                if (*name == "rtpmap" || *name == "fmtp")
                    && v.split_once(' ').is_some_and(|(p, _)| p == *pt)
                {
                    let _ = write!(body, "a={name}:{v}\r\n");
                }
            }
        }
    }
    if accepted == 0 {
        return Err(SdpError::NothingAcceptable);
    }
    let mut out = String::with_capacity(body.len() + 160);
    local.session_head(&mut out);
    if offer
        .attribute("group")
        .is_some_and(|g| g.starts_with("BUNDLE"))
        && !bundle.is_empty()
    {
        let _ = write!(out, "a=group:BUNDLE {}\r\n", bundle.join(" "));
    }
    out.push_str(&body);
    Ok(out)
}
