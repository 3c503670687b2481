//! The WebSocket session's [`Link`]: a bounded outbox of frames, one close order, and the
//! counters the session keeps for the match to report.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use shared::close_code::CloseCode;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use crate::game::link::{Flush, Link, Outgoing, Undelivered};

/// Counters a session keeps and the match reads for operators.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// WebSocket payload bytes written to this client.
    pub bytes_out: AtomicU64,
    /// Last round-trip time of a server ping, microseconds (0: not measured yet).
    pub rtt_us: AtomicU64,
}

/// The match's order to close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseOrder {
    pub code: CloseCode,
    pub flush: Flush,
}

/// The match's end of one session.
#[derive(Debug)]
pub struct SessionLink {
    outbox: mpsc::Sender<Outgoing>,
    close: Option<oneshot::Sender<CloseOrder>>,
    stats: Arc<SessionStats>,
}

/// The session's end: frames to write and the close order.
#[derive(Debug)]
pub struct SessionEnd {
    pub outbox: mpsc::Receiver<Outgoing>,
    pub close: oneshot::Receiver<CloseOrder>,
    pub stats: Arc<SessionStats>,
}

/// A link whose outbox holds `frames` frames.
pub fn pair(frames: usize) -> (SessionLink, SessionEnd) {
    let (out_tx, out_rx) = mpsc::channel(frames);
    let (close_tx, close_rx) = oneshot::channel();
    let stats = Arc::new(SessionStats::default());
    let link = SessionLink {
        outbox: out_tx,
        close: Some(close_tx),
        stats: stats.clone(),
    };
    let end = SessionEnd {
        outbox: out_rx,
        close: close_rx,
        stats,
    };
    (link, end)
}

impl Link for SessionLink {
    fn send(&mut self, frame: Outgoing) -> Result<(), Undelivered> {
        self.outbox.try_send(frame).map_err(|e| match e {
            TrySendError::Full(_) => Undelivered::Full,
            TrySendError::Closed(_) => Undelivered::Gone,
        })
    }

    fn has_room(&self) -> bool {
        self.outbox.capacity() > 0
    }

    fn close(&mut self, code: CloseCode, flush: Flush) {
        if let Some(tx) = self.close.take() {
            let _ = tx.send(CloseOrder { code, flush });
        }
    }

    fn bytes_out(&self) -> u64 {
        self.stats.bytes_out.load(Relaxed)
    }

    fn rtt_us(&self) -> u64 {
        self.stats.rtt_us.load(Relaxed)
    }
}
