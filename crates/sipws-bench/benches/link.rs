//! Criterion benchmark `link`: the cost of the sans-IO link supervisor
//! (`sipws_core::link`) per input, driven as a driver would (input, then
//! drain `poll_transmit`/`poll_event`):
//!
//! - `inbound_sip_frame`: one 1 KiB SIP message in, delivered as
//!   `LinkEvent::Frame` (classification, copy, keepalive restart);
//! - `send_open`: one 1 KiB frame sent on an open link and taken back out
//!   as `Transmit::Frame`;
//! - `keepalive_cycle`: one keepalive cycle (timer fires, CRLF ping out,
//!   pong in);
//! - `virtual_day`: 24 hours of virtual time on an idle link with a server
//!   that answers every ping (8,640 cycles), from `connect()`.
//!
//! Run with `cargo bench -p sipws-bench --bench link`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipws_core::link::{Link, LinkConfig, Opcode, Transmit, XorShift64};
use sipws_core::time::Instant;
use std::hint::black_box;
use std::time::Duration;

fn open_link() -> Link {
    let mut link = Link::new(LinkConfig::new(["ws://127.0.0.1:8080"]), XorShift64::new(1))
        .expect("valid config");
    link.connect(Instant::ZERO);
    link.handle_open(Instant::ZERO, Some("sip"));
    drain(&mut link);
    link
}

fn drain(link: &mut Link) -> usize {
    let mut n = 0;
    while let Some(t) = link.poll_transmit() {
        n += transmit_len(black_box(&t));
    }
    while let Some(e) = link.poll_event() {
        black_box(&e);
        n += 1;
    }
    n
}

/// Bytes (or 1 for a command) of one transmit, so draining is not optimised
/// away.
fn transmit_len(t: &Transmit) -> usize {
    match t {
        Transmit::Frame { data, .. } => data.len(),
        _ => 1,
    }
}

fn sip_message() -> Vec<u8> {
    let mut m = b"NOTIFY sip:alice@127.0.0.1;transport=ws SIP/2.0\r\n\
Via: SIP/2.0/WS 127.0.0.1:8080;branch=z9hG4bK776asdhds\r\n\
From: <sip:bob@example.test>;tag=1928301774\r\n\
To: <sip:alice@example.test>;tag=a6c85cf\r\n\
Call-ID: a84b4c76e66710@127.0.0.1\r\nCSeq: 314159 NOTIFY\r\n\
Event: message-summary\r\nContent-Type: application/simple-message-summary\r\n"
        .to_vec();
    let body = vec![b'x'; 1024 - m.len() - 24];
    m.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    m.extend_from_slice(&body);
    m
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("link");
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));

    let msg = sip_message();
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("inbound_sip_frame", |b| {
        let mut link = open_link();
        let mut now = 0u64;
        b.iter(|| {
            now += 1;
            link.handle_frame(Instant::from_millis(now), black_box(&msg), Opcode::Text);
            drain(&mut link)
        });
    });
    g.bench_function("send_open", |b| {
        let mut link = open_link();
        b.iter(|| {
            link.send(Instant::ZERO, msg.clone(), Opcode::Text)
                .expect("open link accepts");
            drain(&mut link)
        });
    });

    g.throughput(Throughput::Elements(1));
    g.bench_function("keepalive_cycle", |b| {
        let mut link = open_link();
        b.iter(|| {
            let at = link.poll_timeout().expect("keepalive timer runs");
            link.handle_timeout(at);
            let n = drain(&mut link);
            link.handle_frame(at, b"\r\n", Opcode::Text);
            n + drain(&mut link)
        });
    });
    g.bench_function("virtual_day", |b| {
        b.iter(|| {
            let mut link = open_link();
            let day = Instant::from_millis(24 * 3600 * 1000);
            let mut pongs = 0u32;
            while let Some(at) = link.poll_timeout() {
                if at > day {
                    break;
                }
                link.handle_timeout(at);
                while let Some(t) = link.poll_transmit() {
                    if matches!(&t, Transmit::Frame { data, .. } if data == b"\r\n\r\n") {
                        link.handle_frame(at, b"\r\n", Opcode::Text);
                        pongs += 1;
                    }
                }
                while let Some(e) = link.poll_event() {
                    black_box(&e);
                }
            }
            assert_eq!(pongs, 8_640);
            pongs
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
