//! Benchmarks of sipws (`benches/`: parse, link, auth_txn, route), instruction
//! counts (`src/bin/parse-loop.rs`, `instructions.sh`) and differential
//! tests (`tests/differential.rs`) of the sipws parser against other SIP
//! parsers.
//!
//! This crate is not published; it exists so that the comparison parsers
//! stay out of `sipws-core`'s dependency tree. The library holds what the
//! benchmark, the loop binary and the tests share: the corpus messages and
//! the contenders.

use sipws_core::message::{classify, Limits, Message};

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

/// A parser under comparison: name and function. Each function returns a
/// value that depends on everything it read (0 if the message was
/// rejected), so the work cannot be optimised away.
pub type Contender = (&'static str, fn(&[u8], &Limits) -> usize);

/// The contenders, in table order.
pub const CONTENDERS: [Contender; 5] = [
    ("sipws_full", sipws_full),
    ("sipws_classify", sipws_classify),
    ("rsipstack", rsipstack_parse),
    ("rsip", rsip_parse),
    ("memchr_crlf", memchr_crlf),
];

/// sipws full parse: [`Message::parse`], then touching every header (name,
/// raw name, value) and the body, as a consumer of the message would
/// (matching the result in place, see `Message::parse`).
pub fn sipws_full(buf: &[u8], limits: &Limits) -> usize {
    match Message::parse(buf, limits) {
        Ok(ref msg) => {
            let mut acc = msg.body().len();
            for h in msg.headers() {
                acc = acc
                    .wrapping_add(h.name.as_str().map_or(0, str::len))
                    .wrapping_add(h.raw_name.len())
                    .wrapping_add(h.value.len());
            }
            acc
        }
        Err(_) => 0,
    }
}

/// sipws classification: [`classify`] (start line, CSeq, Call-ID,
/// Content-Length), what the frame router needs.
pub fn sipws_classify(buf: &[u8], limits: &Limits) -> usize {
    match classify(buf, limits) {
        Ok(s) => {
            s.cseq.map_or(0, |c| c.seq as usize)
                + s.call_id.map_or(0, str::len)
                + s.content_length.unwrap_or(0)
        }
        Err(_) => 0,
    }
}

/// The floor: locate every CRLF of the message with memchr (sum of their
/// offsets, so each one is really found).
pub fn memchr_crlf(buf: &[u8], _: &Limits) -> usize {
    memchr::memmem::find_iter(buf, b"\r\n").fold(0usize, |acc, at| acc.wrapping_add(at))
}

/// rsipstack's own SIP parser (`rsipstack::sip::parser::parse_message`),
/// then touching every header (name and value) and the body, the same work
/// as [`sipws_full`] (rsipstack keeps no raw name: its `Header::name` is
/// the canonical one).
pub fn rsipstack_parse(buf: &[u8], _: &Limits) -> usize {
    let (headers, body) = match rsipstack::sip::parser::parse_message(buf) {
        Ok(rsipstack::sip::SipMessage::Request(r)) => (r.headers, r.body),
        Ok(rsipstack::sip::SipMessage::Response(r)) => (r.headers, r.body),
        Err(_) => return 0,
    };
    let mut acc = body.len();
    for h in headers.iter() {
        acc = acc
            .wrapping_add(h.name().len())
            .wrapping_add(h.value().len());
    }
    acc
}

/// rsip's parser (`rsip::SipMessage::try_from(&[u8])`). Its headers are
/// counted, not read: rsip's `Header` enum has no borrowing name/value
/// accessor (only `Display`, which formats), so reading them would add
/// formatting work sipws does not do.
pub fn rsip_parse(buf: &[u8], _: &Limits) -> usize {
    match rsip::SipMessage::try_from(buf) {
        Ok(rsip::SipMessage::Request(r)) => r.headers.iter().count() + r.body.len(),
        Ok(rsip::SipMessage::Response(r)) => r.headers.iter().count() + r.body.len(),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contender_accepts_every_bench_message() {
        let limits = Limits::default();
        for (_, file) in BENCH_MESSAGES {
            let buf = corpus(file);
            for (name, f) in CONTENDERS {
                assert_ne!(f(&buf, &limits), 0, "{name} rejects {file}");
            }
        }
    }

    #[test]
    fn memchr_floor_finds_every_crlf() {
        // CRLFs at 1 and 4: 1 + 4.
        assert_eq!(memchr_crlf(b"a\r\nb\r\n", &Limits::default()), 5);
    }
}
