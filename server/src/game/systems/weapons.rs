//! Fires projectiles for living players holding fire, no faster than the fire interval.

use bevy_ecs::prelude::*;
use shared::rules::{FIRE_INTERVAL_MS, PROJECTILE_LIFETIME_MS, buttons, ticks_for_ms};

use crate::game::components::{Clock, NetId, NetIds, Player, Position, Projectile};
use crate::game::systems::rewind::Rewind;

/// Spawns a projectile at the shooter's position for each player allowed to fire this tick.
///
/// Lag compensation: the shot left the muzzle when the shooter's client showed the others at
/// its view tick, so it is created that many ticks into its flight (within the bound) and
/// catches up against the targets as they were at each of those ticks (`fly_projectiles`).
/// Its lifetime counts from the view tick, so its range does not grow.
pub fn fire_weapons(
    mut commands: Commands,
    mut players: Query<(&NetId, &mut Player, &Position)>,
    clock: Res<Clock>,
    rewind: Res<Rewind>,
    mut ids: ResMut<NetIds>,
) {
    for (id, mut player, pos) in &mut players {
        if !player.alive || player.held & buttons::FIRE == 0 || clock.tick < player.next_fire_tick {
            continue;
        }
        player.next_fire_tick = clock.tick + ticks_for_ms(FIRE_INTERVAL_MS, clock.rate);
        let fired_tick = rewind.rewound_tick(clock.tick, player.view_tick, clock.rate);
        commands.spawn((
            ids.allocate(),
            Projectile {
                owner: id.0,
                x: pos.x,
                y: pos.y,
                aim: player.aim,
                fired_tick,
                expires_tick: fired_tick + ticks_for_ms(PROJECTILE_LIFETIME_MS, clock.rate),
                spawned_tick: clock.tick,
            },
        ));
    }
}
