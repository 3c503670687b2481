//! `Link`: how a match reaches one client. The match core only queues frames and gives one
//! close order; the WebSocket session (or the in-memory harness) implements the other end.

use bytes::{BufMut, Bytes, BytesMut};
use shared::close_code::CloseCode;
use shared::codec::snapshot_trailer;

/// A frame for one client.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A whole encoded message (Welcome, MatchSettings, MatchEnded).
    Frame(Bytes),
    /// A snapshot: the body shared by every client on the same baseline, and this client's
    /// `ack` (its last applied input sequence, or for a delta how much it grew since the
    /// baseline), which the session appends as the frame's last field.
    Snapshot { body: Bytes, ack: u32 },
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undelivered {
    /// The client's queue is full: it is not reading fast enough.
    Full,
    /// The client's connection is gone (its Leave is on the way).
    Gone,
}

/// When a close order takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// After the frames already queued are written (MatchEnded, then the close).
    Queued,
    /// At once, even if the connection is stuck writing (kicked, too slow, replaced).
    Now,
}

/// One client's connection as the match sees it.
pub trait Link: Send + 'static {
    /// Queues a frame without waiting.
    fn send(&mut self, frame: Outgoing) -> Result<(), Undelivered>;
    /// Whether one more frame fits the queue now.
    fn has_room(&self) -> bool;
    /// The match's one way to end a connection: close with `code`, at once or after what is
    /// queued. Later orders are ignored.
    fn close(&mut self, code: CloseCode, flush: Flush);
    /// WebSocket payload bytes written to the client so far.
    fn bytes_out(&self) -> u64;
    /// The last measured round trip, microseconds (0: not measured yet).
    fn rtt_us(&self) -> u64;
}

/// A snapshot frame: the shared body, then this client's ack as the message's last field.
pub fn with_trailer(body: &Bytes, ack: u32) -> Bytes {
    let (trailer, len) = snapshot_trailer(ack);
    let mut buf = BytesMut::with_capacity(body.len() + len);
    buf.put_slice(body);
    buf.put_slice(&trailer[..len]);
    buf.freeze()
}
