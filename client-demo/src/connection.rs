//! A WebSocket connection to a match: connect with a token, send inputs and pings, receive
//! snapshots into a [`Mirror`], and measure RTT and bytes received.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use shared::codec::{decode_server, encode_client};
use shared::protocol::{
    BEARER_SUBPROTOCOL_PREFIX, ClientMsg, GameEvent, Input, MatchEnded, SUBPROTOCOL, ServerMsg,
    Welcome,
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::error::ClientError;
use shared::mirror::Mirror;

/// Bytes tungstenite reads into per `read` call. Its default (128 KiB) is zero-filled before
/// every read: 38 % of the bots' CPU under 1,200 of them (perf: `memset`). Snapshots are tens of
/// bytes; a larger message (a full snapshot of a big match) still arrives over several reads.
const READ_BUFFER: usize = 4096;

/// How the token reaches the server at the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTransport {
    /// `Authorization: Bearer <jwt>` (native clients).
    Header,
    /// `Sec-WebSocket-Protocol: tickwire.v2, tickwire.bearer.<jwt>` (what browsers must use).
    Subprotocol,
}

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    pub transport: TokenTransport,
    /// Kernel receive buffer to ask for (tests use a small one to play a slow client).
    pub recv_buffer: Option<u32>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            transport: TokenTransport::Header,
            recv_buffer: None,
        }
    }
}

/// Something the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A snapshot was applied to the mirror; its events are passed on.
    Snapshot {
        tick: u32,
        events: Vec<GameEvent>,
    },
    /// A pong arrived; the RTT is in [`Connection::rtt`].
    Pong,
    MatchEnded(MatchEnded),
    /// An operator changed the match's timing from `tick` on; `welcome` now holds the new values.
    Settings {
        tick: u32,
        tick_rate: u16,
        snapshot_interval: u16,
    },
    /// The server closed the connection.
    Closed {
        code: u16,
        reason: String,
    },
}

/// An open connection to one match.
pub struct Connection {
    ws: WebSocketStream<TcpStream>,
    /// The Welcome, with `tick_rate` and `snapshot_interval` kept current by MatchSettings.
    pub welcome: Welcome,
    pub mirror: Mirror,
    next_seq: u32,
    epoch: Instant,
    rtt: Option<Duration>,
    bytes_received: u64,
    snapshots_received: u64,
}

fn ws_err(e: WsError) -> ClientError {
    match e {
        WsError::Http(resp) => ClientError::Status {
            status: resp.status().as_u16(),
            body: resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        },
        other => ClientError::WebSocket(other.to_string()),
    }
}

