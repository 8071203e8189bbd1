//! The link's keepalive and reconnect timeline with the default settings,
//! printed in virtual time: a fake server answers CRLF pings for 30 s,
//! then stops answering (pongs dropped), then refuses connections.
//!
//! Run with `cargo run -p sipws-core --example link_timeline`. This is also
//! the shape of a driver loop: after every input, drain `poll_transmit` and
//! `poll_event`, then sleep until `poll_timeout`.

use sipws_core::link::{ConnectError, Link, LinkConfig, Transmit, XorShift64};
use sipws_core::time::Instant;

fn main() {
    let config = LinkConfig::new(["ws://127.0.0.1:8080"]);
    let mut link = Link::new(config, XorShift64::new(1)).expect("valid config");
    let mut now = Instant::ZERO;
    let mut connects = 0;
    link.connect(now);
    loop {
        // Drain commands; the "server" reacts at the same instant.
        while let Some(tx) = link.poll_transmit() {
            println!("{:>9}  -> {tx:?}", now.to_string());
            match tx {
                Transmit::Connect { .. } if connects == 0 => {
                    connects += 1;
                    link.handle_open(now, Some("sip"));
                }
                Transmit::Connect { .. } => {
                    link.handle_connect_failed(now, ConnectError::Refused);
                }
                Transmit::Frame { data, opcode }
                    if data == b"\r\n\r\n" && now < Instant::from_millis(30_000) =>
                {
                    link.handle_frame(now, b"\r\n", opcode);
                }
                Transmit::Frame { .. } | Transmit::Ping | Transmit::Close { .. } => {}
                _ => {}
            }
        }
        while let Some(event) = link.poll_event() {
            println!("{:>9}  {event}", now.to_string());
        }
        match link.poll_timeout() {
            Some(deadline) => {
                now = deadline;
                link.handle_timeout(now);
            }
            None => break,
        }
    }
}
