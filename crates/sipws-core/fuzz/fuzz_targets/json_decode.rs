//! JSON-form decoding (`sipws.json`) on arbitrary bytes: never panics, and
//! whatever decodes re-encodes to JSON that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_core::codec::Codec;
use sipws_core::message::Limits;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(m) = Codec::Json.decode(data, &limits) {
        let mut out = Vec::new();
        Codec::Json.encode(&m, &mut out).expect("encode");
        let again = Codec::Json.decode(&out, &limits).expect("re-decode");
        assert_eq!(again, m);
    }
});
