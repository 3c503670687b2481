//! Fires projectiles for living players holding fire, no faster than the fire interval.

use bevy_ecs::prelude::*;
use shared::rules::{FIRE_INTERVAL_MS, PROJECTILE_LIFETIME_MS, buttons, ticks_for_ms};

use crate::game::components::{Clock, NetId, NetIds, Player, Position, Projectile};

/// Spawns a projectile at the shooter's position for each player allowed to fire this tick.
pub fn fire_weapons(
    mut commands: Commands,
    mut players: Query<(&NetId, &mut Player, &Position)>,
    clock: Res<Clock>,
    mut ids: ResMut<NetIds>,
) {
    for (id, mut player, pos) in &mut players {
        if !player.alive || player.held & buttons::FIRE == 0 || clock.tick < player.next_fire_tick {
            continue;
        }
        player.next_fire_tick = clock.tick + ticks_for_ms(FIRE_INTERVAL_MS, clock.rate);
        commands.spawn((
            ids.allocate(),
            Projectile {
                owner: id.0,
                x: pos.x,
                y: pos.y,
                aim: player.aim,
                fired_tick: clock.tick,
                expires_tick: clock.tick + ticks_for_ms(PROJECTILE_LIFETIME_MS, clock.rate),
            },
        ));
    }
}
