//! The match's view of each connected client: its entity, outbox, replication baseline and
//! the figures operators see.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::entity::Entity;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::game::messages::{Joiner, Outgoing, SessionStats};
use crate::game::stats::Rate;
use crate::session::per_ip::IpSlot;

/// A snapshot a client holds: its tick and the input sequence it acknowledged, which the next
/// delta's `ack` counts from.
#[derive(Debug, Clone, Copy)]
pub struct Baseline {
    pub tick: u32,
    pub input_seq: u32,
}

pub struct Client {
    pub entity: Entity,
    pub net_id: u32,
    pub player_id: String,
    pub name: String,
    pub outbox: mpsc::Sender<Outgoing>,
    close: Option<oneshot::Sender<u16>>,
    /// The last snapshot put in the outbox; the next delta is against it.
    pub baseline: Option<Baseline>,
    /// Snapshots skipped in a row because the outbox was full.
    pub skipped_in_row: u32,
    pub skipped_total: u64,
    pub snapshots_sent: u64,
    /// An encoded MatchSettings that did not fit the outbox yet.
    pub pending_frame: Option<bytes::Bytes>,
    pub stats: Arc<SessionStats>,
    pub bytes_rate: Rate,
    pub snapshot_rate: Rate,
    /// Set while the connection is gone and the player may still come back (until then).
    pub detached_until: Option<Instant>,
    /// The address's place under `max_connections_per_ip`, held as long as the player is.
    pub ip_slot: Option<IpSlot>,
}

impl Client {
    /// The match's record of a session that joined as `entity` / `net_id`.
    pub fn new(j: Joiner, entity: Entity, net_id: u32, now: Instant) -> Client {
        Client {
            entity,
            net_id,
            player_id: j.player_id,
            name: j.name,
            outbox: j.outbox,
            close: Some(j.close),
            baseline: None,
            skipped_in_row: 0,
            skipped_total: 0,
            snapshots_sent: 0,
            pending_frame: None,
            stats: j.stats,
            bytes_rate: Rate::new(now),
            snapshot_rate: Rate::new(now),
            detached_until: None,
            ip_slot: j.ip_slot,
        }
    }

    /// A new connection of the same player takes over this slot (same entity, score, stats):
    /// it gets everything afresh, starting with a full snapshot.
    pub fn take_over(&mut self, j: Joiner, now: Instant) {
        self.close_now(shared::close_code::REPLACED);
        self.outbox = j.outbox;
        self.close = Some(j.close);
        self.stats = j.stats;
        self.ip_slot = j.ip_slot;
        self.name = j.name;
        self.baseline = None;
        self.skipped_in_row = 0;
        self.pending_frame = None;
        self.detached_until = None;
        self.bytes_rate = Rate::new(now);
        self.snapshot_rate = Rate::new(now);
    }

    /// Tells the session to close now with `code`, even if it is stuck writing.
    pub fn close_now(&mut self, code: u16) {
        if let Some(tx) = self.close.take() {
            let _ = tx.send(code);
        }
    }
}

/// Connected clients by connection id.
pub type Clients = HashMap<u64, Client>;
