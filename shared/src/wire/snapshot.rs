//! The byte layout of a snapshot of any game (docs/game-api.md until v4 is the wire): a base, a section byte, the
//! sections present, then the per-client acknowledgement. Indices are gap-coded and changed
//! baseline entities are a bitmap, so a quiet world costs a few bytes whatever its size. A
//! changed entity's fields are laid out by its kind, which the client's baseline tells: a
//! snapshot is decoded against the frame it applies to.

use crate::wire::bytes::{ReadError, Reader, put_str, put_value, put_varint, read_value};
use crate::wire::delta::{Changed, Delta, Spawned};
use crate::wire::event::Event;
use crate::wire::frame::Frame;
use crate::wire::schema::{Encoding, MAX_EVENT_FIELDS, Schema, Slot};

/// Bits of the section byte: which parts follow, in this order.
pub mod section {
    pub const REMOVED: u8 = 1;
    pub const CHANGED: u8 = 2;
    pub const SPAWNED: u8 = 4;
    pub const EVENTS: u8 = 8;
    pub const ALL: u8 = 15;
}

/// What a snapshot applies to.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotBase {
    /// The whole world at `tick`: apply to nothing.
    Full { tick: u32 },
    /// The world `ticks` (at least 1) after the previous snapshot.
    Since { ticks: u32 },
}

/// A snapshot as a delta against the client's baseline, the events since it, and `ack` (the
/// only per-client field, last, so the server encodes the rest once and shares it).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub base: SnapshotBase,
    pub delta: Delta,
    pub events: Vec<Event>,
    /// Full snapshot: the last input sequence number the server applied for this client.
    /// Delta: how much that number grew since the baseline (wrapping).
    pub ack: u32,
}

/// Writes one patch: its mask, then its present values from `values`.
fn put_patch<'v>(
    out: &mut Vec<u8>,
    slots: &[Slot],
    mask: u32,
    values: &mut impl Iterator<Item = &'v u32>,
) {
    put_varint(out, u64::from(mask));
    for (i, slot) in slots.iter().enumerate() {
        if mask & (1 << i) != 0 {
            put_value(out, slot.encoding, values.next().copied().unwrap_or(0));
        }
    }
}

fn read_patch(r: &mut Reader<'_>, slots: &[Slot], values: &mut Vec<u32>) -> Result<u32, ReadError> {
    let mask = r.varint_u32()?;
    let n = slots.len();
    if n < 32 && mask >> n != 0 {
        return Err(ReadError::Malformed(
            "snapshot: mask names a field the kind lacks",
        ));
    }
    for (i, slot) in slots.iter().enumerate() {
        if mask & (1 << i) != 0 {
            values.push(read_value(r, slot.encoding)?);
        }
    }
    Ok(mask)
}

/// The distance from the previous value of an increasing list: the first as is, then
/// `v - prev - 1` (wrapping, so an out-of-order list still encodes; it decodes as an error).
fn gap(prev: Option<u32>, v: u32) -> u32 {
    prev.map_or(v, |p| v.wrapping_sub(p).wrapping_sub(1))
}

fn ungap(r: &mut Reader<'_>, prev: Option<u32>) -> Result<u32, ReadError> {
    let g = r.varint_u32()?;
    match prev {
        None => Ok(g),
        Some(p) => p
            .checked_add(g)
            .and_then(|v| v.checked_add(1))
            .ok_or(ReadError::Malformed("snapshot: index or id past u32")),
    }
}

/// Reads a section's element count: present sections are never empty.
fn count(r: &mut Reader<'_>, what: &'static str) -> Result<usize, ReadError> {
    match r.count()? {
        0 => Err(ReadError::Malformed(what)),
        n => Ok(n),
    }
}

