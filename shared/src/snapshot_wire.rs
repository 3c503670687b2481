//! The byte layout of a [`Snapshot`] (docs/protocol.md §5): a base, a section byte, the
//! sections present, then the per-client acknowledgement. Indices are gap-coded and changed
//! baseline entities are a bitmap, so a quiet world costs a few bytes whatever its size.

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::delta::{Changed, Delta, Spawned};
use crate::entity::decode_patch;
use crate::protocol::{GameEvent, Snapshot, SnapshotBase};

/// Bits of the section byte: which parts follow, in this order.
pub mod section {
    pub const REMOVED: u8 = 1;
    pub const CHANGED: u8 = 2;
    pub const SPAWNED: u8 = 4;
    pub const EVENTS: u8 = 8;
    pub const ALL: u8 = 15;
}

/// Writes everything of a snapshot but the acknowledgement.
pub(crate) fn encode_body<E: Encoder>(
    base: SnapshotBase,
    delta: &Delta,
    events: &[GameEvent],
    e: &mut E,
) -> Result<(), EncodeError> {
    match base {
        SnapshotBase::Full { tick } => {
            0u32.encode(e)?;
            tick.encode(e)?;
        }
        SnapshotBase::Since { ticks } => ticks.encode(e)?,
    }
    let mut sections = 0;
    for (present, bit) in [
        (!delta.removed.is_empty(), section::REMOVED),
        (!delta.changed.is_empty(), section::CHANGED),
        (!delta.spawned.is_empty(), section::SPAWNED),
        (!events.is_empty(), section::EVENTS),
    ] {
        if present {
            sections |= bit;
        }
    }
    sections.encode(e)?;
    if !delta.removed.is_empty() {
        encode_gaps(delta.removed.iter().copied(), delta.removed.len(), e)?;
    }
    if !delta.changed.is_empty() {
        // Written byte by byte from the increasing indices, with no buffer; an index out of
        // order is left out of the bitmap (its patch then decodes against another index).
        let last = delta.changed.iter().map(|c| c.index).max().unwrap_or(0);
        let len = last / 8 + 1;
        (len as usize).encode(e)?;
        let mut next = delta.changed.iter().map(|c| c.index).peekable();
        for at in 0..len {
            let mut byte = 0u8;
            while let Some(i) = next.next_if(|i| i / 8 <= at) {
                if i / 8 == at {
                    byte |= 1 << (i % 8);
                }
            }
            byte.encode(e)?;
        }
        for c in &delta.changed {
            c.patch.encode(e)?;
        }
    }
    if !delta.spawned.is_empty() {
        delta.spawned.len().encode(e)?;
        let mut prev: Option<u32> = None;
        for s in &delta.spawned {
            gap(prev, s.id).encode(e)?;
            prev = Some(s.id);
            s.name.encode(e)?;
            s.patch.encode(e)?;
        }
    }
    if !events.is_empty() {
        events.encode(e)?;
    }
    Ok(())
}

/// The distance from the previous value of an increasing list: the first as is, then
/// `v - prev - 1` (wrapping, so an out-of-order list still encodes; it decodes as an error).
fn gap(prev: Option<u32>, v: u32) -> u32 {
    prev.map_or(v, |p| v.wrapping_sub(p).wrapping_sub(1))
}

fn encode_gaps<E: Encoder>(
    values: impl Iterator<Item = u32>,
    len: usize,
    e: &mut E,
) -> Result<(), EncodeError> {
    len.encode(e)?;
    let mut prev = None;
    for v in values {
        gap(prev, v).encode(e)?;
        prev = Some(v);
    }
    Ok(())
}

/// Reads a section's element count: present sections are never empty.
fn count<C, D: Decoder<Context = C>>(d: &mut D, what: &'static str) -> Result<usize, DecodeError> {
    let n = usize::decode(d)?;
    if n == 0 {
        return Err(DecodeError::Other(what));
    }
    Ok(n)
}

/// Reads the next value of a gap-coded increasing list.
fn ungap<C, D: Decoder<Context = C>>(d: &mut D, prev: Option<u32>) -> Result<u32, DecodeError> {
    let g = u32::decode(d)?;
    match prev {
        None => Ok(g),
        Some(p) => p
            .checked_add(g)
            .and_then(|v| v.checked_add(1))
            .ok_or(DecodeError::Other("snapshot: index or id past u32")),
    }
}

impl Encode for Snapshot {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        encode_body(self.base, &self.delta, &self.events, e)?;
        self.ack.encode(e)
    }
}

impl<C> Decode<C> for Snapshot {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let base = match u32::decode(d)? {
            0 => SnapshotBase::Full {
                tick: u32::decode(d)?,
            },
            ticks => SnapshotBase::Since { ticks },
        };
        let sections = u8::decode(d)?;
        if sections & !section::ALL != 0 {
            return Err(DecodeError::Other("snapshot: unknown section bit"));
        }
        let mut delta = Delta::default();
        if sections & section::REMOVED != 0 {
            let n = count(d, "snapshot: empty removed section")?;
            let mut prev = None;
            for _ in 0..n {
                let i = ungap(d, prev)?;
                delta.removed.push(i);
                prev = Some(i);
            }
        }
        if sections & section::CHANGED != 0 {
            let n = count(d, "snapshot: empty changed bitmap")?;
            let mut bitmap = Vec::new();
            for _ in 0..n {
                bitmap.push(u8::decode(d)?);
            }
            if bitmap.last() == Some(&0) {
                return Err(DecodeError::Other("snapshot: changed bitmap ends in zeros"));
            }
            for (byte_at, byte) in bitmap.iter().enumerate() {
                for b in 0..8 {
                    if byte & (1 << b) == 0 {
                        continue;
                    }
                    let index = u32::try_from(byte_at * 8 + b)
                        .map_err(|_| DecodeError::Other("snapshot: bitmap past u32"))?;
                    let patch = decode_patch(d)?;
                    if patch.is_empty() {
                        return Err(DecodeError::Other("snapshot: changed entity with no field"));
                    }
                    delta.changed.push(Changed { index, patch });
                }
            }
        }
        if sections & section::SPAWNED != 0 {
            let n = count(d, "snapshot: empty spawned section")?;
            let mut prev = None;
            for _ in 0..n {
                let id = ungap(d, prev)?;
                prev = Some(id);
                let name = String::decode(d)?;
                let patch = decode_patch(d)?;
                delta.spawned.push(Spawned { id, name, patch });
            }
        }
        let events = if sections & section::EVENTS != 0 {
            let events = Vec::<GameEvent>::decode(d)?;
            if events.is_empty() {
                return Err(DecodeError::Other("snapshot: empty events section"));
            }
            events
        } else {
            Vec::new()
        };
        let ack = u32::decode(d)?;
        Ok(Snapshot {
            base,
            delta,
            events,
            ack,
        })
    }
}

bincode::impl_borrow_decode!(Snapshot);
