//! One task per connection: forwards decoded inputs to the match, writes the match's frames,
//! answers pings, and closes with a documented code. Errors end only this connection.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::{BufMut, Bytes, BytesMut};
use shared::close_code;
use shared::codec::{decode_client, encode_server, snapshot_trailer};
use shared::protocol::{ClientMsg, ServerMsg};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use crate::session::rate_limit::{TokenBucket, Verdict};
use tracing::{debug, info};

use crate::game::messages::{Joiner, MatchCmd, Outgoing, SessionStats};
use crate::metrics::Metrics;
use crate::registry::{MatchHandle, Seat};

/// How often the server pings each client (for its RTT).
const PING_EVERY: Duration = Duration::from_secs(1);

/// How long the closing handshake may take (our close frame waiting behind unread data, then
/// the peer's answer) before the socket is dropped anyway.
const CLOSE_LINGER: Duration = Duration::from_secs(5);

/// Everything a connection task needs, gathered during the handshake.
pub struct Session {
    pub conn: u64,
    pub handle: Arc<MatchHandle>,
    pub player_id: String,
    pub name: String,
    pub metrics: Arc<Metrics>,
    pub outbox_frames: usize,
    /// Client messages per second; the excess is dropped and counted.
    pub input_rate_limit: u32,
    /// A peer that sends nothing (not even a pong) for this long is treated as gone.
    pub keepalive_timeout: Duration,
    /// Whether the handshake took a new seat (given back if the match never sees us).
    pub seat: Seat,
    /// This connection's place under `max_connections`, given back when the session ends.
    pub _slot: Option<crate::listener::ConnSlot>,
    /// Its place under `max_connections_per_ip` (none when the peer address is unknown). It
    /// goes to the match with the Join: a dropped player held for reconnection keeps it.
    pub ip_slot: Option<crate::session::per_ip::IpSlot>,
}

/// The match's order to close at once; `None` once the match dropped it without an order.
type CloseOrder = Option<oneshot::Receiver<u16>>;

/// Waits for a close order. A dropped sender is not an order (the match ended or let the
/// client go: whatever it queued in the outbox must still be written), so it waits forever then.
async fn close_order(rx: &mut CloseOrder) -> u16 {
    if let Some(r) = rx {
        match r.await {
            Ok(code) => return code,
            Err(_) => *rx = None,
        }
    }
    std::future::pending().await
}

/// How the loop ended.
enum End {
    /// Close with this code.
    Close(u16),
    /// The peer closed the connection properly: it has left.
    Left,
    /// The connection vanished (no close frame, or silent past the keepalive timeout): the
    /// player may come back within the reconnect grace.
    Gone,
}

/// Runs the connection until it closes; the seat taken at the handshake is already ours.
pub async fn run(mut socket: WebSocket, mut s: Session) {
    s.metrics.connections.fetch_add(1, Relaxed);
    let (out_tx, mut out_rx) = mpsc::channel(s.outbox_frames);
    let (close_tx, close_rx) = oneshot::channel::<u16>();
    let mut close_rx = Some(close_rx);
    let stats = Arc::new(SessionStats::default());
    let joiner = Joiner {
        conn: s.conn,
        player_id: s.player_id.clone(),
        name: s.name.clone(),
        outbox: out_tx,
        close: close_tx,
        stats: stats.clone(),
        ip_slot: s.ip_slot.take(),
    };
    let end = if s.handle.inbox.send(MatchCmd::Join(joiner)).await.is_err() {
        // The match ended before it saw us; a seat taken for us is ours to give back.
        if s.seat == Seat::New {
            s.handle.release_seat(&s.player_id);
        }
        End::Close(close_code::MATCH_ENDED)
    } else {
        let end = serve(&mut socket, &s, &stats, &mut out_rx, &mut close_rx).await;
        // The match may already have dropped us (too slow, replaced, ended); then this is ignored.
        let dropped = matches!(end, End::Gone);
        let _ = s
            .handle
            .inbox
            .send(MatchCmd::Leave {
                conn: s.conn,
                dropped,
            })
            .await;
        end
    };
    if let End::Left = end {
        // The peer started the closing handshake; tungstenite queued our answer (its code
        // echoed, 1002 for a code RFC 6455 §7.4 forbids). Reading on writes that answer and
        // ends the stream, so the peer sees a clean close instead of a dropped TCP connection.
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
    if let End::Close(code) = end {
        let frame = CloseFrame {
            code,
            reason: close_code::reason(code).into(),
        };
        s.metrics.count_close(code);
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            if socket.send(Message::Close(Some(frame))).await.is_ok() {
                // The closing handshake: read (and drop) until the peer's Close. Closing a socket
                // with unread input makes the kernel send a reset, which would destroy our close
                // frame before the peer reads it.
                while let Some(Ok(_)) = socket.recv().await {}
            }
        })
        .await;
    }
    s.metrics.connections.fetch_sub(1, Relaxed);
    debug!(match_id = %s.handle.id, player_id = %s.player_id, "connection closed");
}

