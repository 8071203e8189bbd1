//! Benchmarks (`benches/parse.rs`) and differential tests
//! (`tests/differential.rs`) of the sipws parser against other SIP parsers.
//!
//! This crate is not published; it exists so that the comparison parsers
//! stay out of `sipws-core`'s dependency tree. The library only names the
//! corpus messages the benchmark and the tests share.

/// The five messages of the `parse` benchmark: (short name, corpus file).
pub const BENCH_MESSAGES: [(&str, &str); 5] = [
    ("register_401", "register_401.sip"),
    ("register_200", "register_200.sip"),
    ("invite_webrtc", "invite_webrtc.sip"),
    ("notify_dialog", "notify_dialog.sip"),
    ("info_200", "info_200.sip"),
];

/// Directory of the message corpus (`crates/sipws-core/tests/data`).
pub fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sipws-core/tests/data")
}

/// Reads one corpus file by name.
///
/// # Panics
/// If the file cannot be read (the corpus ships with the repository).
pub fn corpus(name: &str) -> Vec<u8> {
    let path = corpus_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
