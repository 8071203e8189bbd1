//! The WebSocket transport: one SIP-over-WebSocket connection (RFC 7118)
//! over tokio-tungstenite, `ws://` or `wss://` (rustls).
//!
//! It moves frames and nothing else: keepalive, reconnection and queuing
//! live in the sans-IO link (`sipws_core::link`), which the driver feeds
//! with what this module reports. Every failure of the peer or the network
//! is a typed [`ConnectError`] or [`TransportError`] with a reason.
//!
//! Memory: a default tungstenite client eagerly allocates a 128 KiB read
//! buffer and lets its write buffer grow to 128 KiB. SIP messages are a few
//! KiB, so [`TransportConfig::default`] reads in 4 KiB steps, writes each
//! frame straight through, and caps frames and messages at 64 KiB.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{
    CapacityError, ProtocolError, SubProtocolError, UrlError,
};
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::tls::{TlsConfig, TlsConfigError};

pub use tokio_tungstenite::tungstenite::Bytes;

/// The WebSocket subprotocol of SIP (RFC 7118 §4).
pub const SIP_SUBPROTOCOL: &str = "sip";

/// Close code used when a connection ends without a close frame (RFC 6455
/// §7.4.1: 1006, never sent on the wire).
pub const ABNORMAL_CLOSE: u16 = 1006;

/// Settings of the WebSocket transport, shared by every link of a driver.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// How `wss://` servers are verified.
    pub tls: TlsConfig,
    /// Read buffer of each connection, allocated up front (default 4 KiB;
    /// tungstenite's own default is 128 KiB).
    pub read_buffer_size: usize,
    /// Largest frame and message accepted or sent, in bytes (default
    /// 64 KiB). A larger inbound frame ends the connection with
    /// [`TransportError::FrameTooLarge`]; a larger outbound one is refused.
    pub max_frame_size: usize,
    /// Time allowed for TCP connect, TLS and the WebSocket handshake
    /// together (default 5 s).
    pub connect_timeout: Duration,
    /// Time allowed for one frame to be written and flushed before the
    /// connection is considered broken (default 5 s).
    pub write_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            tls: TlsConfig::default(),
            read_buffer_size: 4 * 1024,
            max_frame_size: 64 * 1024,
            connect_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
        }
    }
}

impl TransportConfig {
    /// The tungstenite settings derived from this configuration.
    #[must_use]
    pub fn websocket_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(0)
            .max_write_buffer_size(self.max_frame_size.saturating_mul(2).max(1))
            .max_message_size(Some(self.max_frame_size))
            .max_frame_size(Some(self.max_frame_size))
    }
}

