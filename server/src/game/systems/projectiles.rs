//! Advances projectiles along their fixed path and resolves what they hit: walls, the arena
//! edge, players (damage, death, the shooter's score) or the end of their lifetime.

use bevy_ecs::prelude::*;
use shared::arena::Arena;
use shared::protocol::Weapon;
use shared::quant::SIM_SCALE;
use shared::rules::geometry::{segment_hits_circle, segment_hits_rect};
use shared::rules::{HIT_DAMAGE, PLAYER_RADIUS, PROJECTILE_RADIUS, projectile_position};

use crate::game::components::{Clock, Map, NetId, PendingEvents, Player, Position, Projectile};
use crate::game::systems::damage::damage;
use crate::game::systems::rewind::{Rewind, Target, living as living_now, targets_at};

/// Moves each projectile from where it was last tick to where it is now and despawns it on the
/// first thing its path touches. A projectile created this tick part-way into its flight (a
/// lag-compensated shot) first flies the ticks it skipped, each against the targets as they
/// were at that tick.
pub fn fly_projectiles(
    mut commands: Commands,
    projectiles: Query<(Entity, &Projectile)>,
    mut players: Query<(&NetId, &mut Player, &Position)>,
    (clock, map, rewind): (Res<Clock>, Res<Map>, Res<Rewind>),
    mut events: ResMut<PendingEvents>,
    mut living: Local<Vec<Target>>,
) {
    if projectiles.is_empty() {
        return;
    }
    let now = clock.tick;
    living_now(&players, &mut living);
    for (entity, p) in &projectiles {
        let age = now.saturating_sub(p.fired_tick);
        let first = if p.spawned_tick == now {
            0 // a new shot: nothing yet, or the ticks it was created past
        } else {
            age.saturating_sub(1)
        };
        let mut gone = false;
        for a in first..age {
            // Flying from age `a` to `a + 1` happens on tick `fired_tick + a + 1`.
            let targets = targets_at(&rewind, &living, now, p.fired_tick + a + 1);
            let from = projectile_position(p.x, p.y, p.aim, a, clock.rate);
            let to = projectile_position(p.x, p.y, p.aim, a + 1, clock.rate);
            let victim = nearest_victim(&targets, p.owner, from, to);
            if let Some(victim) = victim
                && damage(
                    &mut players,
                    victim,
                    p.owner,
                    HIT_DAMAGE,
                    Weapon::Gun,
                    &clock,
                    &mut events,
                )
            {
                living.retain(|t| t.id != victim);
            }
            if victim.is_some() || hits_wall(&map.0, from, to) || outside(&map.0, to) {
                gone = true;
                break;
            }
        }
        if gone || now >= p.expires_tick {
            commands.entity(entity).despawn();
        }
    }
}

fn hits_wall(arena: &Arena, from: (f64, f64), to: (f64, f64)) -> bool {
    let r = PROJECTILE_RADIUS;
    arena.walls.iter().any(|w| {
        let min = (f64::from(w.x) - r, f64::from(w.y) - r);
        let max = (f64::from(w.x + w.w) + r, f64::from(w.y + w.h) + r);
        segment_hits_rect(from, to, min, max)
    })
}

fn outside(arena: &Arena, p: (f64, f64)) -> bool {
    p.0 < 0.0 || p.1 < 0.0 || p.0 > f64::from(arena.width) || p.1 > f64::from(arena.height)
}

/// The target (not the shooter) whose circle the path `from`→`to` touches first.
fn nearest_victim(targets: &[Target], owner: u32, from: (f64, f64), to: (f64, f64)) -> Option<u32> {
    let scale = f64::from(SIM_SCALE);
    let reach = f64::from(PLAYER_RADIUS) + PROJECTILE_RADIUS;
    targets
        .iter()
        .filter(|t| t.id != owner)
        .map(|t| (t.id, (f64::from(t.x) / scale, f64::from(t.y) / scale)))
        .filter(|(_, c)| segment_hits_circle(from, to, *c, reach))
        .min_by(|a, b| dist2(from, a.1).total_cmp(&dist2(from, b.1)))
        .map(|(id, _)| id)
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}
