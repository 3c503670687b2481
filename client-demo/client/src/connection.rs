//! A WebSocket connection to a match over `ws://` or `wss://`: connect with a token, send
//! inputs and pings, receive snapshots into a [`Mirror`], measure RTT and bytes received, and
//! reconnect to the same entity after a drop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use shared::codec::{decode_server, encode_client};
use shared::protocol::{
    BEARER_SUBPROTOCOL_PREFIX, ClientMsg, GameEvent, Input, MatchEnded, SUBPROTOCOL, ServerMsg,
    Welcome,
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

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
    /// `Sec-WebSocket-Protocol: tickwire.v3, tickwire.bearer.<jwt>` (what browsers must use).
    Subprotocol,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub transport: TokenTransport,
    /// For `wss://`: the TLS settings (which roots to trust). `None` trusts the webpki roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Kernel receive buffer to ask for (tests use a small one to play a slow client).
    #[cfg(feature = "test-hooks")]
    pub recv_buffer: Option<u32>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            transport: TokenTransport::Header,
            tls: None,
            #[cfg(feature = "test-hooks")]
            recv_buffer: None,
        }
    }
}

/// Where [`Connection::rejoin`] got the player back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejoined {
    /// The same match (and, within the reconnect grace, the same entity).
    SameMatch,
    /// The old match was gone, so matchmaking found another.
    NewMatch,
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

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where and how a connection was opened, to open it again.
#[derive(Debug, Clone)]
struct Target {
    ws_url: String,
    token: String,
    opts: ConnectOptions,
}

/// An open connection to one match.
pub struct Connection {
    ws: Socket,
    target: Target,
    /// The Welcome, with `tick_rate` and `snapshot_interval` kept current by MatchSettings.
    pub welcome: Welcome,
    pub mirror: Mirror,
    next_seq: u32,
    view_tick: Option<u32>,
    epoch: Instant,
    rtt: Option<Duration>,
    bytes_received: u64,
    snapshots_received: u64,
}

impl Connection {
    /// Connects to `ws_url` (`ws://` or `wss://`) with `token` and waits for the Welcome.
    pub async fn connect(
        ws_url: &str,
        token: &str,
        opts: ConnectOptions,
    ) -> Result<Connection, ClientError> {
        let target = Target {
            ws_url: ws_url.to_owned(),
            token: token.to_owned(),
            opts,
        };
        let (ws, welcome, bytes_received) = open(&target).await?;
        let mirror = Mirror::new(welcome.arena.clone(), welcome.tick_rate);
        Ok(Connection {
            ws,
            target,
            welcome,
            mirror,
            next_seq: 1,
            view_tick: None,
            epoch: Instant::now(),
            rtt: None,
            bytes_received,
            snapshots_received: 0,
        })
    }

    /// Opens the connection again with the same URL, token and options, retrying transient
    /// failures as [`connect_with_retry`] does until `give_up_after`. Within the server's
    /// reconnect grace the player gets their entity back; the mirror starts afresh from the
    /// new Welcome and its full snapshot.
    pub async fn reconnect(&mut self, give_up_after: Duration) -> Result<(), ClientError> {
        let t = self.target.clone();
        let fresh =
            connect_with_retry(&t.ws_url, &t.token, t.opts, give_up_after, |_, _| {}).await?;
        let bytes = self.bytes_received;
        *self = Connection {
            bytes_received: bytes + fresh.bytes_received,
            ..fresh
        };
        Ok(())
    }

    /// Gets back into play after a drop, in a cluster or not. Tries the match's address; when
    /// that fails, asks `api` (any node) where the match runs now and tries there, with backoff
    /// (100 ms doubling to 2 s), until `give_up_after`. Once the match is gone (ended, or its
    /// node died and left the cluster), matchmakes again with the same token and joins the new
    /// match. Says which of the two happened.
    pub async fn rejoin(
        &mut self,
        api: &crate::Api,
        give_up_after: Duration,
    ) -> Result<Rejoined, ClientError> {
        let deadline = tokio::time::Instant::now() + give_up_after;
        let t = self.target.clone();
        let mut url = t.ws_url.clone();
        let mut delay = Duration::from_millis(100);
        let (fresh, how) = loop {
            let failed = match Connection::connect(&url, &t.token, t.opts.clone()).await {
                Ok(c) => break (c, Rejoined::SameMatch),
                Err(e) if e.is_transient() || e.status() == Some(404) => e,
                Err(e) => return Err(e),
            };
            match api.match_status(&self.welcome.match_id).await {
                Ok(Some(m)) => url = m.ws_url.unwrap_or(url),
                Ok(None) => {
                    let ticket = api.matchmake(&t.token).await?;
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    let c = connect_with_retry(
                        &ticket.ws_url,
                        &t.token,
                        t.opts.clone(),
                        left,
                        |_, _| {},
                    )
                    .await?;
                    break (c, Rejoined::NewMatch);
                }
                // The node asked is away too: keep trying until the deadline.
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() + delay >= deadline {
                return Err(failed);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        };
        let bytes = self.bytes_received;
        *self = Connection {
            bytes_received: bytes + fresh.bytes_received,
            ..fresh
        };
        Ok(how)
    }

    /// Says which server tick the game is showing the other players at (its interpolation
    /// point, e.g. [`crate::interp::Interpolator::view_tick`]); every input carries it so the
    /// server tests this player's shots against what was on screen. Until a game sets it,
    /// inputs carry the newest snapshot's tick (a game that draws snapshots as they come).
    pub fn set_view_tick(&mut self, tick: u32) {
        self.view_tick = Some(tick);
    }

    /// Sends one input with the next sequence number; returns that number.
    pub async fn send_input(&mut self, buttons: u8, aim: u16) -> Result<u32, ClientError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let view_tick = self.view_tick.unwrap_or(self.mirror.tick());
        self.send(&ClientMsg::Input(Input {
            seq,
            buttons,
            aim,
            view_tick,
        }))
        .await?;
        Ok(seq)
    }

    /// Sends a ping stamped with the time since connecting.
    pub async fn send_ping(&mut self) -> Result<(), ClientError> {
        let client_time = self.epoch.elapsed().as_micros() as u64;
        self.send(&ClientMsg::Ping { client_time }).await
    }

    async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        self.send_message(Message::Binary(encode_client(msg).into()))
            .await
    }

