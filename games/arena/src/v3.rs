//! The arena's v3 entities and events as v4 frames and events. Transitional: the server still
//! builds v3 worlds; until it builds v4 frames itself (docs/game-api.md, step 3), the bench,
//! the v3/v4 comparison and the JS fixtures convert through here.

use shared::entity::{EntityKind, Entry};
use shared::protocol::{GameEvent, Weapon};
use shared::wire::event::Event;
use shared::wire::frame::{Frame, FrameError};
use shared::wire::schema::Schema;

use crate::schema::{PLAYER, SHOT, event};
use crate::wire::Aim;

/// The v4 frame of a v3 world (already sorted by id). v3's player aim is already rounded to
/// its high byte.
pub fn frame_of(schema: &Schema, entities: &[Entry]) -> Result<Frame, FrameError> {
    let mut f = Frame::with_capacity(entities.len(), entities.len() * 8);
    for (id, s) in entities {
        match s.kind {
            EntityKind::Player => f.push(
                schema,
                *id,
                PLAYER,
                &[
                    u32::from(Aim::of(s.aim).coarse),
                    u32::from(s.buttons),
                    s.x as u32,
                    s.y as u32,
                    u32::from(s.hp),
                    u32::from(s.flags),
                    u32::from(s.score),
                    u32::from(s.deaths),
                ],
            )?,
            EntityKind::Projectile => f.push(
                schema,
                *id,
                SHOT,
                &[s.x as u32, s.y as u32, u32::from(s.aim), s.owner, s.tick],
            )?,
        }
    }
    Ok(f)
}

/// The v4 event of a v3 one.
pub fn event_of(e: &GameEvent) -> Event {
    match *e {
        GameEvent::Kill {
            tick,
            killer,
            victim,
        } => Event::new(event::KILL, &[tick, killer, victim]),
        GameEvent::Hit {
            tick,
            shooter,
            victim,
            damage,
            weapon,
        } => {
            let weapon = match weapon {
                Weapon::Gun => 0,
                Weapon::Rail => 1,
            };
            Event::new(
                event::HIT,
                &[tick, shooter, victim, u32::from(damage), weapon],
            )
        }
        GameEvent::Rail {
            tick,
            shooter,
            aim,
            length,
        } => Event::new(
            event::RAIL,
            &[tick, shooter, u32::from(aim), u32::from(length)],
        ),
    }
}
