//! Criterion benchmark `codec`: the wire codecs of `sipws_core::codec` on
//! the five messages of the `parse` benchmark, each in the same run:
//!
//! - `text_encode`, `compact_encode`, `json_encode`: [`Codec::encode`] of an
//!   [`OwnedMessage`] into a reused buffer;
//! - `text_decode`, `json_decode`: [`Codec::decode`] of a frame into an
//!   [`OwnedMessage`] (parse or JSON decode, validation, owned copy);
//! - `text_parse_only`: [`Message::parse`] alone, the share of `text_decode`
//!   that is parsing.
//!
//! Run with `cargo bench -p sipws-bench --bench codec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipws_core::codec::Codec;
use sipws_core::message::{Limits, Message, OwnedMessage};
use std::hint::black_box;
use std::time::Duration;

fn codec(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let text = sipws_bench::corpus(file);
        let parsed = Message::parse(&text, &limits).expect("corpus message parses");
        let owned = OwnedMessage::try_from(&parsed).expect("corpus message converts");
        let mut json = Vec::new();
        Codec::Json.encode(&owned, &mut json).expect("JSON encodes");
        // The decoders must give the message back, or the timing is void.
        assert_eq!(
            Codec::Text.decode(&text, &limits).ok().as_ref(),
            Some(&owned)
        );
        assert_eq!(
            Codec::Json.decode(&json, &limits).ok().as_ref(),
            Some(&owned)
        );

        let mut group = c.benchmark_group(format!("codec/{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        let mut out = Vec::with_capacity(8192);
        for codec in Codec::ALL {
            group.bench_function(format!("{}_encode", codec.name()), |b| {
                b.iter(|| {
                    out.clear();
                    let _ = codec.encode(black_box(&owned), &mut out);
                    out.len()
                })
            });
        }
        group.bench_function("text_parse_only", |b| {
            b.iter(|| Message::parse(black_box(&text), &limits).map(|m| m.headers().len()))
        });
        group.bench_function("text_decode", |b| {
            b.iter(|| {
                Codec::Text
                    .decode(black_box(&text), &limits)
                    .map(|m| m.headers().len())
            })
        });
        group.bench_function("json_decode", |b| {
            b.iter(|| {
                Codec::Json
                    .decode(black_box(&json), &limits)
                    .map(|m| m.headers().len())
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = codec
}
criterion_main!(benches);
