//! The arena's schema: two kinds of entity, three events and its input, in the order that keeps
//! the usual field masks to one byte (a turning player is `aim`, a change of direction
//! `buttons`, a correction `x`/`y`, a hit `hp`/`flags`).

use shared::wire::component::Replicated;
use shared::wire::schema::{Encoding, EventDef, FieldDef, KindDef, Schema, SchemaDef, SchemaError};

use crate::wire::{Aim, Flight, Health, Movement, Position, Score, flags};

/// The kind index of players.
pub const PLAYER: u16 = 0;
/// The kind index of shots (the gun's projectiles).
pub const SHOT: u16 = 1;

/// Field indices within a player.
pub mod player {
    pub const AIM: usize = 0;
    pub const BUTTONS: usize = 1;
    pub const X: usize = 2;
    pub const Y: usize = 3;
    pub const HP: usize = 4;
    pub const FLAGS: usize = 5;
    pub const KILLS: usize = 6;
    pub const DEATHS: usize = 7;
}

/// Field indices within a shot.
pub mod shot {
    pub const X: usize = 0;
    pub const Y: usize = 1;
    pub const AIM: usize = 2;
    pub const OWNER: usize = 3;
    pub const FIRED: usize = 4;
}

/// Event kind indices.
pub mod event {
    /// `at` (tick), `killer`, `victim`.
    pub const KILL: u16 = 0;
    /// `at`, `shooter`, `victim`, `damage`, `weapon` (0 gun, 1 rail).
    pub const HIT: u16 = 1;
    /// `at`, `shooter`, `aim` (16-bit), `length` (world units the beam went).
    pub const RAIL: u16 = 2;
}

/// Hit points of a fresh player.
pub const MAX_HP: u8 = 100;

fn event(name: &str, fields: &[(&str, Encoding)]) -> EventDef {
    EventDef {
        name: name.to_owned(),
        fields: fields.iter().map(|(n, e)| FieldDef::new(n, *e)).collect(),
    }
}

/// What the arena puts on the wire.
pub fn schema_def() -> SchemaDef {
    use Encoding::{Entity, Tick, U8, U16, Varint};
    SchemaDef {
        game: "arena".into(),
        // Component indices: 0 aim, 1 movement, 2 position, 3 health, 4 score, 5 flight.
        components: vec![
            Aim::def(),
            Movement::def(),
            Position::def(),
            Health::def(),
            Score::def(),
            Flight::def(),
        ],
        kinds: vec![
            KindDef {
                name: "player".into(),
                components: vec![0, 1, 2, 3, 4],
                named: true,
                template: vec![0, 0, 0, 0, u32::from(MAX_HP), u32::from(flags::ALIVE), 0, 0],
            },
            KindDef {
                name: "shot".into(),
                components: vec![2, 5],
                named: false,
                template: vec![0; 5],
            },
        ],
        events: vec![
            event(
                "kill",
                &[("at", Tick), ("killer", Entity), ("victim", Entity)],
            ),
            event(
                "hit",
                &[
                    ("at", Tick),
                    ("shooter", Entity),
                    ("victim", Entity),
                    ("damage", U8),
                    ("weapon", Varint),
                ],
            ),
            event(
                "rail",
                &[
                    ("at", Tick),
                    ("shooter", Entity),
                    ("aim", Varint),
                    ("length", Varint),
                ],
            ),
        ],
        // Buttons (bits: up 1, down 2, left 4, right 8, fire 16, rail 32) and the aim, a full
        // turn in 65536 steps: it changes every input, so two fixed bytes beat a 3-byte varint.
        input: vec![FieldDef::new("buttons", U8), FieldDef::new("aim", U16)],
    }
}

/// The arena's schema, checked.
pub fn schema() -> Result<Schema, SchemaError> {
    Schema::new(schema_def())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_valid_and_its_indices_are_the_constants() {
        let s = schema().expect("the arena's schema is valid");
        assert_eq!(s.kind_index("player"), Some(PLAYER));
        assert_eq!(s.kind_index("shot"), Some(SHOT));
        assert_eq!(s.event_index("rail"), Some(event::RAIL));
        assert_eq!(
            s.kind(PLAYER).map(|k| k.slots.len()),
            Some(player::DEATHS + 1)
        );
        assert_eq!(s.kind(SHOT).map(|k| k.slots.len()), Some(shot::FIRED + 1));
    }
}
