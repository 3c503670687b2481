//! What sessions send a match, and what a match puts in a session's outbox.

use bytes::Bytes;
use shared::protocol::Input;
use tokio::sync::{mpsc, oneshot};

/// A command to a match, through its bounded inbox.
pub enum MatchCmd {
    Join(Joiner),
    Input { conn: u64, input: Input },
    Leave { conn: u64 },
}

/// A connection entering the match (its seat is already taken).
pub struct Joiner {
    pub conn: u64,
    pub player_id: String,
    pub name: String,
    pub outbox: mpsc::Sender<Outgoing>,
    /// Tells the session to close at once with this code (it may be stuck writing).
    pub close: oneshot::Sender<u16>,
}

/// A frame for one client.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A whole encoded message (Welcome, MatchEnded).
    Frame(Bytes),
    /// A snapshot: the body shared by every client on the same baseline, and this client's
    /// last applied input sequence, which the session appends as the frame's last field.
    Snapshot { body: Bytes, ack_input_seq: u32 },
}
