//! Offer/answer: a browser's offer (audio + video, ICE, DTLS, BUNDLE), a
//! plain RTP offer, directions, rejections, malformed input.

use proptest::prelude::*;

use super::*;

/// A browser offer of the usual shape: BUNDLE, audio (Opus, PCMU, PCMA,
/// telephone-event) and video, ICE and DTLS attributes per section.
const BROWSER_OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0 1\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS stream\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Ow6e\r\n\
a=ice-pwd:pQ0fV1IxGpM0tw+aTa5nFRo6\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 5B:6B:5D:90:12:4C:1E:5F:10:7C:2B:0B:7D:5A:0A:AE:51:4C:3E:77:4B:2A:1D:6E:C9:33:40:0E:4D:11:07:21\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendrecv\r\n\
a=msid:stream track\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:63 red/48000/2\r\n\
a=fmtp:63 111/111\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:13 CN/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=rtpmap:126 telephone-event/8000\r\n\
a=ssrc:1001 cname:abc\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Ow6e\r\n\
a=ice-pwd:pQ0fV1IxGpM0tw+aTa5nFRo6\r\n\
a=setup:actpass\r\n\
a=mid:1\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=rtpmap:96 VP8/90000\r\n\
a=rtpmap:97 rtx/90000\r\n";

const PLAIN_OFFER: &str = "v=0\r\no=phone 1 1 IN IP4 192.0.2.10\r\ns=call\r\nc=IN IP4 192.0.2.10\r\n\
t=0 0\r\nm=audio 49170 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendonly\r\n";

fn local() -> LocalMedia {
    let mut random = [0u8; 72];
    for (i, b) in random.iter_mut().enumerate() {
        *b = u8::try_from(i * 7 % 256).unwrap();
    }
    LocalMedia::from_random("sipws", "127.0.0.1", &random)
}

fn lines(sdp: &str) -> Vec<&str> {
    sdp.split("\r\n").filter(|l| !l.is_empty()).collect()
}

#[test]
fn parses_a_browser_offer() {
    let sd = SessionDescription::parse(BROWSER_OFFER.as_bytes()).unwrap();
    assert_eq!(sd.attribute("group"), Some("BUNDLE 0 1"));
    assert_eq!(sd.media.len(), 2);
    let audio = &sd.media[0];
    assert_eq!(
        (audio.kind, audio.port, audio.proto),
        ("audio", 9, "UDP/TLS/RTP/SAVPF")
    );
    assert_eq!(
        audio.formats,
        ["111", "63", "9", "0", "8", "13", "110", "126"]
    );
    assert_eq!(audio.encoding("111"), Some("opus"));
    assert_eq!(audio.encoding("0"), Some("PCMU"));
    assert_eq!(audio.clock_rate("111"), Some(48000));
    assert_eq!(audio.clock_rate("126"), Some(8000));
    assert_eq!(audio.attribute("rtcp-mux"), Some(""));
    assert_eq!(audio.attribute("mid"), Some("0"));
    assert!(audio.is_dtls());
    assert_eq!(sd.media[1].kind, "video");
    assert_eq!(sd.media_or_session(&sd.media[1], "ice-ufrag"), Some("Ow6e"));
}

#[test]
fn answers_a_browser_offer_with_webrtc_audio_and_rejects_video() {
    let sd = SessionDescription::parse(BROWSER_OFFER.as_bytes()).unwrap();
    let l = local();
    let a = answer(&sd, &l).unwrap();
    let got = lines(&a);
    let expected_head = [
        "v=0".to_owned(),
        format!("o=sipws {0} {0} IN IP4 127.0.0.1", l.session_id),
        "s=-".to_owned(),
        "c=IN IP4 127.0.0.1".to_owned(),
        "t=0 0".to_owned(),
        "a=group:BUNDLE 0".to_owned(),
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 110".to_owned(),
        "a=rtcp:9 IN IP4 0.0.0.0".to_owned(),
        format!("a=ice-ufrag:{}", l.ice.ufrag),
        format!("a=ice-pwd:{}", l.ice.pwd),
        format!("a=fingerprint:sha-256 {}", l.fingerprint),
        "a=setup:active".to_owned(),
        "a=mid:0".to_owned(),
        "a=sendrecv".to_owned(),
        "a=rtcp-mux".to_owned(),
        "a=rtpmap:111 opus/48000/2".to_owned(),
        "a=fmtp:111 minptime=10;useinbandfec=1".to_owned(),
        "a=rtpmap:110 telephone-event/48000".to_owned(),
        "m=video 0 UDP/TLS/RTP/SAVPF 96".to_owned(),
        "a=mid:1".to_owned(),
    ];
    assert_eq!(got, expected_head);
    // The answer is itself a valid description.
    let again = SessionDescription::parse(a.as_bytes()).unwrap();
    assert_eq!(again.media.len(), 2);
    assert_eq!(again.media[1].port, 0);
}

#[test]
fn telephone_event_follows_the_clock_rate_of_the_chosen_codec() {
    let no_opus = BROWSER_OFFER.replace("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 x-none/48000/2");
    let sd = SessionDescription::parse(no_opus.as_bytes()).unwrap();
    let a = answer(&sd, &local()).unwrap();
    assert!(a.contains("m=audio 9 UDP/TLS/RTP/SAVPF 9 126\r\n"), "{a}");
    assert!(a.contains("a=rtpmap:9 G722/8000\r\n"), "{a}");
}

