//! Criterion benchmark `parse`: five realistic SIP-over-WebSocket messages,
//! each parsed in the same run by every contender of
//! [`sipws_bench::CONTENDERS`]:
//!
//! - `sipws_full`: `Message::parse` and then touching every header;
//! - `sipws_classify`: `classify` (start line, CSeq, Call-ID, Content-Length);
//! - `rsipstack`: rsipstack's own SIP parser;
//! - `rsip`: rsip's parser;
//! - `memchr_crlf`: a memchr scan locating every CRLF, the floor any
//!   line-oriented parser pays.
//!
//! Run with `cargo bench -p sipws-bench --bench parse`; the table in
//! BENCHMARKS.md comes from `cargo run -p sipws-bench --bin bench-table`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipws_core::message::Limits;
use std::hint::black_box;
use std::time::Duration;

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let buf = sipws_bench::corpus(file);
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(buf.len() as u64));
        for (who, f) in sipws_bench::CONTENDERS {
            // Every contender must accept the message, or the comparison is void.
            assert_ne!(f(&buf, &limits), 0, "{who} rejects {file}");
            group.bench_function(who, |b| b.iter(|| f(black_box(&buf), black_box(&limits))));
        }
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
