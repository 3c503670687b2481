//! The rail: an instant shot along the aim that stops at the first wall, tested against the
//! targets as the shooter's client showed them (lag compensation, within the bound).

use bevy_ecs::prelude::*;
use shared::arena::Arena;
use shared::protocol::{GameEvent, Weapon};
use shared::quant::{SIM_SCALE, q_to_angle};
use shared::rules::geometry::{segment_enters_circle, segment_enters_rect};
use shared::rules::{
    PLAYER_RADIUS, RAIL_DAMAGE, RAIL_INTERVAL_MS, RAIL_RANGE, buttons, ticks_for_ms,
};

use crate::game::components::{Clock, Map, NetId, PendingEvents, Player, Position};
use crate::game::systems::damage::damage;
use crate::game::systems::rewind::{Rewind, Target, living as living_now, targets_at};

/// Fires the rail of every living player holding it whose cooldown is over. Every shot of a
/// tick fires (two players may trade kills); each is tested against the targets rewound to
/// what its shooter saw.
pub fn fire_rails(
    mut players: Query<(&NetId, &mut Player, &Position)>,
    clock: Res<Clock>,
    map: Res<Map>,
    rewind: Res<Rewind>,
    mut events: ResMut<PendingEvents>,
    mut living: Local<Vec<Target>>,
) {
    let now = clock.tick;
    let mut shots = Vec::new();
    for (id, mut p, pos) in &mut players {
        if !p.alive || p.held & buttons::RAIL == 0 || now < p.next_rail_tick {
            continue;
        }
        p.next_rail_tick = now + ticks_for_ms(RAIL_INTERVAL_MS, clock.rate);
        let at = rewind.rewound_tick(now, p.view_tick, clock.rate);
        shots.push((id.0, *pos, p.aim, at));
    }
    if shots.is_empty() {
        return;
    }
    living_now(&players, &mut living);
    for (shooter, pos, aim, at) in shots {
        let scale = f64::from(SIM_SCALE);
        let from = (f64::from(pos.x) / scale, f64::from(pos.y) / scale);
        let a = q_to_angle(aim);
        let to = (from.0 + a.cos() * RAIL_RANGE, from.1 + a.sin() * RAIL_RANGE);
        let blocked = wall_entry(&map.0, from, to);
        let targets = targets_at(&rewind, &living, now, at);
        let hit = targets
            .iter()
            .filter(|t| t.id != shooter)
            .filter_map(|t| {
                let c = (f64::from(t.x) / scale, f64::from(t.y) / scale);
                segment_enters_circle(from, to, c, f64::from(PLAYER_RADIUS)).map(|d| (t.id, d))
            })
            .filter(|(_, d)| *d < blocked)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let stop = hit.map_or(blocked, |h| h.1).min(1.0);
        events.0.push(GameEvent::Rail {
            tick: now,
            shooter,
            aim,
            length: (stop * RAIL_RANGE).round() as u16,
        });
        let victim = hit.map(|(id, _)| id);
        if let Some(victim) = victim
            && damage(
                &mut players,
                victim,
                shooter,
                RAIL_DAMAGE,
                Weapon::Rail,
                &clock,
                &mut events,
            )
        {
            living.retain(|t| t.id != victim);
        }
    }
}

/// How far along `from`→`to` (0..1) the first wall is; past 1 when none is in the way. The ray
/// is thin: walls are not grown.
fn wall_entry(arena: &Arena, from: (f64, f64), to: (f64, f64)) -> f64 {
    arena
        .walls
        .iter()
        .filter_map(|w| {
            let min = (f64::from(w.x), f64::from(w.y));
            let max = (f64::from(w.x + w.w), f64::from(w.y + w.h));
            segment_enters_rect(from, to, min, max)
        })
        .fold(f64::INFINITY, f64::min)
}