/// Why a connection attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a `ws://` or `wss://` URL with a host.
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server refused the TCP connection.
    Refused {
        /// The operating system's message.
        detail: String,
    },
    /// No answer within the connect timeout.
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// Name resolution, TCP or another I/O step failed.
    Io {
        /// The I/O error kind.
        kind: io::ErrorKind,
        /// The operating system's message.
        detail: String,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch…).
    Tls {
        /// rustls' message.
        detail: String,
    },
    /// The server answered the upgrade with an HTTP error.
    HttpStatus {
        /// The status code (e.g. 503).
        status: u16,
        /// The reason phrase, if any.
        reason: String,
    },
    /// The server did not accept the `sip` subprotocol (RFC 7118 §4
    /// requires it in the answer).
    SubprotocolNotAccepted {
        /// The protocols requested.
        requested: Vec<String>,
        /// What the server answered, `None` when it sent no
        /// `Sec-WebSocket-Protocol` at all.
        answered: Option<String>,
    },
    /// Any other WebSocket handshake failure.
    Handshake {
        /// tungstenite's message.
        detail: String,
    },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            ConnectError::Refused { detail } => write!(f, "connection refused ({detail})"),
            ConnectError::Timeout { after } => {
                write!(f, "no answer within {} ms", after.as_millis())
            }
            ConnectError::Io { detail, .. } => write!(f, "network error: {detail}"),
            ConnectError::Tls { detail } => write!(f, "TLS handshake failed: {detail}"),
            ConnectError::HttpStatus { status, reason } => {
                write!(
                    f,
                    "server answered the WebSocket upgrade with HTTP {status}"
                )?;
                if !reason.is_empty() {
                    write!(f, " {reason}")?;
                }
                Ok(())
            }
            ConnectError::SubprotocolNotAccepted {
                requested,
                answered,
            } => {
                write!(
                    f,
                    "server did not accept WebSocket subprotocol {:?}",
                    requested.join(", ")
                )?;
                match answered {
                    None => write!(f, " (no Sec-WebSocket-Protocol in its answer)"),
                    Some(p) => write!(f, " (it answered {p:?})"),
                }
            }
            ConnectError::Handshake { detail } => write!(f, "WebSocket handshake failed: {detail}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// Why an open connection broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The peer sent a frame or message larger than
    /// [`TransportConfig::max_frame_size`].
    FrameTooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A frame could not be written within
    /// [`TransportConfig::write_timeout`] (the peer stopped reading).
    WriteTimeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The TCP connection failed (reset, broken pipe, closed without a
    /// WebSocket close frame).
    Io {
        /// The I/O error kind.
        kind: io::ErrorKind,
        /// The operating system's message.
        detail: String,
    },
    /// The peer broke the WebSocket protocol.
    Protocol {
        /// tungstenite's message.
        detail: String,
    },
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::FrameTooLarge { size, max } => {
                write!(
                    f,
                    "inbound frame of {size} bytes exceeds the {max}-byte limit"
                )
            }
            TransportError::WriteTimeout { after } => {
                write!(f, "write not completed within {} ms", after.as_millis())
            }
            TransportError::Io { detail, .. } => write!(f, "network error: {detail}"),
            TransportError::Protocol { detail } => write!(f, "WebSocket protocol error: {detail}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// A frame could not be sent (local misuse, or the connection broke).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The frame is larger than [`TransportConfig::max_frame_size`].
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A text frame must be UTF-8.
    NotUtf8,
    /// The connection broke while sending.
    Transport(TransportError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::TooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the {max}-byte limit")
            }
            SendError::NotUtf8 => write!(f, "text frame is not UTF-8"),
            SendError::Transport(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SendError {}

/// Data frame types of RFC 6455 that carry SIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Opcode 0x1, UTF-8 text (how SIP is normally sent).
    Text,
    /// Opcode 0x2, binary.
    Binary,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReport {
    /// The close code (1006 when no close frame was received).
    pub code: u16,
    /// The close reason sent by the peer (empty if none).
    pub reason: String,
    /// Whether a close frame was received.
    pub clean: bool,
    /// The error that ended the connection, if any.
    pub error: Option<TransportError>,
}

impl CloseReport {
    fn abnormal(error: Option<TransportError>) -> Self {
        CloseReport {
            code: ABNORMAL_CLOSE,
            reason: String::new(),
            clean: false,
            error,
        }
    }
}

/// Something that arrived on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A data frame (a SIP message or a CRLF keepalive).
    Frame {
        /// Its payload.
        data: Bytes,
        /// Text or binary.
        kind: FrameKind,
    },
    /// A WebSocket Pong frame (answer to [`WsConnection::ping`]).
    Pong,
    /// The connection is over; nothing more will arrive.
    Closed(CloseReport),
}

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens SIP-over-WebSocket connections. Build one per driver and share
/// it: it holds the TLS client configuration.
#[derive(Clone)]
pub struct Transport {
    config: TransportConfig,
    tls: Arc<ClientConfig>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport with these settings; fails only on an unusable TLS
    /// setting (unreadable CA file).
    pub fn new(config: TransportConfig) -> Result<Self, TlsConfigError> {
        let tls = config.tls.client_config()?;
        Ok(Transport { config, tls })
    }

    /// Its settings.
    #[must_use]
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Opens a WebSocket to `url` asking for `protocols` (normally
    /// `["sip"]`), within [`TransportConfig::connect_timeout`]. The server
    /// must accept one of them.
    pub async fn connect(
        &self,
        url: &str,
        protocols: &[String],
    ) -> Result<WsConnection, ConnectError> {
        let after = self.config.connect_timeout;
        let shown = redact(url);
        tracing::debug!(url = %shown, ?protocols, "connecting");
        let result = match tokio::time::timeout(after, self.connect_inner(url, protocols)).await {
            Ok(result) => result,
            Err(_) => Err(ConnectError::Timeout { after }),
        };
        match &result {
            Ok(conn) => tracing::debug!(url = %shown, protocol = %conn.protocol, "handshake done"),
            Err(e) => tracing::debug!(url = %shown, error = %e, "connect failed"),
        }
        result
    }

    async fn connect_inner(
        &self,
        url: &str,
        protocols: &[String],
    ) -> Result<WsConnection, ConnectError> {
        let invalid = |reason: String| ConnectError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let mut request = url
            .into_client_request()
            .map_err(|e| invalid(e.to_string()))?;
        let uri = request.uri().clone();
        let secure = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            _ => return Err(invalid("scheme must be ws or wss".into())),
        };
        let host = uri
            .host()
            .ok_or_else(|| invalid("no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        if !protocols.is_empty() {
            let value = HeaderValue::from_str(&protocols.join(", "))
                .map_err(|_| invalid("protocol names are not valid header text".into()))?;
            request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
        }

        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(connect_io_error)?;
        tcp.set_nodelay(true).map_err(connect_io_error)?;
        let connector = if secure {
            Connector::Rustls(self.tls.clone())
        } else {
            Connector::Plain
        };
        let (ws, response) = tokio_tungstenite::client_async_tls_with_config(
            request,
            tcp,
            Some(self.config.websocket_config()),
            Some(connector),
        )
        .await
        .map_err(|e| handshake_error(e, protocols))?;
        let answered = response
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let protocol = match answered {
            Some(p) if protocols.is_empty() || protocols.contains(&p) => p,
            None if protocols.is_empty() => String::new(),
            answered => {
                return Err(ConnectError::SubprotocolNotAccepted {
                    requested: protocols.to_vec(),
                    answered,
                })
            }
        };
        Ok(WsConnection {
            ws,
            protocol,
            max_frame_size: self.config.max_frame_size,
            write_timeout: self.config.write_timeout,
        })
    }
}

/// `url` without a `user:password@` part, for logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

fn connect_io_error(e: io::Error) -> ConnectError {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        ConnectError::Refused {
            detail: e.to_string(),
        }
    } else {
        ConnectError::Io {
            kind: e.kind(),
            detail: e.to_string(),
        }
    }
}

fn handshake_error(e: WsError, protocols: &[String]) -> ConnectError {
    match e {
        WsError::Http(response) => ConnectError::HttpStatus {
            status: response.status().as_u16(),
            reason: response
                .status()
                .canonical_reason()
                .unwrap_or_default()
                .to_owned(),
        },
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(kind)) => {
            ConnectError::SubprotocolNotAccepted {
                requested: protocols.to_vec(),
                answered: match kind {
                    SubProtocolError::NoSubProtocol => None,
                    _ => Some("(a protocol not requested)".into()),
                },
            }
        }
        WsError::Tls(e) => ConnectError::Tls {
            detail: e.to_string(),
        },
        // tokio-tungstenite reports rustls handshake failures as I/O errors
        // carrying the rustls error.
        WsError::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
            ConnectError::Tls {
                detail: e.to_string(),
            }
        }
        WsError::Io(e) => connect_io_error(e),
        WsError::Url(UrlError::UnsupportedUrlScheme) => ConnectError::InvalidUrl {
            url: String::new(),
            reason: "scheme must be ws or wss".into(),
        },
        other => ConnectError::Handshake {
            detail: other.to_string(),
        },
    }
}

/// One open SIP-over-WebSocket connection.
pub struct WsConnection {
    ws: Stream,
    protocol: String,
    max_frame_size: usize,
    write_timeout: Duration,
}

impl fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnection")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl WsConnection {
    /// The subprotocol the server accepted (`"sip"`).
    #[must_use]
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Waits for the next frame or the end of the connection. Cancel-safe:
    /// use it in `tokio::select!`. WebSocket Ping frames are answered
    /// inside (the Pong is written and flushed here) and not reported.
    pub async fn recv(&mut self) -> Inbound {
        loop {
            let Some(item) = self.ws.next().await else {
                return Inbound::Closed(CloseReport::abnormal(None));
            };
            match item {
                Ok(Message::Text(text)) => {
                    tracing::trace!(bytes = text.len(), "text frame received");
                    return Inbound::Frame {
                        data: Bytes::from(text),
                        kind: FrameKind::Text,
                    };
                }
                Ok(Message::Binary(data)) => {
                    tracing::trace!(bytes = data.len(), "binary frame received");
                    return Inbound::Frame {
                        data,
                        kind: FrameKind::Binary,
                    };
                }
                Ok(Message::Pong(_)) => return Inbound::Pong,
                Ok(Message::Ping(_)) => {
                    // tungstenite queued the Pong; push it out now.
                    if let Err(e) = self.flush().await {
                        return Inbound::Closed(CloseReport::abnormal(Some(e)));
                    }
                }
                Ok(Message::Close(frame)) => {
                    tracing::debug!(
                        code = frame.as_ref().map(|f| u16::from(f.code)),
                        "close frame received"
                    );
                    // tungstenite has answered the close; finish it.
                    let _ = self.flush().await;
                    return Inbound::Closed(match frame {
                        Some(f) => CloseReport {
                            code: u16::from(f.code),
                            reason: f.reason.to_string(),
                            clean: true,
                            error: None,
                        },
                        None => CloseReport {
                            code: 1005,
                            reason: String::new(),
                            clean: true,
                            error: None,
                        },
                    });
                }
                Ok(Message::Frame(_)) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "connection broken");
                    return Inbound::Closed(CloseReport::abnormal(transport_error(e)));
                }
            }
        }
    }

    /// Sends one data frame and flushes it.
    pub async fn send(&mut self, data: Bytes, kind: FrameKind) -> Result<(), SendError> {
        if data.len() > self.max_frame_size {
            return Err(SendError::TooLarge {
                size: data.len(),
                max: self.max_frame_size,
            });
        }
        tracing::trace!(bytes = data.len(), ?kind, "sending frame");
        let message = match kind {
            FrameKind::Text => {
                Message::Text(Utf8Bytes::try_from(data).map_err(|_| SendError::NotUtf8)?)
            }
            FrameKind::Binary => Message::Binary(data),
        };
        self.write(message).await.map_err(SendError::Transport)
    }

    /// Sends a WebSocket Ping frame (a native-only liveness probe; the
    /// answer arrives as [`Inbound::Pong`]).
    pub async fn ping(&mut self) -> Result<(), TransportError> {
        self.write(Message::Ping(Bytes::new())).await
    }

    /// Starts the closing handshake with `code` and `reason`. The close
    /// completes when [`recv`](Self::recv) reports [`Inbound::Closed`] or
    /// the connection is dropped.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), TransportError> {
        tracing::debug!(code, reason, "closing");
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: Utf8Bytes::from(reason),
        };
        self.write(Message::Close(Some(frame))).await
    }

    async fn write(&mut self, message: Message) -> Result<(), TransportError> {
        let after = self.write_timeout;
        match tokio::time::timeout(after, self.ws.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(transport_error(e).unwrap_or(TransportError::Io {
                kind: io::ErrorKind::NotConnected,
                detail: "connection closed".into(),
            })),
            Err(_) => Err(TransportError::WriteTimeout { after }),
        }
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        let after = self.write_timeout;
        match tokio::time::timeout(after, self.ws.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(transport_error(e).unwrap_or(TransportError::Io {
                kind: io::ErrorKind::NotConnected,
                detail: "connection closed".into(),
            })),
            Err(_) => Err(TransportError::WriteTimeout { after }),
        }
    }
}

/// Maps a tungstenite error on an open connection; `None` for an orderly
/// end (the close handshake already reported).
fn transport_error(e: WsError) -> Option<TransportError> {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => None,
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            Some(TransportError::FrameTooLarge {
                size,
                max: max_size,
            })
        }
        WsError::Io(e) => Some(TransportError::Io {
            kind: e.kind(),
            detail: e.to_string(),
        }),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            Some(TransportError::Io {
                kind: io::ErrorKind::ConnectionReset,
                detail: "connection closed without a WebSocket close frame".into(),
            })
        }
        other => Some(TransportError::Protocol {
            detail: other.to_string(),
        }),
    }
}
