//! The WebSocket transport against the loopback testbed: handshake
//! outcomes, CRLF frames, closes and limits, over real sockets.

use std::time::Duration;

use sipws::transport::{
    Bytes, CloseReport, ConnectError, FrameKind, Inbound, SendError, Transport, TransportConfig,
    TransportError,
};
use sipws_testbed::{Testbed, TestbedEvent};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(10);

fn sip() -> Vec<String> {
    vec!["sip".to_owned()]
}

fn transport() -> Transport {
    Transport::new(TransportConfig::default()).expect("default TLS config")
}

/// Next testbed event matching `pred`, failing the test after `LIMIT`.
async fn wait_for(
    rx: &mut broadcast::Receiver<TestbedEvent>,
    pred: impl Fn(&TestbedEvent) -> bool,
) -> TestbedEvent {
    sipws_testbed::wait_for_event(rx, LIMIT, pred)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn recv(conn: &mut sipws::transport::WsConnection) -> Inbound {
    tokio::time::timeout(LIMIT, conn.recv())
        .await
        .expect("inbound within the time limit")
}

#[tokio::test]
async fn crlf_ping_is_answered_with_crlf_on_the_sip_subprotocol() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut events = testbed.handle().subscribe();
    let mut conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    assert_eq!(conn.protocol(), "sip");
    conn.send(Bytes::from_static(b"\r\n\r\n"), FrameKind::Text)
        .await
        .unwrap();
    assert_eq!(
        recv(&mut conn).await,
        Inbound::Frame {
            data: Bytes::from_static(b"\r\n"),
            kind: FrameKind::Text
        }
    );
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::PingReceived { count: 1, .. })
    })
    .await;
}

#[tokio::test]
async fn websocket_ping_gets_a_pong() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    conn.ping().await.unwrap();
    assert_eq!(recv(&mut conn).await, Inbound::Pong);
}

#[tokio::test]
async fn server_websocket_ping_is_answered_with_its_payload() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut events = testbed.handle().subscribe();
    let mut conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    assert_eq!(testbed.handle().ws_ping_all(b"kam"), 1);
    // The answer goes out while the client reads; nothing is reported.
    let pong = tokio::select! {
        inbound = conn.recv() => panic!("unexpected {inbound:?}"),
        e = wait_for(&mut events, |e| matches!(e, TestbedEvent::WsPongReceived { .. })) => e,
    };
    assert!(matches!(pong, TestbedEvent::WsPongReceived { payload, .. } if payload == b"kam"));
}

#[tokio::test]
async fn refused_handshake_reports_the_http_status() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().refuse_next_handshakes(1);
    let err = transport()
        .connect(&testbed.url(), &sip())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::HttpStatus { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    // Only one refusal was asked for.
    let conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    assert_eq!(conn.protocol(), "sip");
}

#[tokio::test]
async fn answer_without_subprotocol_is_a_clear_error() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    testbed.handle().set_omit_subprotocol(true);
    let err = transport()
        .connect(&testbed.url(), &sip())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConnectError::SubprotocolNotAccepted {
            requested: sip(),
            answered: None
        }
    );
    assert!(err.to_string().contains("subprotocol"), "{err}");
}

#[tokio::test]
async fn testbed_requires_the_sip_subprotocol() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let err = transport()
        .connect(&testbed.url(), &["chat".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::HttpStatus { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn closed_port_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = transport()
        .connect(&format!("ws://{addr}"), &sip())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Refused { .. }), "{err:?}");
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts TCP but never answers the upgrade.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let keep = tokio::spawn(async move {
        let (_socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(LIMIT).await;
    });
    let config = TransportConfig {
        connect_timeout: Duration::from_millis(200),
        ..TransportConfig::default()
    };
    let err = Transport::new(config)
        .unwrap()
        .connect(&format!("ws://{addr}"), &sip())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConnectError::Timeout {
            after: Duration::from_millis(200)
        }
    );
    keep.abort();
}

#[tokio::test]
async fn bad_urls_are_rejected() {
    for url in ["http://127.0.0.1:1", "not a url", "ws://"] {
        let err = transport().connect(url, &sip()).await.unwrap_err();
        assert!(
            matches!(err, ConnectError::InvalidUrl { .. }),
            "{url}: {err:?}"
        );
    }
}

#[tokio::test]
async fn drop_without_close_frame_is_abnormal_1006() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    assert_eq!(testbed.handle().drop_all(), 1);
    match recv(&mut conn).await {
        Inbound::Closed(CloseReport {
            code: 1006,
            clean: false,
            ..
        }) => {}
        other => panic!("expected an abnormal close, got {other:?}"),
    }
}

#[tokio::test]
async fn clean_close_carries_code_and_reason() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut events = testbed.handle().subscribe();
    let mut conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    assert_eq!(testbed.handle().close_all(4001, "maintenance"), 1);
    assert_eq!(
        recv(&mut conn).await,
        Inbound::Closed(CloseReport {
            code: 4001,
            reason: "maintenance".into(),
            clean: true,
            error: None
        })
    );
    wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::CloseReceived { code: 4001, .. })
    })
    .await;
}

