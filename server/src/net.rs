//! Socket options for accepted connections.

use tokio::net::TcpStream;
use tracing::debug;

/// TCP_NODELAY (a snapshot must not wait for Nagle) and a modest kernel send buffer (a snapshot
/// queued behind stale ones is only latency, and a stalled client then fills its outbox and is
/// detected in seconds).
pub fn tune(stream: &TcpStream, send_buffer: usize) {
    if let Err(e) = stream.set_nodelay(true) {
        debug!(error = %e, "TCP_NODELAY");
    }
    if let Err(e) = socket2::SockRef::from(stream).set_send_buffer_size(send_buffer) {
        debug!(error = %e, "SO_SNDBUF");
    }
}

/// Most bytes tungstenite may hold unsent for one connection. Without a cap, a client that
/// never reads but sends pings makes it queue a pong per ping, without bound (270 MiB in 2 s).
/// Capped, a pong that does not fit waits (replaced by newer ones) and a message that does not
/// fit fails the write. A session writes one message at a time and waits until it is flushed,
/// so this only has to hold the largest message the server sends (the Welcome, with its map).
pub const WRITE_BUFFER_CAP: usize = 64 * 1024;
