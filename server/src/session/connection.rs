//! One task per connection: forwards decoded inputs to the match, writes the match's frames,
//! answers pings, and closes with a documented code. Errors end only this connection.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use shared::close_code::CloseCode;
use shared::codec::{decode_client, encode_server};
use shared::ids::{ConnId, PlayerId};
use shared::protocol::{ClientMsg, ServerMsg};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::oneshot;
use tracing::{debug, info};

use crate::game::clients::Joiner;
use crate::game::info::SpectatorPlace;
use crate::game::link::{Flush, Outgoing, with_trailer};
use crate::game::messages::{Command, MatchCmd};
use crate::game::session_link::{self, CloseOrder, SessionEnd, SessionStats};
use crate::game::spectators::Watcher;
use crate::metrics::Metrics;
use crate::per_ip::IpSlot;
use crate::registry::MatchHandle;
use crate::seats::SeatGuard;
use crate::session::rate_limit::{TokenBucket, Verdict};

/// How often the server pings each client (for its RTT).
const PING_EVERY: Duration = Duration::from_secs(1);

/// How long the closing handshake may take (our close frame waiting behind unread data, then
/// the peer's answer) before the socket is dropped anyway.
const CLOSE_LINGER: Duration = Duration::from_secs(5);

/// Everything a connection task needs, gathered during the handshake.
pub struct Session {
    pub conn: ConnId,
    pub handle: Arc<MatchHandle>,
    pub player_id: PlayerId,
    pub name: String,
    pub metrics: Arc<Metrics>,
    pub outbox_frames: usize,
    /// Client messages per second; the excess is dropped and counted.
    pub input_rate_limit: u32,
    /// A peer that sends nothing (not even a pong) for this long is treated as gone.
    pub keepalive_timeout: Duration,
    /// A player's seat or a spectator's place, as the handshake took it.
    pub role: Role,
    /// This connection's place under `max_connections` (given back when the session ends)
    /// and its socket's frame count; none for a session not on a listener's socket.
    pub tcp: Option<crate::listener::Conn>,
}

/// What a connection is in its match.
pub enum Role {
    /// The seat the handshake took (with its address place). It goes to the match with the
    /// Join; if the match never sees us, dropping it gives the seat back.
    Player(SeatGuard),
    /// Watches: no entity, no seat; its inputs are ignored.
    Spectator {
        place: SpectatorPlace,
        ip_slot: Option<IpSlot>,
    },
}

/// How the loop ended.
enum End {
    /// Close with this code.
    Close(CloseCode),
    /// The peer closed the connection properly: it has left.
    Left,
    /// The connection vanished (no close frame, or silent past the keepalive timeout): the
    /// player may come back within the reconnect grace.
    Gone,
}

/// Runs the connection until it closes; the seat taken at the handshake is already ours.
pub async fn run(socket: WebSocket, s: Session) {
    s.metrics.connections.fetch_add(1, Relaxed);
    let (link, end) = session_link::pair(s.outbox_frames);
    let spectator = matches!(s.role, Role::Spectator { .. });
    let enter = match s.role {
        Role::Player(seat) => Command::Join(Joiner {
            conn: s.conn,
            player_id: s.player_id.clone(),
            name: s.name.clone(),
            link,
            seat,
        }),
        Role::Spectator { place, ip_slot } => Command::Watch(Watcher {
            conn: s.conn,
            player_id: s.player_id.clone(),
            name: s.name.clone(),
            link,
            place,
            ip_slot,
        }),
    };
    let mut handler = Handler {
        socket,
        conn: s.conn,
        handle: s.handle,
        player_id: s.player_id,
        metrics: s.metrics,
        end,
        bucket: TokenBucket::new(s.input_rate_limit, Instant::now()),
        keepalive_timeout: s.keepalive_timeout,
        epoch: Instant::now(),
        spectator,
        tcp: s.tcp,
        frames_charged: 0,
    };
    let end = if handler
        .handle
        .inbox
        .send(MatchCmd::apply(enter))
        .await
        .is_err()
    {
        // The match ended before it saw us; the seat went back with the Join.
        End::Close(CloseCode::MatchEnded)
    } else {
        let end = handler.serve().await;
        // The match may already have dropped us (too slow, replaced, ended); then this is ignored.
        let dropped = matches!(end, End::Gone);
        let leave = MatchCmd::apply(Command::Leave {
            conn: handler.conn,
            dropped,
        });
        let _ = handler.handle.inbox.send(leave).await;
        end
    };
    handler.close(end).await;
    handler.metrics.connections.fetch_sub(1, Relaxed);
    debug!(match_id = %handler.handle.id, player_id = %handler.player_id, "connection closed");
}

