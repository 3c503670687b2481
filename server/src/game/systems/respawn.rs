//! Brings dead players back after the respawn delay at a free spawn point.

use bevy_ecs::prelude::*;
use rand::Rng;
use shared::arena::Arena;
use shared::quant::SIM_SCALE;
use shared::rules::MAX_HP;

use crate::game::components::{Clock, Map, MatchRng, Player, Position};

/// A spawn point counts as free when no living player is within this many world units.
const FREE_RADIUS: i32 = 64;

/// Picks a spawn point (simulation fixed point) at random among those with no living player
/// near, or among all when none is free. Uses the match's seeded RNG.
pub fn pick_spawn(arena: &Arena, rng: &mut MatchRng, living: &[(i32, i32)]) -> (i32, i32) {
    let near = f64::from(FREE_RADIUS * SIM_SCALE);
    let points: Vec<(i32, i32)> = arena
        .spawns
        .iter()
        .map(|s| (s.x * SIM_SCALE, s.y * SIM_SCALE))
        .collect();
    let free: Vec<(i32, i32)> = points
        .iter()
        .copied()
        .filter(|&(x, y)| {
            living
                .iter()
                .all(|&(px, py)| f64::from(px - x).hypot(f64::from(py - y)) >= near)
        })
        .collect();
    let pool = if free.is_empty() { &points } else { &free };
    // `Arena::validate` guarantees at least one spawn point.
    pool[rng.0.random_range(0..pool.len())]
}

/// Respawns every dead player whose delay is over.
pub fn respawn_players(
    mut players: Query<(&mut Player, &mut Position)>,
    clock: Res<Clock>,
    map: Res<Map>,
    mut rng: ResMut<MatchRng>,
) {
    let due = players
        .iter()
        .any(|(pl, _)| !pl.alive && clock.tick >= pl.respawn_tick);
    if !due {
        return;
    }
    let mut living: Vec<(i32, i32)> = players
        .iter()
        .filter(|(pl, _)| pl.alive)
        .map(|(_, p)| (p.x, p.y))
        .collect();
    for (mut pl, mut pos) in &mut players {
        if pl.alive || clock.tick < pl.respawn_tick {
            continue;
        }
        let (x, y) = pick_spawn(&map.0, &mut rng, &living);
        living.push((x, y));
        *pos = Position { x, y };
        pl.hp = MAX_HP;
        pl.alive = true;
        pl.life = pl.life.wrapping_add(1);
    }
}
