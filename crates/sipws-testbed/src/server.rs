//! Accepting connections and the WebSocket upgrade: subprotocol
//! negotiation and the handshake faults (refusal, missing subprotocol).

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::connection;
use sipws_core::codec::Codec;

use crate::{ConnEntry, ConnId, Shared, TestbedEvent};

pub(crate) async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let conn = ConnId(shared.next_conn.fetch_add(1, Ordering::Relaxed));
        tracing::debug!(conn = %conn, %peer, "accepted");
        shared.emit(TestbedEvent::Accepted { conn, peer });
        tokio::spawn(secure_then_upgrade(
            tcp,
            acceptor.clone(),
            conn,
            shared.clone(),
        ));
    }
}

/// The TLS handshake first when serving `wss://`.
async fn secure_then_upgrade(
    tcp: TcpStream,
    acceptor: Option<TlsAcceptor>,
    conn: ConnId,
    shared: Arc<Shared>,
) {
    let _ = tcp.set_nodelay(true);
    match acceptor {
        None => upgrade(tcp, conn, shared).await,
        Some(acceptor) => match acceptor.accept(tcp).await {
            Ok(tls) => upgrade(tls, conn, shared).await,
            Err(e) => shared.emit(TestbedEvent::HandshakeFailed {
                conn,
                reason: format!("TLS: {e}"),
            }),
        },
    }
}

/// What the handshake callback decided.
enum Verdict {
    /// The subprotocol put in the answer (`None` when omitted by the
    /// fault) and the codec of the one chosen.
    Accepted(Option<String>, Codec),
    Refused(u16),
}

async fn upgrade<S>(stream: S, conn: ConnId, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut verdict = Verdict::Refused(0);
    // The callback's error type (an HTTP response) is fixed by tungstenite.
    #[allow(clippy::result_large_err)]
    let decide = |request: &Request, mut response: Response| {
        let refuse = consume_refusal(&shared);
        if refuse {
            tracing::debug!(conn = %conn, "fault: refusing the handshake with 503");
            verdict = Verdict::Refused(503);
            return Err(error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "refused by fault injection",
            ));
        }
        let Some(protocol) = choose_protocol(request, &shared.protocols) else {
            verdict = Verdict::Refused(400);
            return Err(error_response(
                StatusCode::BAD_REQUEST,
                "Sec-WebSocket-Protocol must offer sip (or sipws.json)",
            ));
        };
        let codec = Codec::for_subprotocol(&protocol).unwrap_or_default();
        if shared.faults.borrow().omit_subprotocol {
            tracing::debug!(conn = %conn, "fault: answering without the subprotocol");
            verdict = Verdict::Accepted(None, codec);
        } else {
            if let Ok(value) = HeaderValue::from_str(&protocol) {
                response.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
            }
            verdict = Verdict::Accepted(Some(protocol), codec);
        }
        Ok(response)
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let result =
        tokio_tungstenite::accept_hdr_async_with_config(stream, decide, Some(config)).await;
    match (result, verdict) {
        (Ok(ws), Verdict::Accepted(protocol, codec)) => {
            let (tx, rx) = mpsc::unbounded_channel();
            shared
                .conns
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(
                    conn,
                    ConnEntry {
                        tx: tx.clone(),
                        codec,
                        overrides: crate::ConnFaults::default(),
                    },
                );
            tracing::debug!(conn = %conn, ?protocol, "upgraded");
            shared.emit(TestbedEvent::Upgraded { conn, protocol });
            let reason = connection::serve(ws, conn, codec, &shared, tx, rx).await;
            tracing::debug!(conn = %conn, %reason, "disconnected");
            shared
                .conns
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&conn);
            shared.emit(TestbedEvent::Disconnected { conn, reason });
        }
        (_, Verdict::Refused(status)) if status != 0 => {
            tracing::debug!(conn = %conn, status, "handshake refused");
            shared.emit(TestbedEvent::HandshakeRefused { conn, status });
        }
        (Err(e), _) => {
            tracing::debug!(conn = %conn, error = %e, "handshake failed");
            shared.emit(TestbedEvent::HandshakeFailed {
                conn,
                reason: e.to_string(),
            });
        }
        (Ok(_), _) => shared.emit(TestbedEvent::HandshakeFailed {
            conn,
            reason: "handshake finished without a verdict".into(),
        }),
    }
}

/// Takes one injected refusal, if any are left.
fn consume_refusal(shared: &Shared) -> bool {
    let mut refuse = false;
    shared.faults.send_if_modified(|f| {
        refuse = f.refuse_handshakes > 0;
        if refuse {
            f.refuse_handshakes -= 1;
        }
        refuse
    });
    refuse
}

/// The first protocol of ours, in our order, that the client offered.
fn choose_protocol(request: &Request, ours: &[String]) -> Option<String> {
    let offered: Vec<&str> = request
        .headers()
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    ours.iter()
        .find(|p| offered.iter().any(|o| o.eq_ignore_ascii_case(p)))
        .cloned()
}

fn error_response(status: StatusCode, body: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(body.to_owned()));
    *response.status_mut() = status;
    response
}
