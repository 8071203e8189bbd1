//! Encoding into a caller-supplied buffer with room to spare performs no
//! heap allocation, for SIP text, compact names and JSON (UTF-8 bodies).

use sipws_core::codec::Codec;
use sipws_core::message::{Limits, Message, OwnedMessage};

#[test]
fn encoding_into_a_reused_buffer_does_not_allocate() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let limits = Limits::default();
    let mut checked = 0;
    for file in [
        "register_401.sip",
        "invite_webrtc.sip",
        "notify_dialog.sip",
        "compact.sip",
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let parsed = Message::parse(&bytes, &limits).unwrap();
        let owned = OwnedMessage::try_from(&parsed).unwrap();
        let mut out = Vec::with_capacity(16 * 1024);
        // The counter does see allocations: building the owned copy does.
        let copy = allocation_counter::measure(|| {
            let _ = OwnedMessage::try_from(&parsed).unwrap();
        });
        assert!(copy.count_total > 0);
        for codec in Codec::ALL {
            let info = allocation_counter::measure(|| {
                out.clear();
                codec.encode(&owned, &mut out).unwrap();
                out.clear();
                codec.encode_parsed(&parsed, &mut out).unwrap();
            });
            assert_eq!(
                (info.count_total, info.bytes_total),
                (0, 0),
                "{file} with {codec}"
            );
            assert!(!out.is_empty());
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
}
