//! `bench-table --interleaved` measures every contender on every message
//! and prints one table row each, with ratios that are real numbers.

use std::process::Command;

#[test]
fn interleaved_measurement_prints_a_row_per_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench-table"))
        .args(["--interleaved", "2"])
        .output()
        .expect("run bench-table");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(".sip |")).collect();
    assert_eq!(rows.len(), sipws_bench::BENCH_MESSAGES.len(), "{text}");
    for ((_, file), row) in sipws_bench::BENCH_MESSAGES.iter().zip(&rows) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[1], *file);
        // Five timings, then three ratios, each a positive number.
        for cell in &cells[3..8] {
            assert!(cell.ends_with(" ns") || cell.ends_with(" µs"), "{row}");
        }
        for cell in &cells[8..11] {
            let ratio: f64 = cell.trim_end_matches('×').parse().expect(row);
            assert!(ratio.is_finite() && ratio > 0.0, "{row}");
        }
    }
}

#[test]
fn bad_arguments_are_a_usage_error() {
    for args in [&["--interleaved", "many"][..], &["--what"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_bench-table"))
            .args(args)
            .output()
            .expect("run bench-table");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
