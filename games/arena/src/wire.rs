//! The arena's replicated components, as the wire carries them: a player is aim, movement,
//! position, health and score; a shot is a position and its flight.

use shared::wire::component::Replicated;
use shared::wire::schema::{ComponentDef, Encoding, FieldDef, Hint};

/// Bits of [`Health::flags`].
pub mod flags {
    /// The player is alive (dead players are not drawn and cannot act).
    pub const ALIVE: u8 = 1;
}

fn component(name: &str, fields: Vec<FieldDef>) -> ComponentDef {
    ComponentDef {
        name: name.to_owned(),
        fields,
    }
}

/// Steps of a world unit in a position (the simulation's own fixed point, so clients step the
/// movement rule on exactly what the server has).
pub const POSITION_SCALE: u32 = 256;

/// A player's aim for others to draw, in 256 steps of a turn (1.4°, rounded): a turning player
/// costs one byte. A client draws its own aim from its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aim {
    /// The aim's high byte: a full turn in 256 steps.
    pub coarse: u8,
}

impl Aim {
    /// The coarse aim of a 16-bit angle, rounded to the nearest step.
    pub fn of(aim: u16) -> Aim {
        Aim {
            coarse: (aim.wrapping_add(0x80) >> 8) as u8,
        }
    }

    /// As a 16-bit angle.
    pub fn angle(self) -> u16 {
        u16::from(self.coarse) << 8
    }
}

impl Replicated for Aim {
    const NAME: &'static str = "aim";

    fn def() -> ComponentDef {
        component(
            Self::NAME,
            vec![FieldDef::new("coarse", Encoding::U8).hint(Hint::Angle { turn: 256 })],
        )
    }

    fn write(&self, out: &mut [u32]) {
        out[0] = u32::from(self.coarse);
    }

    fn read(f: &[u32]) -> Aim {
        Aim { coarse: f[0] as u8 }
    }
}

/// The movement buttons a player holds: every client moves it by the movement rule with them
/// between snapshots, so steady motion costs nothing on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Movement {
    pub buttons: u8,
}

impl Replicated for Movement {
    const NAME: &'static str = "movement";

    fn def() -> ComponentDef {
        component(Self::NAME, vec![FieldDef::new("buttons", Encoding::U8)])
    }

    fn write(&self, out: &mut [u32]) {
        out[0] = u32::from(self.buttons);
    }

    fn read(f: &[u32]) -> Movement {
        Movement {
            buttons: f[0] as u8,
        }
    }
}

/// Where an entity is (a shot: where it left from), in 1/256 world units; predicted, so only
/// corrections travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub x: i32,
    pub y: i32,
}

impl Replicated for Position {
    const NAME: &'static str = "position";

    fn def() -> ComponentDef {
        let scale = POSITION_SCALE;
        component(
            Self::NAME,
            vec![
                FieldDef::new("x", Encoding::Signed)
                    .predicted()
                    .hint(Hint::X { scale }),
                FieldDef::new("y", Encoding::Signed)
                    .predicted()
                    .hint(Hint::Y { scale }),
            ],
        )
    }

    fn write(&self, out: &mut [u32]) {
        out[0] = self.x as u32;
        out[1] = self.y as u32;
    }

    fn read(f: &[u32]) -> Position {
        Position {
            x: f[0] as i32,
            y: f[1] as i32,
        }
    }
}

/// A player's hit points and state flags ([`flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Health {
    pub hp: u8,
    pub flags: u8,
}

impl Replicated for Health {
    const NAME: &'static str = "health";

    fn def() -> ComponentDef {
        component(
            Self::NAME,
            vec![
                FieldDef::new("hp", Encoding::U8),
                FieldDef::new("flags", Encoding::U8),
            ],
        )
    }

    fn write(&self, out: &mut [u32]) {
        out[0] = u32::from(self.hp);
        out[1] = u32::from(self.flags);
    }

    fn read(f: &[u32]) -> Health {
        Health {
            hp: f[0] as u8,
            flags: f[1] as u8,
        }
    }
}

/// A player's kills and deaths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Score {
    pub kills: u16,
    pub deaths: u16,
}

impl Replicated for Score {
    const NAME: &'static str = "score";

    fn def() -> ComponentDef {
        component(
            Self::NAME,
            vec![
                FieldDef::new("kills", Encoding::Varint),
                FieldDef::new("deaths", Encoding::Varint),
            ],
        )
    }

    fn write(&self, out: &mut [u32]) {
        out[0] = u32::from(self.kills);
        out[1] = u32::from(self.deaths);
    }

    fn read(f: &[u32]) -> Score {
        Score {
            kills: f[0] as u16,
            deaths: f[1] as u16,
        }
    }
}

/// A shot's flight: it never changes after it spawns, and everyone computes where it is from
/// its origin ([`Position`]), direction and firing tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flight {
    /// Direction, a full turn in 65536 steps.
    pub aim: u16,
    /// The shooter's entity.
    pub owner: u32,
    /// The tick it left its origin.
    pub fired: u32,
}

impl Replicated for Flight {
    const NAME: &'static str = "flight";

    fn def() -> ComponentDef {
        component(
            Self::NAME,
            vec![
                FieldDef::new("aim", Encoding::U16).hint(Hint::Angle { turn: 65536 }),
                FieldDef::new("owner", Encoding::Entity).hint(Hint::Owner),
                FieldDef::new("fired", Encoding::Tick),
            ],
        )
    }

    fn write(&self, out: &mut [u32]) {
        out[0] = u32::from(self.aim);
        out[1] = self.owner;
        out[2] = self.fired;
    }

    fn read(f: &[u32]) -> Flight {
        Flight {
            aim: f[0] as u16,
            owner: f[1],
            fired: f[2],
        }
    }
}
