//! What sessions and the admin API send a match, and what a match puts in a session's outbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64};

use bytes::Bytes;
use shared::protocol::{EndReason, Input};
use tokio::sync::{mpsc, oneshot};

use crate::game::report::MatchReport;
use crate::session::per_ip::IpSlot;

/// A command to a match, through its bounded inbox. Applied at the start of the next tick.
pub enum MatchCmd {
    Join(Joiner),
    Input {
        conn: u64,
        input: Input,
    },
    /// The session ended; `dropped`: without a proper close (the player may come back).
    Leave {
        conn: u64,
        dropped: bool,
    },
    /// Figures for operators; `detail` adds one line per player.
    Inspect {
        detail: bool,
        reply: oneshot::Sender<MatchReport>,
    },
    /// Change timing from the next tick on; the reply says what was applied.
    Configure {
        change: TimingChange,
        by: String,
        reply: oneshot::Sender<Result<MatchReport, String>>,
    },
    /// End the match now (results are still written).
    End {
        reason: EndReason,
        by: String,
    },
    /// Remove a player (by entity id) with the KICKED close code, and refuse them (and their
    /// address) a seat for `ban`; replies whether it was there.
    Kick {
        entity: u32,
        ban: std::time::Duration,
        by: String,
        reply: oneshot::Sender<bool>,
    },
    /// Debug builds only: make the match's systems panic on the next tick.
    #[cfg(debug_assertions)]
    InjectPanic,
}

/// A requested timing change; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimingChange {
    pub tick_rate: Option<u16>,
    pub snapshot_interval: Option<u16>,
}

/// Counters a session keeps and the match reads for operators.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// WebSocket payload bytes written to this client.
    pub bytes_out: AtomicU64,
    /// Last round-trip time of a server ping, microseconds (0: not measured yet).
    pub rtt_us: AtomicU64,
    /// The close code to use once the match drops the outbox (0: MATCH_ENDED).
    pub close_code: AtomicU16,
}

/// A connection entering the match (its seat is already taken).
pub struct Joiner {
    pub conn: u64,
    pub player_id: String,
    pub name: String,
    pub outbox: mpsc::Sender<Outgoing>,
    /// Tells the session to close at once with this code (it may be stuck writing).
    pub close: oneshot::Sender<u16>,
    pub stats: Arc<SessionStats>,
    /// Its address's place under `max_connections_per_ip`, kept while the match holds the
    /// player (connected or within the reconnect grace).
    pub ip_slot: Option<IpSlot>,
}

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
