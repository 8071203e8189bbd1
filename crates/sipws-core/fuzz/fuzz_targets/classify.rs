//! Fuzz `classify`: never panics, and agrees with `Message::parse` on the
//! fields both read whenever the full parse succeeds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_core::message::{classify, Limits, Message};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let summary = classify(data, &limits);
    if let Ok(m) = Message::parse(data, &limits) {
        let s = summary.expect("classify accepts what parse accepts");
        assert_eq!(s.start, m.start_line());
        assert_eq!(s.call_id, m.call_id());
        assert_eq!(s.content_length, m.content_length());
        assert_eq!(s.cseq, m.cseq());
    }
});
