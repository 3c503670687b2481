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

/// Quantized state as it goes on the wire. Positions are in 1/256 world units
/// ([`crate::quant::POS_SCALE`], the simulation's own fixed point, so clients can run the
/// movement rule on them exactly); angles are a full turn in 65536 steps.
///
/// A player carries the movement buttons it holds: every client moves it by the shared rule
/// between snapshots, so steady motion costs nothing on the wire ([`crate::predict`]). Its `aim`
/// is rounded to 256 steps (1.4°): enough to draw others, and a client knows its own exactly.
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
    /// Players: the movement bits of [`crate::rules::buttons`] held. Projectiles: 0.
    pub buttons: u8,
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

/// One entity in a snapshot: (network id, quantized state).
pub type Entry = (u32, EntityState);

/// Field mask bits, ordered so that the usual masks stay below 251 and fit one varint byte: a
/// player turning (`AIM_HI`), changing direction (`BUTTONS`), a projectile spawning
/// (`AIM_HI | AIM_LO | KIND | OWNER`, with `AGE` when lag compensation created it part-way
/// into its flight), a hit (`HP`, `FLAGS`).
pub mod bit {
    pub const AIM_HI: u16 = 1 << 0;
    pub const BUTTONS: u16 = 1 << 1;
    pub const AIM_LO: u16 = 1 << 2;
    pub const KIND: u16 = 1 << 3;
    pub const OWNER: u16 = 1 << 4;
    pub const AGE: u16 = 1 << 5;
    pub const HP: u16 = 1 << 6;
    pub const FLAGS: u16 = 1 << 7;
    pub const DX: u16 = 1 << 8;
    pub const DY: u16 = 1 << 9;
    pub const SCORE: u16 = 1 << 10;
    pub const DEATHS: u16 = 1 << 11;
    pub const ALL: u16 = (1 << 12) - 1;
}

/// The fields of an entity that differ from what the client will compute on its own. `dx` and
/// `dy` are corrections: the true position minus the predicted one (wrapping), present only
/// when the prediction is off. `age` carries a changed `tick` as how many ticks before the
/// snapshot's tick it is (wrapping): a lag-compensated shot is a few ticks old, one byte,
/// where the tick itself would take three. On the wire: a `u16` mask (varint) then the present fields in
/// mask-bit order.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntityPatch {
    pub aim_hi: Option<u8>,
    pub buttons: Option<u8>,
    pub aim_lo: Option<u8>,
    pub kind: Option<EntityKind>,
    pub owner: Option<u32>,
    pub age: Option<u32>,
    pub hp: Option<u8>,
    pub flags: Option<u8>,
    pub dx: Option<i32>,
    pub dy: Option<i32>,
    pub score: Option<u16>,
    pub deaths: Option<u16>,
}

fn changed<T: PartialEq + Copy>(from: T, to: T) -> Option<T> {
    (from != to).then_some(to)
}

fn hi(aim: u16) -> u8 {
    (aim >> 8) as u8
}

fn lo(aim: u16) -> u8 {
    aim as u8
}