#[test]
fn answers_a_plain_offer_on_the_local_port_with_the_mirrored_direction() {
    let sd = SessionDescription::parse(PLAIN_OFFER.as_bytes()).unwrap();
    let mut l = local();
    l.port = 40000;
    let a = answer(&sd, &l).unwrap();
    let got = lines(&a);
    assert_eq!(
        &got[5..],
        [
            "m=audio 40000 RTP/AVP 8 101",
            "a=recvonly",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
        ]
    );
    assert!(!a.contains("ice-ufrag"), "{a}");
}

#[test]
fn session_level_direction_and_setup_active_are_answered() {
    let offer =
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=recvonly\r\na=ice-ufrag:abcd\r\n\
a=ice-pwd:0123456789012345678901\r\na=setup:active\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
    let sd = SessionDescription::parse(offer.as_bytes()).unwrap();
    let a = answer(&sd, &local()).unwrap();
    assert!(a.contains("a=setup:passive\r\n"), "{a}");
    assert!(a.contains("a=sendonly\r\n"), "{a}");
    assert!(a.contains("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"), "{a}");
    assert!(!a.contains("BUNDLE"), "{a}");
}

#[test]
fn nothing_acceptable_without_a_common_audio_codec() {
    let video_only = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n";
    let sd = SessionDescription::parse(video_only.as_bytes()).unwrap();
    assert_eq!(answer(&sd, &local()), Err(SdpError::NothingAcceptable));
    let odd_codec =
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 18\r\n";
    let sd = SessionDescription::parse(odd_codec.as_bytes()).unwrap();
    assert_eq!(answer(&sd, &local()), Err(SdpError::NothingAcceptable));
    let disabled = "v=0\r\nm=audio 0 RTP/AVP 0\r\n";
    let sd = SessionDescription::parse(disabled.as_bytes()).unwrap();
    assert_eq!(answer(&sd, &local()), Err(SdpError::NothingAcceptable));
}

#[test]
fn malformed_descriptions_are_errors() {
    assert_eq!(
        SessionDescription::parse(b"").unwrap_err(),
        SdpError::Version
    );
    assert_eq!(
        SessionDescription::parse(b"v=1\r\n").unwrap_err(),
        SdpError::Version
    );
    assert_eq!(
        SessionDescription::parse(b"\xff\xfe").unwrap_err(),
        SdpError::NotText
    );
    assert_eq!(
        SessionDescription::parse(b"v=0\r\nbogus\r\n").unwrap_err(),
        SdpError::Line { line: 2 }
    );
    assert_eq!(
        SessionDescription::parse(b"v=0\r\nm=audio x RTP/AVP 0\r\n").unwrap_err(),
        SdpError::MediaLine { line: 2 }
    );
    assert_eq!(
        SessionDescription::parse(b"v=0\nm=audio 9 RTP/AVP\n").unwrap_err(),
        SdpError::MediaLine { line: 2 }
    );
}

#[test]
fn offers_parse_and_can_be_answered() {
    let l = local();
    for kind in [OfferKind::WebRtc, OfferKind::Plain] {
        let o = offer(&l, kind);
        let sd = SessionDescription::parse(o.as_bytes()).unwrap();
        assert_eq!(sd.media.len(), 1);
        let m = &sd.media[0];
        assert_eq!(m.kind, "audio");
        assert_eq!(m.encoding("101"), Some("telephone-event"));
        match kind {
            OfferKind::WebRtc => {
                assert!(m.is_dtls());
                assert_eq!(m.attribute("setup"), Some("actpass"));
                assert_eq!(m.attribute("ice-ufrag"), Some(l.ice.ufrag.as_str()));
                assert_eq!(m.formats[0], "111");
            }
            OfferKind::Plain => {
                assert_eq!((m.proto, m.port), ("RTP/AVP", 9));
                assert_eq!(m.formats, ["0", "8", "101"]);
            }
        }
        let a = answer(&sd, &l).unwrap();
        assert!(a.starts_with("v=0\r\n"), "{a}");
    }
}

#[test]
fn local_media_from_random_has_valid_ice_and_fingerprint() {
    let l = local();
    assert_eq!(l.ice.ufrag.len(), 8);
    assert_eq!(l.ice.pwd.len(), 24);
    let ice_char = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    assert!(l.ice.ufrag.chars().all(ice_char));
    assert!(l.ice.pwd.chars().all(ice_char));
    let bytes: Vec<&str> = l.fingerprint.split(':').collect();
    assert_eq!(bytes.len(), 32);
    assert!(bytes
        .iter()
        .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit())));
    let other = LocalMedia::from_random("sipws", "127.0.0.1", &[1; 72]);
    assert_ne!(other.ice, l.ice);
    assert_ne!(other.fingerprint, l.fingerprint);
    assert!(l.session_id < 1 << 62);
}

#[test]
fn seeds_give_distinct_descriptions() {
    let a = LocalMedia::from_seed("sipws", "127.0.0.1", 1);
    let b = LocalMedia::from_seed("sipws", "127.0.0.1", 2);
    assert_eq!(a, LocalMedia::from_seed("sipws", "127.0.0.1", 1));
    assert_ne!(a.ice, b.ice);
    assert_ne!(a.fingerprint, b.fingerprint);
    assert_ne!(a.session_id, b.session_id);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(sd) = SessionDescription::parse(&body) {
            let _ = answer(&sd, &local());
        }
    }

    #[test]
    fn mangled_offers_never_panic(cut in 0usize..BROWSER_OFFER.len(), byte in any::<u8>()) {
        let mut body = BROWSER_OFFER.as_bytes().to_vec();
        body[cut] = byte;
        if let Ok(sd) = SessionDescription::parse(&body) {
            let _ = answer(&sd, &local());
        }
        let _ = SessionDescription::parse(&BROWSER_OFFER.as_bytes()[..cut]);
    }
}
