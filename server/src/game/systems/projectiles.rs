//! Advances projectiles along their fixed path and resolves what they hit: walls, the arena
//! edge, players (damage, death, the shooter's score) or the end of their lifetime.

use bevy_ecs::prelude::*;
use shared::protocol::GameEvent;
use shared::quant::SIM_SCALE;
use shared::rules::geometry::{segment_hits_circle, segment_hits_rect};
use shared::rules::{
    HIT_DAMAGE, PLAYER_RADIUS, PROJECTILE_RADIUS, RESPAWN_MS, projectile_position, ticks_for_ms,
};

use crate::game::components::{Clock, Map, NetId, PendingEvents, Player, Position, Projectile};

/// Moves each projectile from where it was last tick to where it is now and despawns it on the
/// first thing its path touches.
pub fn fly_projectiles(
    mut commands: Commands,
    projectiles: Query<(Entity, &Projectile)>,
    mut players: Query<(&NetId, &mut Player, &Position)>,
    clock: Res<Clock>,
    map: Res<Map>,
    mut events: ResMut<PendingEvents>,
) {
    let arena = &map.0;
    for (entity, p) in &projectiles {
        let age = clock.tick.saturating_sub(p.fired_tick);
        if age == 0 {
            continue; // fired this tick; it starts moving next tick
        }
        let from = projectile_position(p.x, p.y, p.aim, age - 1, clock.rate);
        let to = projectile_position(p.x, p.y, p.aim, age, clock.rate);
        let r = PROJECTILE_RADIUS;
        let hits_wall = arena.walls.iter().any(|w| {
            let min = (f64::from(w.x) - r, f64::from(w.y) - r);
            let max = (f64::from(w.x + w.w) + r, f64::from(w.y + w.h) + r);
            segment_hits_rect(from, to, min, max)
        });
        let outside = to.0 < 0.0
            || to.1 < 0.0
            || to.0 > f64::from(arena.width)
            || to.1 > f64::from(arena.height);
        let victim = nearest_victim(&players, p.owner, from, to);
        if let Some(victim) = victim {
            hit(&mut players, victim, p.owner, &clock, &mut events);
        }
        if victim.is_some() || hits_wall || outside || clock.tick >= p.expires_tick {
            commands.entity(entity).despawn();
        }
    }
}

/// The living player (not the shooter) whose circle the path `from`→`to` touches first.
fn nearest_victim(
    players: &Query<(&NetId, &mut Player, &Position)>,
    owner: u32,
    from: (f64, f64),
    to: (f64, f64),
) -> Option<u32> {
    let scale = f64::from(SIM_SCALE);
    let reach = f64::from(PLAYER_RADIUS) + PROJECTILE_RADIUS;
    players
        .iter()
        .filter(|(id, pl, _)| id.0 != owner && pl.alive)
        .map(|(id, _, pos)| (id.0, (f64::from(pos.x) / scale, f64::from(pos.y) / scale)))
        .filter(|(_, c)| segment_hits_circle(from, to, *c, reach))
        .min_by(|a, b| dist2(from, a.1).total_cmp(&dist2(from, b.1)))
        .map(|(id, _)| id)
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Damages `victim`; on a kill, schedules its respawn, scores the shooter and records the event.
fn hit(
    players: &mut Query<(&NetId, &mut Player, &Position)>,
    victim: u32,
    shooter: u32,
    clock: &Clock,
    events: &mut PendingEvents,
) {
    let mut killed = false;
    for (id, mut pl, _) in players.iter_mut() {
        if id.0 == victim {
            pl.hp = pl.hp.saturating_sub(HIT_DAMAGE);
            if pl.hp == 0 {
                pl.alive = false;
                pl.held = 0;
                pl.deaths = pl.deaths.saturating_add(1);
                pl.respawn_tick = clock.tick + ticks_for_ms(RESPAWN_MS, clock.rate);
                killed = true;
            }
        }
    }
    if !killed {
        return;
    }
    for (id, mut pl, _) in players.iter_mut() {
        if id.0 == shooter {
            pl.score = pl.score.saturating_add(1);
        }
    }
    events.0.push(GameEvent::Kill {
        tick: clock.tick,
        killer: shooter,
        victim,
    });
}
