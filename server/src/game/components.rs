//! ECS components and resources of the arena simulation.

use std::collections::VecDeque;

use bevy_ecs::prelude::*;
use rand::rngs::StdRng;
use shared::arena::Arena;
use shared::protocol::{EndReason, GameEvent, Input};

/// Network id, unique within the match and never reused.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetId(pub u32);

/// Position in simulation fixed point ([`shared::quant::SIM_SCALE`]).
#[derive(Component, Debug, Clone, Copy)]
pub struct Position {
    pub x: i32,
    pub y: i32,
}

/// Inputs waiting for their tick, at most [`Player::MAX_QUEUED`].
#[derive(Component, Debug, Default)]
pub struct InputQueue(pub VecDeque<Input>);

/// A player's game state.
#[derive(Component, Debug)]
pub struct Player {
    pub held: u8,
    pub aim: u16,
    pub hp: u8,
    pub alive: bool,
    pub respawn_tick: u32,
    pub next_fire_tick: u32,
    pub next_rail_tick: u32,
    pub score: u16,
    pub deaths: u16,
    pub last_input_seq: u32,
    /// The tick the player's client was showing others at with its last input (0: unknown).
    pub view_tick: u32,
    /// Counts respawns: a rewound target is only hit in the life it is in now.
    pub life: u32,
}

impl Player {
    /// Inputs kept per player; beyond it the oldest are dropped (and counted).
    pub const MAX_QUEUED: usize = 4;
}

impl Default for Player {
    fn default() -> Player {
        Player {
            held: 0,
            aim: 0,
            hp: shared::rules::MAX_HP,
            alive: true,
            respawn_tick: 0,
            next_fire_tick: 0,
            next_rail_tick: 0,
            score: 0,
            deaths: 0,
            last_input_seq: 0,
            view_tick: 0,
            life: 0,
        }
    }
}

/// A projectile: origin in wire fixed point, direction and the tick it left the origin (what
/// clients get), and the tick it expires (server only). A tick-rate change moves the origin to
/// where the projectile is and `fired_tick` to that tick, so the flight formula stays exact.
#[derive(Component, Debug, Clone, Copy)]
pub struct Projectile {
    pub owner: u32,
    pub x: i32,
    pub y: i32,
    pub aim: u16,
    pub fired_tick: u32,
    pub expires_tick: u32,
    /// The tick it was created. A lag-compensated shot is created `spawned_tick - fired_tick`
    /// ticks into its flight, which it catches up against rewound targets on that tick.
    pub spawned_tick: u32,
}

/// The current tick (1 is the first) and rate.
#[derive(Resource, Debug)]
pub struct Clock {
    pub tick: u32,
    pub rate: u16,
}

/// The map.
#[derive(Resource, Debug)]
pub struct Map(pub Arena);

/// The match's seeded RNG.
#[derive(Resource, Debug)]
pub struct MatchRng(pub StdRng);

/// Hands out network ids.
#[derive(Resource, Debug, Default)]
pub struct NetIds {
    last: u32,
}

impl NetIds {
    pub fn allocate(&mut self) -> NetId {
        self.last += 1;
        NetId(self.last)
    }

    /// The last id handed out.
    pub fn last(&self) -> u32 {
        self.last
    }
}

/// Events of the ticks since the last snapshot.
#[derive(Resource, Debug, Default)]
pub struct PendingEvents(pub Vec<GameEvent>);

/// Score and time limits.
#[derive(Resource, Debug)]
pub struct Limits {
    pub score: u16,
    pub last_tick: u32,
}

/// Set when the match should end.
#[derive(Resource, Debug, Default)]
pub struct Outcome(pub Option<EndReason>);
