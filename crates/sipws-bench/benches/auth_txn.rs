//! Criterion benchmark `auth_txn`: the per-request cost of digest
//! authentication and of the transaction layer.
//!
//! - `digest_response/{MD5,SHA-256,SHA-512-256}`: one `response` value
//!   (HA1, HA2 and the final hash) for the RFC 7616 §3.9.1 request;
//! - `challenge_parse`: the RFC 7616 §3.9.1 `WWW-Authenticate` value into a
//!   `DigestChallenge`;
//! - `client_authorize_sha256`: one `Authorization` value from a client
//!   that already holds the challenge (nonce-count, hash, quoting);
//! - `verify_sha256`: the server side check of that value;
//! - `txn_non_invite_round_trip`: a REGISTER client transaction from
//!   `send_request` to its 200 and Timer K (parse of the response included).
//!
//! Run with `cargo bench -p sipws-bench --bench auth_txn`.

use criterion::{criterion_group, criterion_main, Criterion};
use sipws_core::auth::{
    self, digest, Algorithm, Credentials, DigestChallenge, DigestClient, DigestInput,
    DigestOptions, Qop,
};
use sipws_core::message::{HeaderName, Limits, Message, RequestBuilder, ResponseBuilder};
use sipws_core::time::Instant;
use sipws_core::txn::{Transactions, TxnConfig};
use std::hint::black_box;

const CHALLENGE: &str = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
     algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
     opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

fn digest_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("digest_response");
    for alg in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256] {
        let input = DigestInput {
            algorithm: alg,
            username: "Mufasa",
            realm: "http-auth@example.org",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            nc: 1,
            qop: Some(Qop::Auth),
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        };
        g.bench_function(alg.as_str(), |b| {
            b.iter(|| digest::response(black_box(&input), black_box("Circle of Life")))
        });
    }
    g.finish();

    c.bench_function("challenge_parse", |b| {
        b.iter(|| DigestChallenge::parse(black_box(CHALLENGE)))
    });

    let mut client = DigestClient::new(
        Credentials::new("Mufasa", "Circle of Life"),
        DigestOptions::default(),
        || "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ".to_owned(),
    );
    let _ = client.handle_response(401, [CHALLENGE]).expect("usable");
    c.bench_function("client_authorize_sha256", |b| {
        b.iter(|| client.authorize(black_box("REGISTER"), black_box("sip:127.0.0.1"), b""))
    });

    let value = client
        .authorize("REGISTER", "sip:127.0.0.1", b"")
        .pop()
        .expect("one header")
        .value;
    c.bench_function("verify_sha256", |b| {
        b.iter(|| {
            auth::verify(black_box(&value), "REGISTER", b"", |_, _| {
                Some("Circle of Life".to_owned())
            })
        })
    });
}

fn txn_benches(c: &mut Criterion) {
    let register = RequestBuilder::new("REGISTER", "sip:127.0.0.1")
        .header(
            HeaderName::Via,
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7",
        )
        .header(HeaderName::From, "<sip:alice@127.0.0.1>;tag=a1")
        .header(HeaderName::To, "<sip:alice@127.0.0.1>")
        .header(HeaderName::CallId, "reg-1@127.0.0.1")
        .header(HeaderName::CSeq, "1 REGISTER")
        .build()
        .expect("valid request");
    let ok = ResponseBuilder::reply_to_owned(&register, 200)
        .to_tag("s1")
        .build()
        .expect("valid response")
        .to_bytes();
    let mut table = Transactions::new(TxnConfig::default());
    c.bench_function("txn_non_invite_round_trip", |b| {
        b.iter(|| {
            let now = Instant::from_millis(1);
            let id = table.send_request(now, register.clone()).expect("new");
            while let Some(t) = table.poll_transmit() {
                black_box(t);
            }
            let msg = Message::parse(&ok, &Limits::default()).expect("parses");
            black_box(table.handle_message(now, &msg).expect("matches"));
            table.handle_timeout(now);
            while let Some(e) = table.poll_event() {
                black_box(e);
            }
            black_box(id)
        })
    });
}

criterion_group!(benches, digest_benches, txn_benches);
criterion_main!(benches);
