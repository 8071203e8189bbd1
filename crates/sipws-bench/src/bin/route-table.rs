//! Prints the tables of BENCHMARKS.md ("Routing").
//!
//! 1. From the medians criterion saved after
//!    `cargo bench -p sipws-bench --bench route` (read from
//!    `$CARGO_TARGET_DIR/criterion`, or `target/criterion` at the workspace
//!    root); skipped with a note when they are missing.
//! 2. Its own interleaved measurement, robust on a loaded machine: for each
//!    message, `ROUNDS` rounds alternate a batch of classifications and a
//!    batch of routing decisions; the fastest batch of each is kept (noise
//!    from other processes only ever adds time).
//!
//! Build with `--release`: `cargo run --release -p sipws-bench --bin route-table`.

#[path = "../../benches/common/route_rules.rs"]
mod route_rules;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use sipws_core::message::{classify, Limits};
use sipws_core::router::{Priority, Route, Router, Rule};

const ROUNDS: usize = 3_000;
const BATCH: u32 = 200;
const CONTENDERS: [&str; 3] = ["sipws_classify", "route_structural", "route_refined"];

fn median_ns(json: &str) -> Option<f64> {
    let median = &json[json.find("\"median\"")?..];
    let pe = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = pe.find([',', '}'])?;
    pe[..end].trim().parse().ok()
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn classify_once(buf: &[u8], limits: &Limits) -> usize {
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

/// Nanoseconds per call of the fastest of `ROUNDS` batches, for each of
/// the three contenders, batches interleaved.
fn interleaved(buf: &[u8], name: &str) -> [f64; 3] {
    let limits = Limits::default();
    let mut structural = route_rules::route_rules();
    assert_eq!(
        decide(&mut structural, buf),
        route_rules::expected_route(name),
        "{name}"
    );
    let mut refined = route_rules::route_rules();
    refined.add(
        Rule::parse(route_rules::refined_rule(name)).expect("refined rule"),
        999,
        Priority(100),
    );
    let mut best = [f64::INFINITY; 3];
    let mut sink = 0usize;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..BATCH {
            sink = sink.wrapping_add(classify_once(black_box(buf), &limits));
        }
        best[0] = best[0].min(t.elapsed().as_nanos() as f64 / f64::from(BATCH));
        let t = Instant::now();
        for _ in 0..BATCH {
            sink = sink.wrapping_add(decide(&mut structural, black_box(buf)) as usize);
        }
        best[1] = best[1].min(t.elapsed().as_nanos() as f64 / f64::from(BATCH));
        let t = Instant::now();
        for _ in 0..BATCH / 4 {
            sink = sink.wrapping_add(decide(&mut refined, black_box(buf)) as usize);
        }
        best[2] = best[2].min(t.elapsed().as_nanos() as f64 / f64::from(BATCH / 4));
    }
    black_box(sink);
    assert_eq!(structural.stats().regex_evaluations, 0);
    best
}

fn row(name: &str, bytes: usize, t: [f64; 3]) {
    println!(
        "| {name} | {bytes} | {} | {} | {:.2}× | {} | {:.2}× |",
        fmt_ns(t[0]),
        fmt_ns(t[1]),
        t[1] / t[0],
        fmt_ns(t[2]),
        t[2] / t[0],
    );
}

fn header() {
    println!(
        "| message | bytes | sipws classify | route (structural) | route / classify | route (regex refinement) | refined / classify |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
}

fn main() {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let root = target.join("criterion");
    let mut from_criterion = Vec::new();
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let bytes = sipws_bench::corpus(file).len();
        let mut t = [0.0f64; 3];
        let mut ok = true;
        for (slot, who) in t.iter_mut().zip(CONTENDERS) {
            let path = root
                .join(format!("route_{name}"))
                .join(who)
                .join("new/estimates.json");
            match std::fs::read_to_string(&path)
                .ok()
                .as_deref()
                .and_then(median_ns)
            {
                Some(ns) => *slot = ns,
                None => ok = false,
            }
        }
        if ok {
            from_criterion.push((name, bytes, t));
        }
    }
    if from_criterion.len() == sipws_bench::BENCH_MESSAGES.len() {
        println!("criterion medians (`cargo bench -p sipws-bench --bench route`):\n");
        header();
        for (name, bytes, t) in from_criterion {
            row(name, bytes, t);
        }
        println!();
    } else {
        println!(
            "(no complete criterion results under {}; run the bench first)\n",
            root.display()
        );
    }
    println!("interleaved, fastest of {ROUNDS} batches of {BATCH}:\n");
    header();
    let mut worst: f64 = 0.0;
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let buf = sipws_bench::corpus(file);
        let t = interleaved(&buf, name);
        worst = worst.max(t[1] / t[0]);
        row(name, buf.len(), t);
    }
    println!("\nworst structural route / classify: {worst:.2}×");
}