/// One connection's task state: the socket, the link from its match, and its limits.
struct Handler {
    socket: WebSocket,
    conn: ConnId,
    handle: Arc<MatchHandle>,
    player_id: PlayerId,
    metrics: Arc<Metrics>,
    end: SessionEnd,
    bucket: TokenBucket,
    keepalive_timeout: Duration,
    /// Ping payloads are microseconds since this instant.
    epoch: Instant,
    /// A spectator's inputs go nowhere.
    spectator: bool,
    tcp: Option<crate::listener::Conn>,
    /// Frames already charged to the bucket.
    frames_charged: u64,
}

/// Waits for the match's close order. A link dropped without one (the match ended before it
/// took our Join, or forgot us after our Leave) means the match is over.
async fn close_order(rx: &mut oneshot::Receiver<CloseOrder>) -> CloseOrder {
    rx.await.unwrap_or(CloseOrder {
        code: CloseCode::MatchEnded,
        flush: Flush::Queued,
    })
}

impl Handler {
    async fn serve(&mut self) -> End {
        let mut last_heard = tokio::time::Instant::now();
        // The first ping a period in: nothing to measure before the Welcome.
        let mut pings =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                biased;
                order = close_order(&mut self.end.close) => return self.obey(order).await,
                out = self.end.outbox.recv() => {
                    let Some(out) = out else {
                        // The link is gone: its close order (or its absence) says how to close.
                        let order = close_order(&mut self.end.close).await;
                        return self.obey(order).await;
                    };
                    if let Some(end) = self.write(Message::Binary(frame_of(out))).await {
                        return end;
                    }
                }
                _ = pings.tick() => {
                    if last_heard.elapsed() > self.keepalive_timeout {
                        debug!(match_id = %self.handle.id, player_id = %self.player_id, "no answer within the keepalive timeout");
                        return End::Gone;
                    }
                    let stamp = (self.epoch.elapsed().as_micros() as u64).to_le_bytes();
                    let ping = Message::Ping(Bytes::copy_from_slice(&stamp));
                    if let Some(end) = self.write(ping).await {
                        return end;
                    }
                }
                msg = self.socket.recv() => {
                    last_heard = tokio::time::Instant::now();
                    if let Some(end) = self.read(msg).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Carries out a close order: at once, or after writing what the match queued before it
    /// (for at most `CLOSE_LINGER`: a client that does not read still gets the close).
    async fn obey(&mut self, order: CloseOrder) -> End {
        if order.flush == Flush::Queued {
            let (socket, outbox) = (&mut self.socket, &mut self.end.outbox);
            let (metrics, stats) = (&self.metrics, &self.end.stats);
            let flushed = tokio::time::timeout(CLOSE_LINGER, async {
                while let Ok(out) = outbox.try_recv() {
                    let frame = frame_of(out);
                    let len = frame.len() as u64;
                    socket.send(Message::Binary(frame)).await?;
                    metrics.bytes_out.fetch_add(len, Relaxed);
                    stats.bytes_out.fetch_add(len, Relaxed);
                }
                Ok::<(), axum::Error>(())
            })
            .await;
            if let Ok(Err(e)) = flushed {
                debug!(match_id = %self.handle.id, player_id = %self.player_id, error = %e, "write failed while closing");
                return End::Gone;
            }
        }
        End::Close(order.code)
    }

    /// Ends the connection: the closing handshake for a close we start or the peer started.
    async fn close(&mut self, end: End) {
        if let End::Left = end {
            // The peer started the closing handshake; tungstenite queued our answer (its code
            // echoed, 1002 for a code RFC 6455 §7.4 forbids). Reading on writes that answer and
            // ends the stream, so the peer sees a clean close instead of a dropped TCP connection.
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                while let Some(Ok(_)) = self.socket.recv().await {}
            })
            .await;
        }
        if let End::Close(code) = end {
            let frame = CloseFrame {
                code: code.code(),
                reason: code.reason().into(),
            };
            self.metrics.count_close(code);
            let socket = &mut self.socket;
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                if socket.send(Message::Close(Some(frame))).await.is_ok() {
                    // The closing handshake: read (and drop) until the peer's Close. Closing a
                    // socket with unread input makes the kernel send a reset, which would
                    // destroy our close frame before the peer reads it.
                    while let Some(Ok(_)) = socket.recv().await {}
                }
            })
            .await;
        }
    }

    fn stats(&self) -> &SessionStats {
        &self.end.stats
    }

    /// Writes one message, giving up at once if the match orders a close meanwhile (a
    /// queued-flush order waits for this write like the frames behind it).
    async fn write(&mut self, msg: Message) -> Option<End> {
        let len = match &msg {
            Message::Binary(b) => b.len() as u64,
            _ => 0,
        };
        // A queued-flush order that arrives mid-write waits for this write, then is obeyed.
        let (sent, order) = {
            let send = self.socket.send(msg);
            tokio::pin!(send);
            tokio::select! {
                biased;
                order = close_order(&mut self.end.close) => {
                    if order.flush == Flush::Now {
                        return Some(End::Close(order.code));
                    }
                    (send.await, Some(order))
                }
                sent = &mut send => (sent, None),
            }
        };
        match sent {
            Ok(()) => {
                self.metrics.bytes_out.fetch_add(len, Relaxed);
                self.stats().bytes_out.fetch_add(len, Relaxed);
                match order {
                    Some(order) => Some(self.obey(order).await),
                    None => None,
                }
            }
            Err(_) => Some(End::Gone),
        }
    }
}

