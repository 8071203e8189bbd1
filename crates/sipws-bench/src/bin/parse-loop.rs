//! `parse-loop CONTENDER MESSAGE ITERATIONS`: runs one contender of
//! [`sipws_bench::CONTENDERS`] on one corpus message ITERATIONS times and
//! prints the accumulated result. Meant to run under
//! `perf stat -e instructions:u` (see `instructions.sh`): instruction counts
//! do not depend on what else the machine is doing, unlike wall time.

use std::hint::black_box;
use std::process::ExitCode;

use sipws_core::message::Limits;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [who, file, n] = args.as_slice() else {
        eprintln!("usage: parse-loop CONTENDER MESSAGE.sip ITERATIONS");
        return ExitCode::from(2);
    };
    let Some((_, f)) = sipws_bench::CONTENDERS.iter().find(|(name, _)| name == who) else {
        eprintln!("unknown contender {who}");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("ITERATIONS must be a number");
        return ExitCode::from(2);
    };
    let buf = sipws_bench::corpus(file);
    let limits = Limits::default();
    let mut acc = 0usize;
    for _ in 0..n {
        acc = acc.wrapping_add(f(black_box(&buf), black_box(&limits)));
    }
    println!("{acc}");
    ExitCode::SUCCESS
}