impl EntityPatch {
    /// The patch that turns `from` into `to` in a snapshot of tick `at` when the client
    /// predicts `predicted` as the new position (may be empty).
    pub fn between(
        from: &EntityState,
        to: &EntityState,
        predicted: (i32, i32),
        at: u32,
    ) -> EntityPatch {
        let correction = |to: i32, p: i32| changed(0, to.wrapping_sub(p));
        EntityPatch {
            aim_hi: changed(hi(from.aim), hi(to.aim)),
            buttons: changed(from.buttons, to.buttons),
            aim_lo: changed(lo(from.aim), lo(to.aim)),
            kind: changed(from.kind, to.kind),
            owner: changed(from.owner, to.owner),
            age: changed(from.tick, to.tick).map(|t| at.wrapping_sub(t)),
            hp: changed(from.hp, to.hp),
            flags: changed(from.flags, to.flags),
            dx: correction(to.x, predicted.0),
            dy: correction(to.y, predicted.1),
            score: changed(from.score, to.score),
            deaths: changed(from.deaths, to.deaths),
        }
    }

    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.mask() == 0
    }

    /// Writes the present fields other than the position into `state`, in a snapshot of tick
    /// `at`; see [`EntityPatch::place`] for the position.
    pub fn apply_fields(&self, state: &mut EntityState, at: u32) {
        fn set<T: Copy>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        if let Some(h) = self.aim_hi {
            state.aim = u16::from(h) << 8 | (state.aim & 0xFF);
        }
        if let Some(l) = self.aim_lo {
            state.aim = (state.aim & 0xFF00) | u16::from(l);
        }
        set(&mut state.buttons, self.buttons);
        set(&mut state.kind, self.kind);
        set(&mut state.owner, self.owner);
        set(&mut state.hp, self.hp);
        set(&mut state.flags, self.flags);
        set(&mut state.score, self.score);
        set(&mut state.deaths, self.deaths);
        set(&mut state.tick, self.age.map(|a| at.wrapping_sub(a)));
    }

    /// Sets `state`'s position to the prediction plus the corrections.
    pub fn place(&self, state: &mut EntityState, predicted: (i32, i32)) {
        state.x = predicted.0.wrapping_add(self.dx.unwrap_or(0));
        state.y = predicted.1.wrapping_add(self.dy.unwrap_or(0));
    }

    /// The field mask: one bit per present field.
    pub fn mask(&self) -> u16 {
        let mut m = 0;
        let mut on = |present: bool, b: u16| {
            if present {
                m |= b;
            }
        };
        on(self.aim_hi.is_some(), bit::AIM_HI);
        on(self.buttons.is_some(), bit::BUTTONS);
        on(self.aim_lo.is_some(), bit::AIM_LO);
        on(self.kind.is_some(), bit::KIND);
        on(self.owner.is_some(), bit::OWNER);
        on(self.age.is_some(), bit::AGE);
        on(self.hp.is_some(), bit::HP);
        on(self.flags.is_some(), bit::FLAGS);
        on(self.dx.is_some(), bit::DX);
        on(self.dy.is_some(), bit::DY);
        on(self.score.is_some(), bit::SCORE);
        on(self.deaths.is_some(), bit::DEATHS);
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
        put(&self.aim_hi, e)?;
        put(&self.buttons, e)?;
        put(&self.aim_lo, e)?;
        put(&self.kind, e)?;
        put(&self.owner, e)?;
        put(&self.age, e)?;
        put(&self.hp, e)?;
        put(&self.flags, e)?;
        put(&self.dx, e)?;
        put(&self.dy, e)?;
        put(&self.score, e)?;
        put(&self.deaths, e)
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

/// Decodes a patch whose mask may be 0 (a spawned entity equal to the template).
pub(crate) fn decode_patch<C, D: Decoder<Context = C>>(
    d: &mut D,
) -> Result<EntityPatch, DecodeError> {
    let mask = u16::decode(d)?;
    if mask & !bit::ALL != 0 {
        return Err(DecodeError::Other("entity patch: unknown field bit"));
    }
    Ok(EntityPatch {
        aim_hi: take(mask, bit::AIM_HI, d)?,
        buttons: take(mask, bit::BUTTONS, d)?,
        aim_lo: take(mask, bit::AIM_LO, d)?,
        kind: take(mask, bit::KIND, d)?,
        owner: take(mask, bit::OWNER, d)?,
        age: take(mask, bit::AGE, d)?,
        hp: take(mask, bit::HP, d)?,
        flags: take(mask, bit::FLAGS, d)?,
        dx: take(mask, bit::DX, d)?,
        dy: take(mask, bit::DY, d)?,
        score: take(mask, bit::SCORE, d)?,
        deaths: take(mask, bit::DEATHS, d)?,
    })
}
