//! Criterion benchmark `route` (the `parse` family): the routing decision
//! of `sipws_core::router` for the five benchmark messages, next to the
//! classification alone, in the same run.
//!
//! - `sipws_classify`: [`classify`] (start line, CSeq, Call-ID,
//!   Content-Length), exactly as in `benches/parse.rs`;
//! - `route_structural`: [`Router::route`] with 20 structural rules and 5
//!   regex rules installed (see `benches/common/route_rules.rs`); for these
//!   five messages the decision is structural: the regex rules sit in
//!   front but their structural part does not match, so no regex runs and
//!   no full parse is made (asserted below);
//! - `route_refined`: the same table plus, in front, a regex rule whose
//!   structural part matches the message, so the router makes the full
//!   parse and runs the regex — the cost of a refinement.
//!
//! Run with `cargo bench -p sipws-bench --bench route`; the table in
//! BENCHMARKS.md ("Routing") comes from
//! `cargo run -p sipws-bench --bin route-table`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipws_core::message::{classify, Limits};
use sipws_core::router::{Priority, Route, Router, Rule};
#[path = "common/route_rules.rs"]
mod route_rules;

use std::hint::black_box;
use std::time::Duration;

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

fn decide(router: &mut Router<u32>, buf: &[u8]) -> u32 {
    match router.route(buf) {
        Route::Handled { key, .. } => *key,
        _ => 0,
    }
}

fn route(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let buf = sipws_bench::corpus(file);
        let mut structural = route_rules::route_rules();
        let want = route_rules::expected_route(name);
        assert_eq!(decide(&mut structural, &buf), want, "{name}");
        assert_eq!(structural.stats().regex_evaluations, 0, "{name}");
        assert_eq!(structural.stats().full_parses, 0, "{name}");
        structural.reset_stats();

        let mut refined = route_rules::route_rules();
        let text = route_rules::refined_rule(name);
        refined.add(Rule::parse(text).expect("refined rule"), 999, Priority(100));
        assert_eq!(decide(&mut refined, &buf), 999, "{name}: {text}");
        assert_eq!(refined.stats().regex_evaluations, 1, "{name}");

        let mut group = c.benchmark_group(format!("route/{name}"));
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function("sipws_classify", |b| {
            b.iter(|| sipws_classify(black_box(&buf), &limits))
        });
        group.bench_function("route_structural", |b| {
            b.iter(|| decide(&mut structural, black_box(&buf)))
        });
        group.bench_function("route_refined", |b| {
            b.iter(|| decide(&mut refined, black_box(&buf)))
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
    targets = route
}
criterion_main!(benches);
