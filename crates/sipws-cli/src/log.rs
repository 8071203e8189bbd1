//! `-v` / `-vv` / `SIPWS_LOG`: tracing output of the sipws crates on
//! standard error, plain text (colours only on a terminal).
//!
//! - no flag: nothing (the commands' own output only);
//! - `-v`: debug lines of the sipws crates (connections, handshakes,
//!   closes, link events, user agent events, testbed accepts, upgrades
//!   and faults), info of everything else;
//! - `-vv`: trace as well (every frame with its size);
//! - `SIPWS_LOG=target=level,…` (e.g. `sipws=trace,sipws_testbed=debug`,
//!   or just `debug`) replaces the flag's choice.
//!
//! Message texts are never logged, so neither is an Authorization header;
//! the password is never logged.

use std::io::IsTerminal;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;

/// The crates whose debug and trace lines `-v` and `-vv` show.
const CRATES: [&str; 4] = ["sipws", "sipws_core", "sipws_testbed", "sipws_cli"];

/// The filter for `-v` counted `verbose` times (`None`: no output).
fn filter(verbose: u8) -> Option<Targets> {
    let level = match verbose {
        0 => return None,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let mut t = Targets::new().with_default(LevelFilter::INFO);
    for c in CRATES {
        t = t.with_target(c, level);
    }
    Some(t)
}

/// Installs the subscriber for `-v` counted `verbose` times, or for
/// `SIPWS_LOG` when it is set.
pub(crate) fn init(verbose: u8) {
    let targets = match std::env::var("SIPWS_LOG") {
        Ok(spec) if !spec.trim().is_empty() => match spec.parse::<Targets>() {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("sipws: SIPWS_LOG={spec:?} ignored: {e}");
                filter(verbose)
            }
        },
        _ => filter(verbose),
    };
    let Some(targets) = targets else {
        return;
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(LevelFilter::TRACE)
        .finish()
        .with(targets);
    // Only fails when a subscriber is already set, which is fine.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_by_default_debug_then_trace() {
        assert!(filter(0).is_none());
        let v = filter(1).unwrap();
        assert!(v.would_enable("sipws::transport", &tracing::Level::DEBUG));
        assert!(!v.would_enable("sipws::transport", &tracing::Level::TRACE));
        assert!(!v.would_enable("tokio_tungstenite", &tracing::Level::DEBUG));
        let vv = filter(2).unwrap();
        assert!(vv.would_enable("sipws_testbed::connection", &tracing::Level::TRACE));
    }
}
