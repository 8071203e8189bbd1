//! Criterion benchmark `parse`: five realistic SIP-over-WebSocket messages,
//! each parsed in the same run by
//!
//! - `sipws_full`: [`Message::parse`] and then touching every header (name,
//!   raw name, value) and the body, as a consumer of the message would;
//! - `sipws_classify`: [`classify`] (start line, CSeq, Call-ID,
//!   Content-Length), what the frame router needs;
//! - `rsipstack`: rsipstack's own SIP parser (`rsipstack::sip::parser`);
//! - `rsip`: rsip's parser (`SipMessage::try_from(&[u8])`);
//! - `memchr_crlf`: a memchr scan locating every CRLF, the floor any
//!   line-oriented parser has to pay.
//!
//! Run with `cargo bench -p sipws-bench --bench parse`; the table in
//! BENCHMARKS.md comes from `cargo run -p sipws-bench --bin bench-table`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipws_core::message::{classify, Limits, Message};
use std::hint::black_box;
use std::time::Duration;

/// Parses with sipws and reads every header, returning a value that depends
/// on all of them so nothing can be optimised away.
fn sipws_full(buf: &[u8], limits: &Limits) -> usize {
    let Ok(msg) = Message::parse(buf, limits) else {
        return 0;
    };
    let mut acc = msg.body().len();
    for h in msg.headers() {
        acc = acc
            .wrapping_add(h.name.as_str().map_or(0, str::len))
            .wrapping_add(h.raw_name.len())
            .wrapping_add(h.value.len());
    }
    acc
}

fn sipws_classify(buf: &[u8], limits: &Limits) -> usize {
    match classify(buf, limits) {
        Ok(s) => {
            s.cseq.map_or(0, |c| c.seq as usize)
                + s.call_id.map_or(0, str::len)
                + s.content_length.unwrap_or(0)
        }
        Err(_) => 0,
    }
}

/// Locates every CRLF (sum of their offsets, so each one is really found).
fn memchr_crlf(buf: &[u8]) -> usize {
    memchr::memmem::find_iter(buf, b"\r\n").fold(0usize, |acc, at| acc.wrapping_add(at))
}

fn rsipstack_parse(buf: &[u8]) -> usize {
    match rsipstack::sip::parser::parse_message(buf) {
        Ok(rsipstack::sip::SipMessage::Request(r)) => r.headers.iter().count() + r.body.len(),
        Ok(rsipstack::sip::SipMessage::Response(r)) => r.headers.iter().count() + r.body.len(),
        Err(_) => 0,
    }
}

fn rsip_parse(buf: &[u8]) -> usize {
    match rsip::SipMessage::try_from(buf) {
        Ok(rsip::SipMessage::Request(r)) => r.headers.iter().count() + r.body.len(),
        Ok(rsip::SipMessage::Response(r)) => r.headers.iter().count() + r.body.len(),
        Err(_) => 0,
    }
}

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let buf = sipws_bench::corpus(file);
        // Every contender must accept the message, or the comparison is void.
        assert_ne!(sipws_full(&buf, &limits), 0, "sipws rejects {file}");
        assert_ne!(
            sipws_classify(&buf, &limits),
            0,
            "sipws classify rejects {file}"
        );
        assert_ne!(rsipstack_parse(&buf), 0, "rsipstack rejects {file}");
        assert_ne!(rsip_parse(&buf), 0, "rsip rejects {file}");

        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function("sipws_full", |b| {
            b.iter(|| sipws_full(black_box(&buf), &limits))
        });
        group.bench_function("sipws_classify", |b| {
            b.iter(|| sipws_classify(black_box(&buf), &limits))
        });
        group.bench_function("rsipstack", |b| b.iter(|| rsipstack_parse(black_box(&buf))));
        group.bench_function("rsip", |b| b.iter(|| rsip_parse(black_box(&buf))));
        group.bench_function("memchr_crlf", |b| b.iter(|| memchr_crlf(black_box(&buf))));
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = parse
}
criterion_main!(benches);
