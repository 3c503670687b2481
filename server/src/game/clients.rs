//! The match's view of each connected client: its entity, link, seat, replication baseline
//! and the figures operators see.

use std::collections::HashMap;
use std::time::Instant;

use bevy_ecs::entity::Entity;
use shared::ids::{ConnId, NetId, PlayerId};

use crate::game::interest::View;
use crate::game::link::{Flush, Link};
use crate::game::stats::Rate;
use crate::seats::SeatGuard;

/// A snapshot a client holds: its tick and the input sequence it acknowledged, which the next
/// delta's `ack` counts from.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub tick: u32,
    pub input_seq: u32,
    /// With interest management: the ids it was sent at that tick.
    pub view: Option<View>,
}

/// A connection entering the match, with the seat its handshake took.
pub struct Joiner<L> {
    pub conn: ConnId,
    pub player_id: PlayerId,
    pub name: String,
    pub link: L,
    /// The player's seat and its address's place, kept while the match holds the player
    /// (connected, or within the reconnect grace).
    pub seat: SeatGuard,
}

pub struct Client<L> {
    pub entity: Entity,
    pub net_id: NetId,
    pub player_id: PlayerId,
    pub name: String,
    pub link: L,
    /// Given back when this record is dropped (the player left, was kicked or replaced).
    pub seat: SeatGuard,
    /// The last snapshot put in the link; the next delta is against it.
    pub baseline: Option<Baseline>,
    /// Snapshots skipped in a row because the link was full.
    pub skipped_in_row: u32,
    pub skipped_total: u64,
    pub snapshots_sent: u64,
    /// An encoded MatchSettings that did not fit the link yet.
    pub pending_frame: Option<bytes::Bytes>,
    pub bytes_rate: Rate,
    pub snapshot_rate: Rate,
    /// Set while the connection is gone and the player may still come back (until then).
    pub detached_until: Option<Instant>,
}

impl<L: Link> Client<L> {
    /// The match's record of a session that joined as `entity` / `net_id`.
    pub fn new(j: Joiner<L>, entity: Entity, net_id: NetId, now: Instant) -> Client<L> {
        Client {
            entity,
            net_id,
            player_id: j.player_id,
            name: j.name,
            link: j.link,
            seat: j.seat,
            baseline: None,
            skipped_in_row: 0,
            skipped_total: 0,
            snapshots_sent: 0,
            pending_frame: None,
            bytes_rate: Rate::new(now),
            snapshot_rate: Rate::new(now),
            detached_until: None,
        }
    }

    /// A new connection of the same player takes over this slot (same entity, score, stats):
    /// it gets everything afresh, starting with a full snapshot. The old connection is closed
    /// and its seat guard dropped (the new one holds the seat).
    pub fn take_over(&mut self, j: Joiner<L>, now: Instant) {
        self.link
            .close(shared::close_code::CloseCode::Replaced, Flush::Now);
        self.link = j.link;
        self.seat = j.seat;
        self.name = j.name;
        self.baseline = None;
        self.skipped_in_row = 0;
        self.pending_frame = None;
        self.detached_until = None;
        self.bytes_rate = Rate::new(now);
        self.snapshot_rate = Rate::new(now);
    }
}

/// Connected clients by connection id.
pub type Clients<L> = HashMap<ConnId, Client<L>>;
