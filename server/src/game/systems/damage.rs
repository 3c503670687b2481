//! What a hit does, whatever dealt it: damage, death, the shooter's score and the events.

use bevy_ecs::prelude::*;
use shared::protocol::{GameEvent, Weapon};
use shared::rules::{RESPAWN_MS, ticks_for_ms};

use crate::game::components::{Clock, NetId, PendingEvents, Player, Position};

/// Takes `amount` hit points from `victim`; on a kill, schedules its respawn, scores the
/// shooter and records the kill. Every hit is an event too (hit markers). True on a kill.
pub fn damage(
    players: &mut Query<(&NetId, &mut Player, &Position)>,
    victim: u32,
    shooter: u32,
    amount: u8,
    weapon: Weapon,
    clock: &Clock,
    events: &mut PendingEvents,
) -> bool {
    let mut killed = false;
    for (id, mut pl, _) in players.iter_mut() {
        if id.0 == victim && pl.alive {
            pl.hp = pl.hp.saturating_sub(amount);
            if pl.hp == 0 {
                pl.alive = false;
                pl.held = 0;
                pl.deaths = pl.deaths.saturating_add(1);
                pl.respawn_tick = clock.tick + ticks_for_ms(RESPAWN_MS, clock.rate);
                killed = true;
            }
        }
    }
    events.0.push(GameEvent::Hit {
        tick: clock.tick,
        shooter,
        victim,
        damage: amount,
        weapon,
    });
    if !killed {
        return false;
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
    true
}
