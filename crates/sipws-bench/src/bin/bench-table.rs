//! Prints the Markdown table of BENCHMARKS.md ("Message parsing") from the
//! medians criterion saved after `cargo bench -p sipws-bench --bench parse`.
//!
//! Reads `$CARGO_TARGET_DIR/criterion` (or `target/criterion` at the
//! workspace root). Exits 1 if a result is missing.

use std::path::PathBuf;
use std::process::ExitCode;

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

fn main() -> ExitCode {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let root = target.join("criterion");
    println!(
        "| message | bytes | sipws full | sipws classify | rsipstack | rsip | memchr CRLF | rsipstack / sipws full | rsip / sipws full | classify / memchr |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
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
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
