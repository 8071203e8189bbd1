//! Fuzz `AuthParams::parse` / `parse_list`: never panics; every parsed
//! parameter can be looked up by its own name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_core::message::AuthParams;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [AuthParams::parse(text), AuthParams::parse_list(text)] {
        if let Ok(a) = parsed {
            for (name, _) in a.iter() {
                assert!(a.get(name).is_some());
            }
        }
    }
});