#[tokio::test]
async fn oversize_inbound_frame_ends_the_connection_with_a_clear_error() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let config = TransportConfig {
        max_frame_size: 1024,
        ..TransportConfig::default()
    };
    let mut conn = Transport::new(config)
        .unwrap()
        .connect(&testbed.url(), &sip())
        .await
        .unwrap();
    testbed.handle().send_all(&[b'x'; 2048], true);
    match recv(&mut conn).await {
        Inbound::Closed(CloseReport {
            clean: false,
            error:
                Some(TransportError::FrameTooLarge {
                    size: 2048,
                    max: 1024,
                }),
            ..
        }) => {}
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn oversize_outbound_frame_is_refused_locally() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let config = TransportConfig {
        max_frame_size: 1024,
        ..TransportConfig::default()
    };
    let mut conn = Transport::new(config)
        .unwrap()
        .connect(&testbed.url(), &sip())
        .await
        .unwrap();
    let err = conn
        .send(Bytes::from(vec![b'x'; 1025]), FrameKind::Text)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SendError::TooLarge {
            size: 1025,
            max: 1024
        }
    );
    // The connection is still usable.
    conn.send(Bytes::from_static(b"\r\n\r\n"), FrameKind::Binary)
        .await
        .unwrap();
    assert_eq!(
        recv(&mut conn).await,
        Inbound::Frame {
            data: Bytes::from_static(b"\r\n"),
            kind: FrameKind::Binary
        }
    );
}

#[tokio::test]
async fn sip_frames_reach_the_testbed() {
    let testbed = Testbed::start(Default::default()).await.unwrap();
    let mut events = testbed.handle().subscribe();
    let mut conn = transport().connect(&testbed.url(), &sip()).await.unwrap();
    let msg = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n";
    conn.send(Bytes::from_static(msg), FrameKind::Text)
        .await
        .unwrap();
    let e = wait_for(&mut events, |e| {
        matches!(e, TestbedEvent::FrameReceived { .. })
    })
    .await;
    assert!(matches!(e, TestbedEvent::FrameReceived { ref data, text: true, .. } if data == msg));
}

mod wss {
    use std::path::PathBuf;

    use sipws::tls::{TlsConfig, TlsConfigError};
    use sipws_testbed::{TestbedConfig, TlsFiles};

    use super::*;

    fn data(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../sipws-testbed/tests/data")
            .join(name)
    }

    async fn secure_testbed() -> Testbed {
        Testbed::start(TestbedConfig {
            tls: Some(TlsFiles {
                cert: data("server.pem"),
                key: data("server.key"),
            }),
            ..TestbedConfig::default()
        })
        .await
        .unwrap()
    }

    fn with_tls(tls: TlsConfig) -> Result<Transport, TlsConfigError> {
        Transport::new(TransportConfig {
            tls,
            ..TransportConfig::default()
        })
    }

    #[tokio::test]
    async fn trusted_through_the_ca_file() {
        let testbed = secure_testbed().await;
        assert!(testbed.url().starts_with("wss://127.0.0.1:"));
        let transport = with_tls(TlsConfig {
            ca_file: Some(data("ca.pem")),
            ..TlsConfig::default()
        })
        .unwrap();
        let mut conn = transport.connect(&testbed.url(), &sip()).await.unwrap();
        assert_eq!(conn.protocol(), "sip");
        conn.send(Bytes::from_static(b"\r\n\r\n"), FrameKind::Text)
            .await
            .unwrap();
        assert_eq!(
            recv(&mut conn).await,
            Inbound::Frame {
                data: Bytes::from_static(b"\r\n"),
                kind: FrameKind::Text
            }
        );
    }

    #[tokio::test]
    async fn unknown_issuer_is_a_tls_error() {
        let testbed = secure_testbed().await;
        let err = transport()
            .connect(&testbed.url(), &sip())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConnectError::Tls { detail } if detail.contains("UnknownIssuer")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn verification_can_be_turned_off_by_name() {
        let testbed = secure_testbed().await;
        let transport = with_tls(TlsConfig {
            danger_accept_invalid_certs: true,
            ..TlsConfig::default()
        })
        .unwrap();
        let conn = transport.connect(&testbed.url(), &sip()).await.unwrap();
        assert_eq!(conn.protocol(), "sip");
    }

    #[tokio::test]
    async fn unreadable_ca_file_is_refused_up_front() {
        let err = with_tls(TlsConfig {
            ca_file: Some(data("no-such-ca.pem")),
            ..TlsConfig::default()
        })
        .unwrap_err();
        assert!(matches!(err, TlsConfigError::CaFile { .. }), "{err:?}");
        // A PEM file without a certificate is refused too.
        let err = with_tls(TlsConfig {
            ca_file: Some(data("server.key")),
            ..TlsConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[tokio::test]
    async fn testbed_refuses_unreadable_key_files() {
        let err = Testbed::start(TestbedConfig {
            tls: Some(TlsFiles {
                cert: data("server.pem"),
                key: data("missing.key"),
            }),
            ..TestbedConfig::default()
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
