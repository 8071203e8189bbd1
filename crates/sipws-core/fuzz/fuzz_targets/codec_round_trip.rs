//! Every codec on arbitrary bytes: decoding never panics, and a decoded
//! message survives text -> JSON -> text unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_core::codec::Codec;
use sipws_core::message::{HeaderName, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_bytes: 1 << 20,
        ..Limits::default()
    };
    for codec in Codec::ALL {
        let Ok(mut m) = codec.decode(data, &limits) else {
            continue;
        };
        m.push_header(HeaderName::ContentLength, "").expect("length header");
        let mut text = Vec::new();
        Codec::Text.encode(&m, &mut text).expect("text");
        let back = Codec::Text.decode(&text, &limits).expect("own text parses");
        assert_eq!(back, m);
        let mut json = Vec::new();
        Codec::Json.encode(&back, &mut json).expect("json");
        assert_eq!(Codec::Json.decode(&json, &limits).expect("own json decodes"), m);
    }
});