/// A text frame, or a binary one that is not a client message: closed with 4000.
fn malformed(m: &Message) -> bool {
    match m {
        Message::Text(_) => true,
        Message::Binary(data) => decode_client(data).is_err(),
        _ => false,
    }
}

/// The bytes of one outgoing frame.
fn frame_of(out: Outgoing) -> Bytes {
    match out {
        Outgoing::Frame(bytes) => bytes,
        Outgoing::Snapshot { body, ack } => with_trailer(&body, ack),
    }
}

impl Handler {
    /// Handles one incoming message.
    async fn read(&mut self, msg: Option<Result<Message, axum::Error>>) -> Option<End> {
        // Every frame counts against the limit, control frames included: a ping costs the server
        // a pong, so a ping flood is closed like any other flood.
        if let Some(Ok(m)) = &msg
            && !matches!(m, Message::Close(_))
        {
            // The socket counted the frames this message (and any control frames before it)
            // came in: fragments cost what whole messages do. A message costs at least one,
            // so the count can only add to the price (frames the socket read ahead were
            // charged with the message they arrived with, and `frames_charged` runs ahead of
            // the count until it catches up).
            let n = match &self.tcp {
                Some(c) => {
                    let new = c.watch.frames().saturating_sub(self.frames_charged).max(1);
                    self.frames_charged += new;
                    new.min(1024) as u32
                }
                None => 1,
            };
            let (verdict, refused) = self.bucket.check_n(n, Instant::now());
            // Counted per refused frame, as the budget is.
            self.metrics
                .messages_rate_limited
                .fetch_add(u64::from(refused), Relaxed);
            match verdict {
                Verdict::Allow => {}
                Verdict::Drop => return None,
                // A message that is itself malformed closes with 4000 whatever the count: the
                // frames read ahead of it (charged with it) must not decide which code it gets.
                Verdict::Close if malformed(m) => {
                    info!(match_id = %self.handle.id, player_id = %self.player_id, "malformed message in a flood: protocol error");
                    return Some(End::Close(CloseCode::ProtocolError));
                }
                Verdict::Close => {
                    info!(match_id = %self.handle.id, player_id = %self.player_id, "sustained flood: rate limited");
                    return Some(End::Close(CloseCode::RateLimited));
                }
            }
        }
        let data = match msg {
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(Message::Text(_))) => {
                info!(match_id = %self.handle.id, player_id = %self.player_id, "text frame: protocol error");
                return Some(End::Close(CloseCode::ProtocolError));
            }
            // An answer to our ping carries the time we sent it.
            Some(Ok(Message::Pong(stamp))) => {
                if let Ok(sent) = <[u8; 8]>::try_from(stamp.as_ref()) {
                    let rtt = (self.epoch.elapsed().as_micros() as u64)
                        .saturating_sub(u64::from_le_bytes(sent));
                    self.stats().rtt_us.store(rtt.max(1), Relaxed);
                }
                return None;
            }
            // tungstenite answers pings itself (one pong pending at a time; see WRITE_BUFFER_CAP).
            Some(Ok(Message::Ping(_))) => return None,
            Some(Ok(Message::Close(_))) => return Some(End::Left),
            None => return Some(End::Gone),
            Some(Err(_)) if self.tcp.as_ref().is_some_and(|c| c.watch.too_fragmented()) => {
                info!(match_id = %self.handle.id, player_id = %self.player_id, "a message in too many fragments: protocol error");
                return Some(End::Close(CloseCode::ProtocolError));
            }
            Some(Err(e)) => {
                debug!(match_id = %self.handle.id, player_id = %self.player_id, error = %e, "read error");
                return Some(if is_peer_gone(e) {
                    End::Gone
                } else {
                    End::Close(CloseCode::ProtocolError)
                });
            }
        };
        self.metrics.bytes_in.fetch_add(data.len() as u64, Relaxed);
        match decode_client(&data) {
            Ok(ClientMsg::Input(_)) if self.spectator => None,
            Ok(ClientMsg::Input(input)) => {
                let cmd = MatchCmd::apply(Command::Input {
                    conn: self.conn,
                    input,
                });
                match self.handle.inbox.try_send(cmd) {
                    Ok(()) => None,
                    Err(TrySendError::Full(_)) => {
                        self.metrics.inputs_dropped.fetch_add(1, Relaxed);
                        None
                    }
                    Err(TrySendError::Closed(_)) => Some(End::Close(CloseCode::MatchEnded)),
                }
            }
            Ok(ClientMsg::Ping { client_time }) => {
                let pong = ServerMsg::Pong {
                    client_time,
                    server_tick: self.handle.tick.load(Relaxed),
                };
                let frame = Message::Binary(Bytes::from(encode_server(&pong)));
                self.write(frame).await
            }
            Err(e) => {
                info!(match_id = %self.handle.id, player_id = %self.player_id, error = %e, "bad message: protocol error");
                Some(End::Close(CloseCode::ProtocolError))
            }
        }
    }
}