    async fn send_message(&mut self, msg: Message) -> Result<(), ClientError> {
        Ok(self.ws.send(msg).await?)
    }

    /// Sends any WebSocket message (tests use it for malformed input).
    #[cfg(feature = "test-hooks")]
    pub async fn send_raw(&mut self, msg: Message) -> Result<(), ClientError> {
        self.send_message(msg).await
    }

    /// Writes bytes straight to the socket, bypassing WebSocket framing (tests use it to send
    /// broken frames).
    #[cfg(feature = "test-hooks")]
    pub async fn write_raw_bytes(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        use tokio::io::AsyncWriteExt;
        Ok(self.ws.get_mut().write_all(bytes).await?)
    }

    /// Ends the TCP connection without a close frame, as a lost network would (the server
    /// holds the player for its reconnect grace).
    #[cfg(feature = "test-hooks")]
    pub async fn sever(&mut self) {
        use tokio::io::AsyncWriteExt;
        let _ = self.ws.get_mut().shutdown().await;
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
                let tick = self.mirror.apply(&snap)?;
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
            ServerMsg::Welcome(_) => Err(ClientError::Unexpected("a second Welcome")),
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
        match Connection::connect(ws_url, token, opts.clone()).await {
            Ok(c) => return Ok(c),
            Err(e) if e.is_transient() && tokio::time::Instant::now() + delay < deadline => {
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
async fn recv_msg(ws: &mut Socket, bytes_received: &mut u64) -> Result<ServerMsg, ClientError> {
    loop {
        let frame = ws.next().await;
        match frame {
            Some(Ok(Message::Binary(data))) => {
                *bytes_received += data.len() as u64;
                return Ok(decode_server(&data)?);
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                });
                return Err(ClientError::Closed { code, reason });
            }
            Some(Ok(Message::Text(_))) => {
                return Err(ClientError::Unexpected("a text frame from the server"));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => {
                return Err(ClientError::Closed {
                    code: 1006,
                    reason: "connection dropped".into(),
                });
            }
        }
    }
}

/// Resolves the target, connects (TLS for `wss://`), upgrades with the token, and reads the
/// Welcome. Returns the socket, the Welcome and the payload bytes read.
async fn open(t: &Target) -> Result<(Socket, Welcome, u64), ClientError> {
    let mut request = t.ws_url.as_str().into_client_request()?;
    let header = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| ClientError::BadUrl("token is not a header value".into()))
    };
    let protocols = match t.opts.transport {
        TokenTransport::Header => {
            let bearer = header(&format!("Bearer {}", t.token))?;
            request.headers_mut().insert("authorization", bearer);
            SUBPROTOCOL.to_owned()
        }
        TokenTransport::Subprotocol => {
            format!("{SUBPROTOCOL}, {BEARER_SUBPROTOCOL_PREFIX}{}", t.token)
        }
    };
    request
        .headers_mut()
        .insert("sec-websocket-protocol", header(&protocols)?);
    let uri = request.uri();
    let tls = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => {
            return Err(ClientError::BadUrl(format!(
                "{}: not ws:// or wss://",
                t.ws_url
            )));
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| ClientError::BadUrl(format!("{}: no host", t.ws_url)))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let addr = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .ok_or_else(|| ClientError::BadUrl(format!("{host}: no address")))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }?;
    #[cfg(feature = "test-hooks")]
    if let Some(size) = t.opts.recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let connector = match (&t.opts.tls, tls) {
        (Some(own), true) => Some(Connector::Rustls(own.clone())),
        // The webpki roots (tokio-tungstenite's default for wss://), or no TLS for ws://.
        (None, true) => None,
        (_, false) => Some(Connector::Plain),
    };
    let (mut ws, _resp) =
        tokio_tungstenite::client_async_tls_with_config(request, stream, Some(config), connector)
            .await?;
    let mut bytes_received = 0;
    match recv_msg(&mut ws, &mut bytes_received).await? {
        ServerMsg::Welcome(w) => Ok((ws, w, bytes_received)),
        _ => Err(ClientError::Unexpected("a message before the Welcome")),
    }
}