impl Connection {
    /// Connects to `ws_url` with `token` and waits for the Welcome.
    pub async fn connect(
        ws_url: &str,
        token: &str,
        opts: ConnectOptions,
    ) -> Result<Connection, ClientError> {
        let mut request = ws_url
            .into_client_request()
            .map_err(|e| ClientError::WebSocket(e.to_string()))?;
        let protocols = match opts.transport {
            TokenTransport::Header => {
                let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|e| ClientError::WebSocket(e.to_string()))?;
                request.headers_mut().insert("authorization", bearer);
                SUBPROTOCOL.to_owned()
            }
            TokenTransport::Subprotocol => {
                format!("{SUBPROTOCOL}, {BEARER_SUBPROTOCOL_PREFIX}{token}")
            }
        };
        let protocols =
            HeaderValue::from_str(&protocols).map_err(|e| ClientError::WebSocket(e.to_string()))?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols);
        let host = request.uri().host().unwrap_or("127.0.0.1").to_owned();
        let port = request.uri().port_u16().unwrap_or(80);
        let addr = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| ClientError::WebSocket(e.to_string()))?
            .next()
            .ok_or_else(|| ClientError::WebSocket(format!("no address for {host}")))?;
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| ClientError::WebSocket(e.to_string()))?;
        if let Some(size) = opts.recv_buffer {
            socket
                .set_recv_buffer_size(size)
                .map_err(|e| ClientError::WebSocket(e.to_string()))?;
        }
        let stream = socket
            .connect(addr)
            .await
            .map_err(|e| ClientError::WebSocket(e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| ClientError::WebSocket(e.to_string()))?;
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        let (mut ws, _resp) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(ws_err)?;
        let mut bytes_received = 0;
        let welcome = match recv_msg(&mut ws, &mut bytes_received).await? {
            ServerMsg::Welcome(w) => w,
            other => {
                return Err(ClientError::Protocol(format!(
                    "expected Welcome, got {other:?}"
                )));
            }
        };
        let mirror = Mirror::new(welcome.arena.clone(), welcome.tick_rate);
        Ok(Connection {
            ws,
            welcome,
            mirror,
            next_seq: 1,
            epoch: Instant::now(),
            rtt: None,
            bytes_received,
            snapshots_received: 0,
        })
    }

    /// Sends one input with the next sequence number; returns that number.
    pub async fn send_input(&mut self, buttons: u8, aim: u16) -> Result<u32, ClientError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.send(&ClientMsg::Input(Input { seq, buttons, aim }))
            .await?;
        Ok(seq)
    }

    /// Sends a ping stamped with the time since connecting.
    pub async fn send_ping(&mut self) -> Result<(), ClientError> {
        let client_time = self.epoch.elapsed().as_micros() as u64;
        self.send(&ClientMsg::Ping { client_time }).await
    }

    async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        self.send_raw(Message::Binary(encode_client(msg).into()))
            .await
    }

    /// Sends any WebSocket message (tests use it for malformed input).
    pub async fn send_raw(&mut self, msg: Message) -> Result<(), ClientError> {
        self.ws
            .send(msg)
            .await
            .map_err(|e| ClientError::WebSocket(e.to_string()))
    }

    /// Writes bytes straight to the socket, bypassing WebSocket framing (tests use it to send
    /// broken frames).
    pub async fn write_raw_bytes(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        use tokio::io::AsyncWriteExt;
        let stream = self.ws.get_mut();
        stream
            .write_all(bytes)
            .await
            .map_err(|e| ClientError::WebSocket(e.to_string()))
    }

    /// Waits for the next server message, applies it, and says what it was.
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        let msg = match recv_msg(&mut self.ws, &mut self.bytes_received).await {
            Ok(m) => m,
            Err(ClientError::Closed { code, reason }) => return Ok(Event::Closed { code, reason }),
            Err(e) => return Err(e),
        };
        match msg {
            ServerMsg::Snapshot(snap) => {
                let tick = self
                    .mirror
                    .apply(&snap)
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
                self.snapshots_received += 1;
                Ok(Event::Snapshot {
                    tick,
                    events: snap.events,
                })
            }
            ServerMsg::Pong { client_time, .. } => {
                let now = self.epoch.elapsed().as_micros() as u64;
                self.rtt = Some(Duration::from_micros(now.saturating_sub(client_time)));
                Ok(Event::Pong)
            }
            ServerMsg::MatchEnded(m) => Ok(Event::MatchEnded(m)),
            ServerMsg::MatchSettings {
                tick,
                tick_rate,
                snapshot_interval,
            } => {
                self.welcome.tick_rate = tick_rate;
                self.welcome.snapshot_interval = snapshot_interval;
                self.mirror.set_tick_rate(tick_rate);
                Ok(Event::Settings {
                    tick,
                    tick_rate,
                    snapshot_interval,
                })
            }
            ServerMsg::Welcome(_) => Err(ClientError::Protocol("second Welcome".into())),
        }
    }

    /// The last measured round-trip time.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// Payload bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    pub fn snapshots_received(&self) -> u64 {
        self.snapshots_received
    }

    /// Closes politely.
    pub async fn close(mut self) {
        self.close_ref().await;
    }

    /// Closes politely without giving up the value.
    pub async fn close_ref(&mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Whether retrying might help: the network or a momentarily busy server, not a refusal.
pub fn is_transient(e: &ClientError) -> bool {
    match e {
        ClientError::WebSocket(_) | ClientError::Http(_) => true,
        ClientError::Status { status, .. } => *status == 503,
        ClientError::Closed { code, .. } => *code == 1006,
        ClientError::Protocol(_) => false,
    }
}

/// Connects, retrying transient failures with exponential backoff (100 ms doubling to 2 s)
/// until `give_up_after`. Reconnecting with the same token within the server's grace resumes
/// the same entity. `on_retry` hears each failed attempt (to say so on screen).
pub async fn connect_with_retry(
    ws_url: &str,
    token: &str,
    opts: ConnectOptions,
    give_up_after: Duration,
    mut on_retry: impl FnMut(u32, &ClientError),
) -> Result<Connection, ClientError> {
    let deadline = tokio::time::Instant::now() + give_up_after;
    let mut delay = Duration::from_millis(100);
    let mut attempt = 0;
    loop {
        match Connection::connect(ws_url, token, opts).await {
            Ok(c) => return Ok(c),
            Err(e) if is_transient(&e) && tokio::time::Instant::now() + delay < deadline => {
                attempt += 1;
                on_retry(attempt, &e);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads frames until a server message (or a close) arrives.
async fn recv_msg(
    ws: &mut WebSocketStream<TcpStream>,
    bytes_received: &mut u64,
) -> Result<ServerMsg, ClientError> {
    loop {
        let frame = ws.next().await;
        match frame {
            Some(Ok(Message::Binary(data))) => {
                *bytes_received += data.len() as u64;
                return decode_server(&data).map_err(|e| ClientError::Protocol(e.to_string()));
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                });
                return Err(ClientError::Closed { code, reason });
            }
            Some(Ok(Message::Text(_))) => {
                return Err(ClientError::Protocol("text frame from server".into()));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ClientError::WebSocket(e.to_string())),
            None => {
                return Err(ClientError::Closed {
                    code: 1006,
                    reason: "connection dropped".into(),
                });
            }
        }
    }
}
