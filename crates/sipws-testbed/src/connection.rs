//! One open WebSocket connection: CRLF keepalive answers, the per-frame
//! faults, and the one-shot commands from the handle.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use sipws_core::codec::Codec;

use crate::{Command, ConnFaults, ConnId, Faults, PongWithheld, Shared, TestbedEvent};

const CRLF_PING: &[u8] = b"\r\n\r\n";
const CRLF_PONG: &[u8] = b"\r\n";

struct Conn<'a, S> {
    ws: WebSocketStream<S>,
    id: ConnId,
    codec: Codec,
    shared: &'a Shared,
    commands: mpsc::UnboundedSender<Command>,
    /// The standing faults, as last seen.
    standing: Faults,
    /// This connection's overrides.
    overrides: ConnFaults,
    /// The faults in force: `standing` with `overrides` applied.
    faults: Faults,
    pings: u32,
    /// Opcode of the last ping, used for its (possibly delayed) pong.
    last_ping_text: bool,
}

/// Serves one connection until it ends; returns why it ended.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    ws: WebSocketStream<S>,
    id: ConnId,
    codec: Codec,
    shared: &Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) -> String {
    let mut faults_rx = shared.faults.subscribe();
    let standing = faults_rx.borrow_and_update().clone();
    let mut conn = Conn {
        ws,
        id,
        codec,
        shared,
        commands,
        faults: standing.clone(),
        standing,
        overrides: ConnFaults::default(),
        pings: 0,
        last_ping_text: true,
    };
    if conn.faults.stop_reading {
        shared.emit(TestbedEvent::ReadingStopped { conn: id });
    }
    loop {
        let reading = !conn.faults.stop_reading;
        tokio::select! {
            command = rx.recv() => {
                let Some(command) = command else { return "testbed stopped".into() };
                if let Some(end) = conn.command(command).await {
                    return end;
                }
            }
            changed = faults_rx.changed() => {
                if changed.is_err() {
                    return "testbed stopped".into();
                }
                conn.standing = faults_rx.borrow_and_update().clone();
                conn.refresh_faults();
            }
            item = conn.ws.next(), if reading => {
                if let Some(end) = conn.inbound(item).await {
                    return end;
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    fn emit(&self, event: TestbedEvent) {
        self.shared.emit(event);
    }

    /// Recomputes the faults in force after a change of the standing
    /// faults or of the overrides.
    fn refresh_faults(&mut self) {
        let faults = self.overrides.apply(&self.standing);
        if faults != self.faults {
            tracing::debug!(conn = %self.id, ?faults, "faults in force");
        }
        if faults.stop_reading != self.faults.stop_reading {
            self.emit(if faults.stop_reading {
                TestbedEvent::ReadingStopped { conn: self.id }
            } else {
                TestbedEvent::ReadingResumed { conn: self.id }
            });
        }
        self.faults = faults;
    }

    /// Runs a command; `Some(reason)` when the connection is over.
    async fn command(&mut self, command: Command) -> Option<String> {
        let id = self.id;
        match command {
            Command::Override(overrides) => {
                self.overrides = overrides;
                self.refresh_faults();
                None
            }
            Command::DropAbnormally => {
                tracing::debug!(conn = %id, "fault: dropping the connection (1006)");
                self.emit(TestbedEvent::DroppedAbnormally { conn: id });
                Some("dropped without close frame (1006)".into())
            }
            Command::Close(code, reason) => {
                tracing::debug!(conn = %id, code, "fault: closing with a code");
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: Utf8Bytes::from(reason),
                };
                if self.ws.send(Message::Close(Some(frame))).await.is_err() {
                    return Some("write failed".into());
                }
                self.emit(TestbedEvent::CloseSent { conn: id, code });
                // Wait (bounded) for the client's close answer, then go.
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(m)) = self.ws.next().await {
                        if let Message::Close(f) = m {
                            let code = f.map_or(1005, |f| u16::from(f.code));
                            self.shared
                                .emit(TestbedEvent::CloseReceived { conn: id, code });
                            break;
                        }
                    }
                })
                .await;
                Some(format!("closed by testbed with {code}"))
            }
            Command::Send(data, text) => {
                let len = data.len();
                if self.write(data, text).await.is_err() {
                    return Some("write failed".into());
                }
                self.emit(TestbedEvent::FrameSent { conn: id, len });
                None
            }
            Command::WsPing(payload) => {
                if self
                    .ws
                    .send(Message::Ping(Bytes::from(payload)))
                    .await
                    .is_err()
                {
                    return Some("write failed".into());
                }
                None
            }
            Command::Pong(delay) => {
                if self
                    .write(CRLF_PONG.to_vec(), self.last_ping_text)
                    .await
                    .is_err()
                {
                    return Some("write failed".into());
                }
                self.emit(TestbedEvent::PongSent { conn: id, delay });
                None
            }
        }
    }

    async fn write(&mut self, data: Vec<u8>, text: bool) -> Result<(), ()> {
        let message = if text {
            match String::from_utf8(data) {
                Ok(t) => Message::Text(Utf8Bytes::from(t)),
                Err(e) => Message::Binary(Bytes::from(e.into_bytes())),
            }
        } else {
            Message::Binary(Bytes::from(data))
        };
        self.ws.send(message).await.map_err(|_| ())
    }

    /// Handles what the socket produced; `Some(reason)` when it is over.
    async fn inbound(
        &mut self,
        item: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Option<String> {
        let id = self.id;
        let message = match item {
            None => return Some("client went away".into()),
            Some(Err(e)) => return Some(format!("connection error: {e}")),
            Some(Ok(m)) => m,
        };
        match message {
            Message::Text(t) => self.frame(Bytes::from(t), true).await,
            Message::Binary(b) => self.frame(b, false).await,
            Message::Ping(_) => {
                self.emit(TestbedEvent::WsPingReceived { conn: id });
                // tungstenite queued the Pong; flush it out.
                if self.ws.flush().await.is_err() {
                    return Some("write failed".into());
                }
                None
            }
            Message::Close(f) => {
                let code = f.map_or(1005, |f| u16::from(f.code));
                self.emit(TestbedEvent::CloseReceived { conn: id, code });
                let _ = self.ws.flush().await;
                Some(format!("closed by client with {code}"))
            }
            Message::Pong(payload) => {
                self.emit(TestbedEvent::WsPongReceived {
                    conn: id,
                    payload: payload.to_vec(),
                });
                None
            }
            Message::Frame(_) => None,
        }
    }

    async fn frame(&mut self, data: Bytes, text: bool) -> Option<String> {
        let id = self.id;
        tracing::trace!(conn = %id, len = data.len(), text, "frame received");
        if data.as_ref() == CRLF_PING {
            self.pings = self.pings.saturating_add(1);
            self.last_ping_text = text;
            self.emit(TestbedEvent::PingReceived {
                conn: id,
                count: self.pings,
            });
            return self.answer_ping().await;
        }
        if data.as_ref() == CRLF_PONG {
            self.emit(TestbedEvent::PongReceived { conn: id });
            return None;
        }
        on_sip_frame(self.shared, id, self.codec, &data, text);
        None
    }

    async fn answer_ping(&mut self) -> Option<String> {
        let id = self.id;
        if self.faults.drop_pongs {
            tracing::debug!(conn = %id, ping = self.pings, "fault: pong dropped");
            self.emit(TestbedEvent::PongWithheld {
                conn: id,
                reason: PongWithheld::DropPongs,
            });
            return None;
        }
        if self
            .faults
            .answer_first_pings
            .is_some_and(|n| self.pings > n)
        {
            tracing::debug!(conn = %id, ping = self.pings, "fault: ping budget spent, no pong");
            self.emit(TestbedEvent::PongWithheld {
                conn: id,
                reason: PongWithheld::PingBudgetSpent,
            });
            return None;
        }
        match self.faults.pong_delay {
            Some(delay) if !delay.is_zero() => {
                tracing::debug!(conn = %id, ping = self.pings, ?delay, "fault: pong delayed");
                let tx = self.commands.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Command::Pong(delay));
                });
                None
            }
            _ => self.command(Command::Pong(Duration::ZERO)).await,
        }
    }
}

/// Where SIP messages go: reported, then handed to the SIP services
/// (registrar, relay, scripted peer).
fn on_sip_frame(shared: &Shared, conn: ConnId, codec: Codec, data: &[u8], text: bool) {
    shared.emit(TestbedEvent::FrameReceived {
        conn,
        data: data.to_vec(),
        text,
    });
    crate::sip::on_frame(shared, conn, codec, data);
}
