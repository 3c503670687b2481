//! The world's hash: everything the next ticks depend on (every player's and projectile's state,
//! the clock, the limits, the outcome, the next network id), in network-id order. Recordings
//! store it every few ticks; a replay that computes another value has diverged.

use std::hash::Hasher;

use bevy_ecs::prelude::*;
use fnv::FnvHasher;

use crate::game::components::*;

/// FNV-1a over the world's state, folded to 32 bits (a divergence check, not a signature).
pub fn world_hash(world: &mut World, scratch: &mut Vec<(u32, Entity)>) -> u32 {
    let mut h = FnvHasher::default();
    let clock = world.resource::<Clock>();
    h.write_u32(clock.tick);
    h.write_u16(clock.rate);
    let limits = world.resource::<Limits>();
    h.write_u16(limits.score);
    h.write_u32(limits.last_tick);
    h.write_u8(world.resource::<Outcome>().0.map_or(0xFF, |r| r as u8));
    h.write_u32(world.resource::<NetIds>().last());
    scratch.clear();
    scratch.extend(
        world
            .query::<(Entity, &NetId)>()
            .iter(world)
            .map(|(e, id)| (id.0, e)),
    );
    scratch.sort_unstable_by_key(|(id, _)| *id);
    for &(id, e) in scratch.iter() {
        h.write_u32(id);
        if let Some(pos) = world.get::<Position>(e) {
            h.write_i32(pos.x);
            h.write_i32(pos.y);
        }
        if let Some(p) = world.get::<Player>(e) {
            h.write_u8(p.held);
            h.write_u16(p.aim);
            h.write_u8(p.hp);
            h.write_u8(u8::from(p.alive));
            h.write_u32(p.respawn_tick);
            h.write_u32(p.next_fire_tick);
            h.write_u32(p.next_rail_tick);
            h.write_u16(p.score);
            h.write_u16(p.deaths);
            h.write_u32(p.last_input_seq);
            h.write_u32(p.view_tick);
            h.write_u32(p.life);
        }
        if let Some(q) = world.get::<InputQueue>(e) {
            h.write_usize(q.0.len());
            for i in &q.0 {
                h.write_u32(i.seq);
                h.write_u8(i.buttons);
                h.write_u16(i.aim);
                h.write_u32(i.view_tick);
            }
        }
        if let Some(p) = world.get::<Projectile>(e) {
            h.write_u32(p.owner);
            h.write_i32(p.x);
            h.write_i32(p.y);
            h.write_u16(p.aim);
            h.write_u32(p.fired_tick);
            h.write_u32(p.expires_tick);
            h.write_u32(p.spawned_tick);
        }
    }
    let v = h.finish();
    (v ^ (v >> 32)) as u32
}
