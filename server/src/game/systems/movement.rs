//! Moves living players by the shared movement rule.

use bevy_ecs::prelude::*;
use shared::rules::movement::move_player;

use crate::game::components::{Clock, Map, Player, Position};

/// One movement step for every living player, with the buttons it holds.
pub fn move_players(
    mut players: Query<(&Player, &mut Position)>,
    clock: Res<Clock>,
    map: Res<Map>,
) {
    for (player, mut pos) in &mut players {
        if player.alive && player.held != 0 {
            let (x, y) = move_player(&map.0, pos.x, pos.y, player.held, clock.rate);
            if (x, y) != (pos.x, pos.y) {
                *pos = Position { x, y };
            }
        }
    }
}