/// Appends everything of a snapshot but the acknowledgement. `base` names the baseline (its
/// kinds lay out the changed entities), `tick` is the snapshot's own tick (events count their
/// ticks back from it).
pub fn encode_body(
    schema: &Schema,
    snapshot: SnapshotBase,
    base: &Frame,
    delta: &Delta,
    events: &[Event],
    tick: u32,
    out: &mut Vec<u8>,
) {
    match snapshot {
        SnapshotBase::Full { tick } => {
            put_varint(out, 0);
            put_varint(out, u64::from(tick));
        }
        SnapshotBase::Since { ticks } => {
            // 0 would read as a full snapshot.
            debug_assert!(
                ticks >= 1,
                "a delta lies at least one tick after its baseline"
            );
            put_varint(out, u64::from(ticks));
        }
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
    out.push(sections);
    if !delta.removed.is_empty() {
        put_varint(out, delta.removed.len() as u64);
        let mut prev = None;
        for &i in &delta.removed {
            put_varint(out, u64::from(gap(prev, i)));
            prev = Some(i);
        }
    }
    let mut values = delta.values.iter();
    if !delta.changed.is_empty() {
        // Written byte by byte from the increasing indices; an index out of order is left out
        // of the bitmap (its patch then decodes against another index, and fails to apply).
        let last = delta.changed.iter().map(|c| c.index).max().unwrap_or(0);
        let len = last / 8 + 1;
        put_varint(out, u64::from(len));
        let mut next = delta.changed.iter().map(|c| c.index).peekable();
        for at in 0..len {
            let mut byte = 0u8;
            while let Some(i) = next.next_if(|i| i / 8 <= at) {
                if i / 8 == at {
                    byte |= 1 << (i % 8);
                }
            }
            out.push(byte);
        }
        for c in &delta.changed {
            let slots = base
                .ids()
                .get(c.index as usize)
                .and_then(|_| schema.kind(base.at(c.index as usize).kind))
                .map_or(&[][..], |k| &k.slots);
            put_patch(out, slots, c.mask, &mut values);
        }
    }
    if !delta.spawned.is_empty() {
        put_varint(out, delta.spawned.len() as u64);
        let mut prev: Option<u32> = None;
        for s in &delta.spawned {
            put_varint(out, u64::from(gap(prev, s.id)));
            prev = Some(s.id);
            put_varint(out, u64::from(s.kind));
            let kind = schema.kind(s.kind);
            if kind.is_some_and(|k| k.named) {
                put_str(out, &s.name);
            }
            put_patch(out, kind.map_or(&[][..], |k| &k.slots), s.mask, &mut values);
        }
    }
    if !events.is_empty() {
        put_varint(out, events.len() as u64);
        for e in events {
            put_varint(out, u64::from(e.kind));
            for (&encoding, &v) in schema.event(e.kind).unwrap_or(&[]).iter().zip(&e.fields) {
                let v = if encoding == Encoding::Tick {
                    tick.wrapping_sub(v)
                } else {
                    v
                };
                put_value(out, encoding, v);
            }
        }
    }
}

/// Appends the per-client acknowledgement that ends a snapshot.
pub fn encode_ack(ack: u32, out: &mut Vec<u8>) {
    put_varint(out, u64::from(ack));
}

/// Reads a whole snapshot (body and ack) that applies to `base`, the frame of tick
/// `base_tick` (ignored for a full snapshot). Never panics, whatever the bytes.
pub fn decode(
    schema: &Schema,
    bytes: &[u8],
    base: &Frame,
    base_tick: u32,
) -> Result<Snapshot, ReadError> {
    let mut r = Reader::new(bytes);
    let (snapshot, tick) = match r.varint_u32()? {
        0 => {
            let tick = r.varint_u32()?;
            (SnapshotBase::Full { tick }, tick)
        }
        ticks => (SnapshotBase::Since { ticks }, base_tick.wrapping_add(ticks)),
    };
    // A full snapshot has no baseline: its changed section cannot name anything.
    let base = match snapshot {
        SnapshotBase::Full { .. } => &Frame::new(),
        SnapshotBase::Since { .. } => base,
    };
    let sections = r.u8()?;
    if sections & !section::ALL != 0 {
        return Err(ReadError::Malformed("snapshot: unknown section bit"));
    }
    let mut delta = Delta::default();
    if sections & section::REMOVED != 0 {
        let n = count(&mut r, "snapshot: empty removed section")?;
        let mut prev = None;
        for _ in 0..n {
            let i = ungap(&mut r, prev)?;
            delta.removed.push(i);
            prev = Some(i);
        }
    }
    if sections & section::CHANGED != 0 {
        let n = count(&mut r, "snapshot: empty changed bitmap")?;
        let mut bitmap = Vec::with_capacity(n);
        for _ in 0..n {
            bitmap.push(r.u8()?);
        }
        if bitmap.last() == Some(&0) {
            return Err(ReadError::Malformed(
                "snapshot: changed bitmap ends in zeros",
            ));
        }
        for (byte_at, byte) in bitmap.iter().enumerate() {
            for b in 0..8 {
                if byte & (1 << b) == 0 {
                    continue;
                }
                let index = byte_at * 8 + b;
                if index >= base.len() {
                    return Err(ReadError::Malformed(
                        "snapshot: changed index past the baseline",
                    ));
                }
                let kind = base.at(index).kind;
                let slots = schema
                    .kind(kind)
                    .map(|k| &k.slots[..])
                    .ok_or(ReadError::Malformed("snapshot: baseline entity of no kind"))?;
                let mask = read_patch(&mut r, slots, &mut delta.values)?;
                if mask == 0 {
                    return Err(ReadError::Malformed(
                        "snapshot: changed entity with no field",
                    ));
                }
                delta.changed.push(Changed {
                    index: index as u32,
                    mask,
                });
            }
        }
    }
    if sections & section::SPAWNED != 0 {
        let n = count(&mut r, "snapshot: empty spawned section")?;
        let mut prev = None;
        for _ in 0..n {
            let id = ungap(&mut r, prev)?;
            prev = Some(id);
            let kind = r.varint_u16()?;
            let layout = schema
                .kind(kind)
                .ok_or(ReadError::Malformed("snapshot: spawn of an unknown kind"))?;
            let name = if layout.named {
                r.str()?.to_owned()
            } else {
                String::new()
            };
            let mask = read_patch(&mut r, &layout.slots, &mut delta.values)?;
            delta.spawned.push(Spawned {
                id,
                kind,
                name,
                mask,
            });
        }
    }
    let mut events = Vec::new();
    if sections & section::EVENTS != 0 {
        let n = count(&mut r, "snapshot: empty events section")?;
        for _ in 0..n {
            let kind = r.varint_u16()?;
            let encodings = schema
                .event(kind)
                .ok_or(ReadError::Malformed("snapshot: event of an unknown kind"))?;
            let mut fields = [0u32; MAX_EVENT_FIELDS];
            for (slot, &encoding) in fields.iter_mut().zip(encodings) {
                let v = read_value(&mut r, encoding)?;
                *slot = if encoding == Encoding::Tick {
                    tick.wrapping_sub(v)
                } else {
                    v
                };
            }
            events.push(Event { kind, fields });
        }
    }
    let ack = r.varint_u32()?;
    r.finish()?;
    Ok(Snapshot {
        base: snapshot,
        delta,
        events,
        ack,
    })
}
