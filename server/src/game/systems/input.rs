//! Takes each player's next queued input: one per tick, so extra inputs never add speed.

use bevy_ecs::prelude::*;
use shared::rules::buttons;

use crate::game::components::{InputQueue, Player};

/// Applies at most one queued input per player; with none queued the last one stays held.
pub fn apply_inputs(mut players: Query<(&mut Player, &mut InputQueue)>) {
    for (mut player, mut queue) in &mut players {
        if let Some(input) = queue.0.pop_front() {
            player.held = input.buttons & buttons::ALL;
            player.aim = input.aim;
            player.last_input_seq = input.seq;
            player.view_tick = input.view_tick;
        }
    }
}
