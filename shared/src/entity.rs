//! The replicated, quantized state of one entity, and the field-masked patch that changes it.

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

/// What an entity is.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntityKind {
    #[default]
    Player,
    Projectile,
}

/// Bits of [`EntityState::flags`].
pub mod flags {
    /// The player is alive (dead players are not drawn and cannot act).
    pub const ALIVE: u8 = 1;
}

/// Quantized state as it goes on the wire. Positions are in 1/16 world units
/// ([`crate::quant::POS_SCALE`]); angles are a full turn in 65536 steps.
///
/// A projectile never changes after it spawns: `x`, `y`, `aim` and `tick` are its origin,
/// direction and spawn tick, and everyone computes where it is now with
/// [`crate::rules::projectile_position`]. Steady flight costs nothing on the wire.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntityState {
    pub kind: EntityKind,
    pub x: i32,
    pub y: i32,
    pub aim: u16,
    /// Players: hit points. Projectiles: 0.
    pub hp: u8,
    /// Bit set of [`flags`].
    pub flags: u8,
    /// Players: kills.
    pub score: u16,
    /// Players: deaths.
    pub deaths: u16,
    /// Projectiles: the shooter's entity id. Players: 0.
    pub owner: u32,
    /// Projectiles: the tick they were fired. Players: 0.
    pub tick: u32,
}

/// Field mask bits, most often changed first so the usual masks fit one varint byte.
mod bit {
    pub const X: u16 = 1 << 0;
    pub const Y: u16 = 1 << 1;
    pub const AIM: u16 = 1 << 2;
    pub const HP: u16 = 1 << 3;
    pub const FLAGS: u16 = 1 << 4;
    pub const SCORE: u16 = 1 << 5;
    pub const DEATHS: u16 = 1 << 6;
    pub const TICK: u16 = 1 << 7;
    pub const OWNER: u16 = 1 << 8;
    pub const KIND: u16 = 1 << 9;
    pub const ALL: u16 = (1 << 10) - 1;
}

/// The fields of an entity that changed, each present only if it differs from the baseline.
/// On the wire: a `u16` mask (varint) then the present fields in mask-bit order.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntityPatch {
    pub x: Option<i32>,
    pub y: Option<i32>,
    pub aim: Option<u16>,
    pub hp: Option<u8>,
    pub flags: Option<u8>,
    pub score: Option<u16>,
    pub deaths: Option<u16>,
    pub tick: Option<u32>,
    pub owner: Option<u32>,
    pub kind: Option<EntityKind>,
}

fn changed<T: PartialEq + Copy>(from: T, to: T) -> Option<T> {
    (from != to).then_some(to)
}

impl EntityPatch {
    /// The patch that turns `from` into `to`, or `None` when they are equal.
    pub fn between(from: &EntityState, to: &EntityState) -> Option<EntityPatch> {
        if from == to {
            return None;
        }
        Some(EntityPatch {
            x: changed(from.x, to.x),
            y: changed(from.y, to.y),
            aim: changed(from.aim, to.aim),
            hp: changed(from.hp, to.hp),
            flags: changed(from.flags, to.flags),
            score: changed(from.score, to.score),
            deaths: changed(from.deaths, to.deaths),
            tick: changed(from.tick, to.tick),
            owner: changed(from.owner, to.owner),
            kind: changed(from.kind, to.kind),
        })
    }

    /// Writes the present fields into `state`.
    pub fn apply(&self, state: &mut EntityState) {
        fn set<T: Copy>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut state.x, self.x);
        set(&mut state.y, self.y);
        set(&mut state.aim, self.aim);
        set(&mut state.hp, self.hp);
        set(&mut state.flags, self.flags);
        set(&mut state.score, self.score);
        set(&mut state.deaths, self.deaths);
        set(&mut state.tick, self.tick);
        set(&mut state.owner, self.owner);
        set(&mut state.kind, self.kind);
    }

    fn mask(&self) -> u16 {
        let mut m = 0;
        let mut on = |present: bool, b: u16| {
            if present {
                m |= b;
            }
        };
        on(self.x.is_some(), bit::X);
        on(self.y.is_some(), bit::Y);
        on(self.aim.is_some(), bit::AIM);
        on(self.hp.is_some(), bit::HP);
        on(self.flags.is_some(), bit::FLAGS);
        on(self.score.is_some(), bit::SCORE);
        on(self.deaths.is_some(), bit::DEATHS);
        on(self.tick.is_some(), bit::TICK);
        on(self.owner.is_some(), bit::OWNER);
        on(self.kind.is_some(), bit::KIND);
        m
    }
}

fn put<T: Encode, E: Encoder>(v: &Option<T>, e: &mut E) -> Result<(), EncodeError> {
    match v {
        Some(v) => v.encode(e),
        None => Ok(()),
    }
}

impl Encode for EntityPatch {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.mask().encode(e)?;
        put(&self.x, e)?;
        put(&self.y, e)?;
        put(&self.aim, e)?;
        put(&self.hp, e)?;
        put(&self.flags, e)?;
        put(&self.score, e)?;
        put(&self.deaths, e)?;
        put(&self.tick, e)?;
        put(&self.owner, e)?;
        put(&self.kind, e)
    }
}

fn take<T: Decode<C>, C, D: Decoder<Context = C>>(
    mask: u16,
    b: u16,
    d: &mut D,
) -> Result<Option<T>, DecodeError> {
    if mask & b == 0 {
        Ok(None)
    } else {
        T::decode(d).map(Some)
    }
}

impl<C> Decode<C> for EntityPatch {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let mask = u16::decode(d)?;
        if mask & !bit::ALL != 0 || mask == 0 {
            return Err(DecodeError::Other("entity patch: bad field mask"));
        }
        Ok(EntityPatch {
            x: take(mask, bit::X, d)?,
            y: take(mask, bit::Y, d)?,
            aim: take(mask, bit::AIM, d)?,
            hp: take(mask, bit::HP, d)?,
            flags: take(mask, bit::FLAGS, d)?,
            score: take(mask, bit::SCORE, d)?,
            deaths: take(mask, bit::DEATHS, d)?,
            tick: take(mask, bit::TICK, d)?,
            owner: take(mask, bit::OWNER, d)?,
            kind: take(mask, bit::KIND, d)?,
        })
    }
}

bincode::impl_borrow_decode!(EntityPatch);