async fn serve(
    socket: &mut WebSocket,
    s: &Session,
    stats: &SessionStats,
    out_rx: &mut mpsc::Receiver<Outgoing>,
    close_rx: &mut CloseOrder,
) -> End {
    let mut bucket = TokenBucket::new(s.input_rate_limit, std::time::Instant::now());
    let mut last_heard = tokio::time::Instant::now();
    let epoch = std::time::Instant::now();
    // The first ping a period in: nothing to measure before the Welcome.
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            biased;
            code = close_order(close_rx) => return End::Close(code),
            out = out_rx.recv() => {
                let Some(out) = out else {
                    let code = stats.close_code.load(Relaxed);
                    return End::Close(if code == 0 { close_code::MATCH_ENDED } else { code });
                };
                let frame = match out {
                    Outgoing::Frame(bytes) => bytes,
                    Outgoing::Snapshot { body, ack } => with_trailer(&body, ack),
                };
                if let Some(end) = write(socket, s, stats, Message::Binary(frame), close_rx).await {
                    return end;
                }
            }
            _ = pings.tick() => {
                if last_heard.elapsed() > s.keepalive_timeout {
                    debug!(match_id = %s.handle.id, player_id = %s.player_id, "no answer within the keepalive timeout");
                    return End::Gone;
                }
                let stamp = (epoch.elapsed().as_micros() as u64).to_le_bytes();
                let ping = Message::Ping(Bytes::copy_from_slice(&stamp));
                if let Some(end) = write(socket, s, stats, ping, close_rx).await {
                    return end;
                }
            }
            msg = socket.recv() => {
                last_heard = tokio::time::Instant::now();
                if let Some(end) = read(socket, s, stats, msg, close_rx, &mut bucket, epoch).await {
                    return end;
                }
            }
        }
    }
}

/// A snapshot frame: the shared body, then this client's ack as the message's last field.
pub fn with_trailer(body: &Bytes, ack: u32) -> Bytes {
    let (trailer, len) = snapshot_trailer(ack);
    let mut buf = BytesMut::with_capacity(body.len() + len);
    buf.put_slice(body);
    buf.put_slice(&trailer[..len]);
    buf.freeze()
}

/// Writes one message, giving up at once if the match orders a close meanwhile.
async fn write(
    socket: &mut WebSocket,
    s: &Session,
    stats: &SessionStats,
    msg: Message,
    close_rx: &mut CloseOrder,
) -> Option<End> {
    let len = match &msg {
        Message::Binary(b) => b.len() as u64,
        _ => 0,
    };
    tokio::select! {
        biased;
        code = close_order(close_rx) => Some(End::Close(code)),
        sent = socket.send(msg) => match sent {
            Ok(()) => {
                s.metrics.bytes_out.fetch_add(len, Relaxed);
                stats.bytes_out.fetch_add(len, Relaxed);
                None
            }
            Err(_) => Some(End::Gone),
        },
    }
}

/// Handles one incoming message.
async fn read(
    socket: &mut WebSocket,
    s: &Session,
    stats: &SessionStats,
    msg: Option<Result<Message, axum::Error>>,
    close_rx: &mut CloseOrder,
    bucket: &mut TokenBucket,
    epoch: std::time::Instant,
) -> Option<End> {
    // Every frame counts against the limit, control frames included: a ping costs the server
    // a pong, so a ping flood is closed like any other flood.
    if let Some(Ok(m)) = &msg
        && !matches!(m, Message::Close(_))
    {
        match bucket.check(std::time::Instant::now()) {
            Verdict::Allow => {}
            Verdict::Drop => {
                s.metrics.messages_rate_limited.fetch_add(1, Relaxed);
                return None;
            }
            Verdict::Close => {
                s.metrics.messages_rate_limited.fetch_add(1, Relaxed);
                info!(match_id = %s.handle.id, player_id = %s.player_id, "sustained flood: rate limited");
                return Some(End::Close(close_code::RATE_LIMITED));
            }
        }
    }
    let data = match msg {
        Some(Ok(Message::Binary(data))) => data,
        Some(Ok(Message::Text(_))) => {
            info!(match_id = %s.handle.id, player_id = %s.player_id, "text frame: protocol error");
            return Some(End::Close(close_code::PROTOCOL_ERROR));
        }
        // An answer to our ping carries the time we sent it.
        Some(Ok(Message::Pong(stamp))) => {
            if let Ok(sent) = <[u8; 8]>::try_from(stamp.as_ref()) {
                let rtt =
                    (epoch.elapsed().as_micros() as u64).saturating_sub(u64::from_le_bytes(sent));
                stats.rtt_us.store(rtt.max(1), Relaxed);
            }
            return None;
        }
        // tungstenite answers pings itself (one pong pending at a time; see WRITE_BUFFER_CAP).
        Some(Ok(Message::Ping(_))) => return None,
        Some(Ok(Message::Close(_))) => return Some(End::Left),
        None => return Some(End::Gone),
        Some(Err(e)) => {
            debug!(match_id = %s.handle.id, player_id = %s.player_id, error = %e, "read error");
            return Some(if is_peer_gone(e) {
                End::Gone
            } else {
                End::Close(close_code::PROTOCOL_ERROR)
            });
        }
    };
    s.metrics.bytes_in.fetch_add(data.len() as u64, Relaxed);
    match decode_client(&data) {
        Ok(ClientMsg::Input(input)) => {
            let cmd = MatchCmd::Input {
                conn: s.conn,
                input,
            };
            match s.handle.inbox.try_send(cmd) {
                Ok(()) => None,
                Err(TrySendError::Full(_)) => {
                    s.metrics.inputs_dropped.fetch_add(1, Relaxed);
                    None
                }
                Err(TrySendError::Closed(_)) => Some(End::Close(close_code::MATCH_ENDED)),
            }
        }
        Ok(ClientMsg::Ping { client_time }) => {
            let pong = ServerMsg::Pong {
                client_time,
                server_tick: s.handle.tick.load(Relaxed),
            };
            let frame = Message::Binary(Bytes::from(encode_server(&pong)));
            write(socket, s, stats, frame, close_rx).await
        }
        Err(e) => {
            info!(match_id = %s.handle.id, player_id = %s.player_id, error = %e, "bad message: protocol error");
            Some(End::Close(close_code::PROTOCOL_ERROR))
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
