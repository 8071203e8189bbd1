//! The SDP of `sipws call` and `sipws listen` (no media ever flows):
//! offers shaped for a WebRTC browser by default (`--sdp webrtc`: ICE
//! credentials, DTLS fingerprint, `a=rtcp-mux`, BUNDLE — what a browser's
//! `RTCPeerConnection` insists on) or for a plain SIP phone
//! (`--sdp plain`: `RTP/AVP`), and answers to whatever a caller offers
//! through [`sipws_core::sdp::answer`]. Fresh ICE credentials, fingerprint
//! and session id per description.

use std::hash::{BuildHasher, Hasher};

use sipws_core::sdp::{self, LocalMedia, OfferKind, SdpError, SessionDescription};

/// The shape of the offer of `sipws call` (`--sdp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SdpShape {
    /// `UDP/TLS/RTP/SAVPF` with ICE, DTLS fingerprint, rtcp-mux, BUNDLE:
    /// what WebRTC browsers accept.
    Webrtc,
    /// `RTP/AVP`: what a plain SIP phone expects.
    Plain,
}

fn local_media() -> LocalMedia {
    // std's randomly keyed hasher: unique per call, which is all that is
    // needed (no media flows).
    let seed = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    LocalMedia::from_seed("sipws", "127.0.0.1", seed)
}

/// An audio offer of `shape`.
pub(crate) fn offer(shape: SdpShape) -> Vec<u8> {
    let kind = match shape {
        SdpShape::Webrtc => OfferKind::WebRtc,
        SdpShape::Plain => OfferKind::Plain,
    };
    sdp::offer(&local_media(), kind).into_bytes()
}

/// The answer to a caller's offer; without an offer (a late-offer
/// INVITE) a WebRTC-shaped offer goes in the 200 instead.
///
/// # Errors
/// The offer is not SDP, or nothing in it is acceptable: reject with 488.
pub(crate) fn answer(offer: &[u8]) -> Result<Vec<u8>, SdpError> {
    if offer.is_empty() {
        return Ok(self::offer(SdpShape::Webrtc));
    }
    let sd = SessionDescription::parse(offer)?;
    Ok(sdp::answer(&sd, &local_media())?.into_bytes())
}
