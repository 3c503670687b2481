//! The arena's systems, one small job each, run in order every tick.

pub mod damage;
pub mod end;
pub mod input;
pub mod movement;
pub mod projectiles;
pub mod rail;
pub mod respawn;
pub mod rewind;
pub mod weapons;

use bevy_ecs::prelude::*;

/// The per-tick schedule: inputs → movement → weapons → rails → projectiles (hits, damage,
/// death) → respawn → the lag-compensation record → end check. Chained, so each system sees the previous one's commands applied.
pub fn schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.add_systems(
        (
            input::apply_inputs,
            movement::move_players,
            weapons::fire_weapons,
            rail::fire_rails,
            projectiles::fly_projectiles,
            respawn::respawn_players,
            rewind::record_targets,
            end::check_end,
        )
            .chain(),
    );
    schedule
}

/// Debug builds only: panics inside the schedule. [`crate::game::sim::Sim::inject_panic`] adds
/// it to one match's schedule when a test asks, so no other tick runs it.
#[cfg(debug_assertions)]
pub fn fault_injection() {
    panic!("injected fault");
}
