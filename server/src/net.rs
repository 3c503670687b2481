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
