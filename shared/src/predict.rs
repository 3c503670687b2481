//! What every client computes on its own between two snapshots, so the wire carries only
//! what differs from it: players keep moving with the buttons they hold (by the shared movement
//! rule, exactly as the server runs it), and a projectile leaves from its shooter.
//!
//! The server encodes each entity's position as a correction to this prediction and the client
//! adds the correction back, so a prediction that is wrong costs bytes, never correctness.

use crate::arena::Arena;
use crate::entity::{EntityKind, EntityState, Entry, flags};
use crate::quant::SIM_SCALE;
use crate::rules::movement::move_player;
use crate::rules::{MAX_HP, buttons};

/// Longest gap between a snapshot and its baseline that is predicted tick by tick; a longer one
/// (a client that lagged far behind) carries its positions as corrections instead.
pub const MAX_PREDICTED_TICKS: u32 = 128;

/// What a delta is predicted with: the map, the tick rate at the new snapshot's tick, how many
/// ticks it lies after its baseline (0: a full snapshot), and its tick.
#[derive(Debug, Clone, Copy)]
pub struct Prediction<'a> {
    pub arena: &'a Arena,
    pub tick_rate: u16,
    pub ticks: u32,
    pub tick: u32,
}

impl Prediction<'_> {
    /// Where an entity that was at `base` is now, given its new fields `next` (position
    /// aside): a living player is moved `ticks` steps with the buttons it now holds; anything
    /// else stays put.
    pub fn moved(&self, base: &EntityState, next: &EntityState) -> (i32, i32) {
        let here = (base.x, base.y);
        let arena = self.arena;
        let inside = |v: i32, side: i32| (0..=side.saturating_mul(SIM_SCALE)).contains(&v);
        let moves = next.kind == EntityKind::Player
            && base.flags & flags::ALIVE != 0
            && next.buttons & buttons::MOVE != 0
            && (1..=MAX_PREDICTED_TICKS).contains(&self.ticks)
            // Positions outside the arena cannot come from the server; not stepping them keeps
            // the integer rule far from overflow whatever the bytes said.
            && inside(base.x, arena.width)
            && inside(base.y, arena.height);
        if !moves {
            return here;
        }
        (0..self.ticks).fold(here, |(x, y), _| {
            move_player(arena, x, y, next.buttons, self.tick_rate)
        })
    }

    /// The state a spawned entity of `kind` starts from before its patch: a fresh living
    /// player, or a projectile fired at this snapshot's tick.
    pub fn template(&self, kind: EntityKind) -> EntityState {
        match kind {
            EntityKind::Player => EntityState {
                hp: MAX_HP,
                flags: flags::ALIVE,
                ..EntityState::default()
            },
            EntityKind::Projectile => EntityState {
                kind,
                tick: self.tick,
                ..EntityState::default()
            },
        }
    }

    /// Where a spawned entity is predicted to start: a projectile at its shooter, when the
    /// shooter was already in the baseline and still is (`survivors`, sorted by id); anything
    /// else at the origin.
    pub fn origin(&self, state: &EntityState, survivors: &[Entry]) -> (i32, i32) {
        if state.kind != EntityKind::Projectile {
            return (0, 0);
        }
        survivors
            .binary_search_by_key(&state.owner, |e| e.0)
            .map_or((0, 0), |i| (survivors[i].1.x, survivors[i].1.y))
    }
}