/// True when a read error means the connection is gone (I/O), false when the peer broke the
/// protocol (bad framing, a frame or message over the size limit, bad UTF-8).
fn is_peer_gone(e: axum::Error) -> bool {
    use tungstenite::error::ProtocolError;
    let inner = e.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        // The TCP connection ended without a close frame: the peer vanished.
        Some(tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => true,
        Some(
            tungstenite::Error::Protocol(_)
            | tungstenite::Error::Capacity(_)
            | tungstenite::Error::Utf8(_),
        ) => false,
        Some(_) => true,
        // An error type this version does not know: treat the peer as broken, not gone.
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_peer_gone;
    use tungstenite::error::{CapacityError, ProtocolError};

    #[test]
    fn broken_protocol_is_not_a_vanished_peer() {
        let too_long = tungstenite::Error::Capacity(CapacityError::MessageTooLong {
            size: 9,
            max_size: 4,
        });
        assert!(!is_peer_gone(axum::Error::new(too_long)));
        let unmasked = tungstenite::Error::Protocol(ProtocolError::UnmaskedFrameFromClient);
        assert!(!is_peer_gone(axum::Error::new(unmasked)));
        let reset = tungstenite::Error::Io(std::io::ErrorKind::ConnectionReset.into());
        assert!(is_peer_gone(axum::Error::new(reset)));
        let vanished = tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        assert!(is_peer_gone(axum::Error::new(vanished)));
    }
}
