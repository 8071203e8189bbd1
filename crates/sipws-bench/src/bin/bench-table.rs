//! Prints the Markdown table of BENCHMARKS.md ("Message parsing") from the
//! medians criterion saved after `cargo bench -p sipws-bench --bench parse`.
//!
//! Reads `$CARGO_TARGET_DIR/criterion` (or `target/criterion` at the
//! workspace root). Exits 1 if a result is missing.
//!
//! With `--interleaved [ROUNDS]` it measures instead, robustly on a loaded
//! machine: for each message, ROUNDS rounds (default 2000) run a batch of
//! each contender in turn (about 20 µs each, the batch size calibrated per
//! contender), and the fastest batch of each is kept (other processes only
//! ever add time). Build with `--release`:
//! `cargo run --release -p sipws-bench --bin bench-table -- --interleaved`.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sipws_core::message::Limits;

/// The median point estimate (ns) from a criterion `estimates.json`.
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

/// Target duration of one batch of the interleaved measurement: each
/// contender's batch size is set so that its batches take about this long,
/// so that the fastest batch is picked among equally long windows for
/// every contender (a shorter batch is likelier to fit between two
/// interruptions, which would favour the faster parser).
const BATCH_NS: f64 = 20_000.0;

/// Nanoseconds per parse of the fastest of `rounds` batches, for each
/// contender, batches interleaved.
fn interleaved(buf: &[u8], rounds: usize) -> [f64; sipws_bench::CONTENDERS.len()] {
    let limits = Limits::default();
    let mut sink = 0usize;
    // Calibration: the fastest of a few runs of 200 parses.
    let mut batch = [0u32; sipws_bench::CONTENDERS.len()];
    for (n, (_, f)) in batch.iter_mut().zip(sipws_bench::CONTENDERS) {
        let mut per = f64::INFINITY;
        for _ in 0..20 {
            let t = Instant::now();
            for _ in 0..200 {
                sink = sink.wrapping_add(f(black_box(buf), black_box(&limits)));
            }
            per = per.min(t.elapsed().as_nanos() as f64 / 200.0);
        }
        *n = (BATCH_NS / per.max(1.0)).ceil().clamp(1.0, 100_000.0) as u32;
    }
    let mut best = [f64::INFINITY; sipws_bench::CONTENDERS.len()];
    for _ in 0..rounds {
        for ((slot, n), (_, f)) in best.iter_mut().zip(batch).zip(sipws_bench::CONTENDERS) {
            let t = Instant::now();
            for _ in 0..n {
                sink = sink.wrapping_add(f(black_box(buf), black_box(&limits)));
            }
            *slot = slot.min(t.elapsed().as_nanos() as f64 / f64::from(n));
        }
    }
    black_box(sink);
    best
}

fn row(file: &str, bytes: usize, t: [f64; sipws_bench::CONTENDERS.len()]) {
    let [full, class, rss, rs, floor] = t;
    println!(
        "| {file} | {bytes} | {} | {} | {} | {} | {} | {:.1}× | {:.1}× | {:.2}× |",
        fmt_ns(full),
        fmt_ns(class),
        fmt_ns(rss),
        fmt_ns(rs),
        fmt_ns(floor),
        rss / full,
        rs / full,
        class / floor,
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = match args.as_slice() {
        [] => None,
        [flag] if flag == "--interleaved" => Some(2000),
        [flag, n] if flag == "--interleaved" => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                eprintln!("ROUNDS must be a number");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: bench-table [--interleaved [ROUNDS]]");
            return ExitCode::from(2);
        }
    };
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let root = target.join("criterion");
    println!(
        "| message | bytes | sipws full | sipws classify | rsipstack | rsip | memchr CRLF | rsipstack / sipws full | rsip / sipws full | classify / memchr |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    if let Some(rounds) = rounds {
        for (_, file) in sipws_bench::BENCH_MESSAGES {
            let buf = sipws_bench::corpus(file);
            row(file, buf.len(), interleaved(&buf, rounds));
        }
        return ExitCode::SUCCESS;
    }
    let mut ok = true;
    for (name, file) in sipws_bench::BENCH_MESSAGES {
        let bytes = sipws_bench::corpus(file).len();
        let mut t = [0.0f64; sipws_bench::CONTENDERS.len()];
        for (slot, (who, _)) in t.iter_mut().zip(sipws_bench::CONTENDERS) {
            let path = root
                .join(format!("parse_{name}"))
                .join(who)
                .join("new/estimates.json");
            match std::fs::read_to_string(&path)
                .ok()
                .as_deref()
                .and_then(median_ns)
            {
                Some(ns) => *slot = ns,
                None => {
                    eprintln!("missing or unreadable: {}", path.display());
                    ok = false;
                }
            }
        }
        row(file, bytes, t);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
