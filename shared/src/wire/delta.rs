//! Deltas of any game's world: what changed between a baseline frame the client holds and the
//! newest one, against what the client predicts on its own ([`super::predict`]).
//!
//! Frames are sorted by network id, which is never reused within a match, so a delta is a merge
//! walk of two sorted lists. Entities of the baseline are named by their index in it, new ones
//! by id. Each entity's patch is a field mask over its kind's fields and the values of the
//! fields present, in mask order; spawns are patches against the kind's template.

use crate::wire::frame::{EntityRef, Frame};
use crate::wire::predict::{Predictor, Step};
use crate::wire::schema::{Encoding, KindLayout, MAX_KIND_FIELDS, Schema, Slot};

/// A baseline entity (by index in the baseline) whose values differ from their prediction.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub index: u32,
    /// Bit `i` set: field `i` of the entity's kind is present.
    pub mask: u32,
}

/// An entity the client did not have.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub id: u32,
    pub kind: u16,
    /// Its display name, for kinds that carry one (empty otherwise).
    pub name: String,
    /// Bit `i` set: field `i` differs from the template (or from the predicted origin).
    pub mask: u32,
}

/// The difference between a baseline and a frame. Each list is in increasing order (of
/// baseline index, or of id for `spawned`).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    /// Baseline indices of the entities gone.
    pub removed: Vec<u32>,
    pub changed: Vec<Changed>,
    pub spawned: Vec<Spawned>,
    /// The present fields' wire values: every changed entity's, then every spawn's, each in
    /// mask order. A predicted field's value is the correction (an `i32`'s bits), a tick
    /// field's how many ticks before the snapshot's tick it is, any other field's the value.
    pub values: Vec<u32>,
}

impl Delta {
    /// True when applying it changes nothing but what the client predicts.
    pub fn is_empty(&self) -> bool {
        self.spawned.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Appends the patch that turns what the client has into `to` and returns its mask. A
/// predicted slot is compared with `predicted`, a tick slot's value is sent as its age before
/// `at`, any other slot is compared with `held` (the baseline's value, or the template's).
#[inline]
fn write_patch(
    slots: &[Slot],
    held: &[u32],
    predicted: &[u32],
    to: &[u32],
    at: u32,
    out: &mut Vec<u32>,
) -> u32 {
    let mut mask = 0;
    for (i, slot) in slots.iter().enumerate() {
        let v = to[i];
        let wire = if slot.predicted {
            let p = predicted[i];
            if v == p {
                continue;
            }
            v.wrapping_sub(p)
        } else {
            if v == held[i] {
                continue;
            }
            if slot.encoding == Encoding::Tick {
                at.wrapping_sub(v)
            } else {
                v
            }
        };
        mask |= 1 << i;
        out.push(wire);
    }
    mask
}

/// A spawn's reference: the template's values (a tick slot's is `at`), and its predicted
/// slots where the rule puts the spawn, written into `held` and `predicted`.
fn spawn_reference(
    layout: &KindLayout,
    spawn: &EntityRef<'_>,
    step: &Step,
    predictor: &dyn Predictor,
    survivors: &Frame,
    held: &mut [u32],
    predicted: &mut [u32],
) {
    for (i, (slot, &t)) in layout.slots.iter().zip(&layout.template).enumerate() {
        held[i] = if slot.encoding == Encoding::Tick {
            step.tick
        } else {
            t
        };
        // The rule sees the spawn's own fields (whom it belongs to), as the client will.
        predicted[i] = if slot.predicted { t } else { spawn.fields[i] };
    }
    if layout.any_predicted {
        predictor.origin(step, spawn.kind, predicted, survivors);
    }
}

/// The delta that turns `base` into `target` for a client predicting with `predictor` at
/// `step`. `name_of` gives a named spawn's name. A full snapshot is `diff(.., &Frame::new(), ..)`.
pub fn diff(
    schema: &Schema,
    base: &Frame,
    target: &Frame,
    name_of: impl Fn(u32) -> String,
    step: &Step,
    predictor: &dyn Predictor,
) -> Delta {
    diff_by(
        schema,
        base,
        target,
        name_of,
        step,
        predictor,
        |_, kind, bs, next| predictor.moved(step, kind, bs, next),
    )
}

/// [`diff`] with the predicted fields of a surviving entity written by `moved(id, kind, base,
/// next)`, which must do what `predictor.moved` does: a server encoding many views of one world
/// computes each entity's prediction once and hands it to every view.
pub fn diff_by(
    schema: &Schema,
    base: &Frame,
    target: &Frame,
    name_of: impl Fn(u32) -> String,
    step: &Step,
    predictor: &dyn Predictor,
    mut moved: impl FnMut(u32, u16, &[u32], &mut [u32]),
) -> Delta {
    let mut delta = Delta::default();
    let mut fresh: Vec<usize> = Vec::new();
    let mut predicted = [0u32; MAX_KIND_FIELDS];
    let mut held = [0u32; MAX_KIND_FIELDS];
    let (mut i, mut j) = (0, 0);
    while i < base.len() || j < target.len() {
        let (b, t) = (base.ids().get(i), target.ids().get(j));
        match (b, t) {
            (Some(b), Some(t)) if b == t => {
                let (bs, ts) = (base.at(i), target.at(j));
                // An entity whose kind changed is removed and spawned again in the same
                // delta (its id is then free: the spawn is not a duplicate).
                let layout = schema.kind(ts.kind).filter(|_| bs.kind == ts.kind);
                match layout {
                    Some(layout) => {
                        let mut mask = 0;
                        if layout.any_predicted {
                            let p = &mut predicted[..layout.slots.len()];
                            p.copy_from_slice(ts.fields);
                            for &k in &layout.predicted {
                                p[k] = bs.fields[k];
                            }
                            moved(ts.id, ts.kind, bs.fields, p);
                            mask = write_patch(
                                &layout.slots,
                                bs.fields,
                                p,
                                ts.fields,
                                step.tick,
                                &mut delta.values,
                            );
                        } else if bs.fields != ts.fields {
                            mask = write_patch(
                                &layout.slots,
                                bs.fields,
                                bs.fields,
                                ts.fields,
                                step.tick,
                                &mut delta.values,
                            );
                        }
                        if mask != 0 {
                            delta.changed.push(Changed {
                                index: i as u32,
                                mask,
                            });
                        }
                    }
                    None => {
                        delta.removed.push(i as u32);
                        fresh.push(j);
                    }
                }
                i += 1;
                j += 1;
            }
            (Some(b), Some(t)) if b > t => {
                fresh.push(j);
                j += 1;
            }
            (Some(_), _) => {
                delta.removed.push(i as u32);
                i += 1;
            }
            (None, _) => {
                fresh.push(j);
                j += 1;
            }
        }
    }
    if fresh.is_empty() {
        return delta;
    }
    // Only spawns need the survivors (a shot's origin is its owner's new position): the
    // target without what is new.
    let mut survivors = Frame::with_capacity(target.len(), target.values_len());
    let mut new = fresh.iter().copied().peekable();
    for (j, ts) in target.iter().enumerate() {
        if new.next_if_eq(&j).is_none() {
            survivors.push_raw(ts.id, ts.kind, ts.fields);
        }
    }
    for j in fresh {
        let ts = target.at(j);
        let Some(layout) = schema.kind(ts.kind) else {
            continue;
        };
        let n = layout.slots.len();
        let (h, p) = (&mut held[..n], &mut predicted[..n]);
        spawn_reference(layout, &ts, step, predictor, &survivors, h, p);
        let mask = write_patch(&layout.slots, h, p, ts.fields, step.tick, &mut delta.values);
        delta.spawned.push(Spawned {
            id: ts.id,
            kind: ts.kind,
            name: if layout.named {
                name_of(ts.id)
            } else {
                String::new()
            },
            mask,
        });
    }
    delta
}

/// Why a delta does not fit the baseline it was applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// A changed or removed index is past the baseline's end, out of order, or both removed
    /// and changed.
    BadIndex(u32),
    /// A spawned id is already present, or spawns are not in increasing id order.
    BadSpawn(u32),
    /// A kind the schema does not have, or a mask naming a field past the kind's.
    BadKind(u16),
    /// The patches need more values than the delta holds.
    ShortValues,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::BadIndex(i) => write!(f, "delta names baseline index {i}, which it cannot"),
            ApplyError::BadSpawn(id) => write!(f, "delta spawns entity {id} twice or out of order"),
            ApplyError::BadKind(k) => write!(f, "delta names kind {k} or a field it does not have"),
            ApplyError::ShortValues => f.write_str("delta patches need more values than it has"),
        }
    }
}

impl std::error::Error for ApplyError {}

/// Reads one patch's wire values, in mask order, from `values`.
struct Values<'a> {
    values: std::slice::Iter<'a, u32>,
}

impl Values<'_> {
    /// Writes the present non-predicted fields into `state` and the present predicted ones'
    /// corrections into `corrections` (0 where absent); says whether any correction came.
    fn patch(
        &mut self,
        slots: &[Slot],
        mask: u32,
        at: u32,
        state: &mut [u32],
        corrections: &mut [u32],
    ) -> Result<bool, ApplyError> {
        corrections.fill(0);
        let mut corrected = false;
        for (i, slot) in slots.iter().enumerate() {
            if mask & (1 << i) == 0 {
                continue;
            }
            let v = *self.values.next().ok_or(ApplyError::ShortValues)?;
            if slot.predicted {
                corrections[i] = v;
                corrected = true;
            } else if slot.encoding == Encoding::Tick {
                state[i] = at.wrapping_sub(v);
            } else {
                state[i] = v;
            }
        }
        Ok(corrected)
    }
}

/// Adds the corrections to the predicted fields.
fn place(predicted: &[usize], corrections: &[u32], state: &mut [u32]) {
    for &i in predicted {
        state[i] = state[i].wrapping_add(corrections[i]);
    }
}

/// A mask is valid for a kind when it names only fields the kind has.
fn check_mask(layout: &KindLayout, kind: u16, mask: u32) -> Result<(), ApplyError> {
    let n = layout.slots.len();
    if n < 32 && mask >> n != 0 {
        return Err(ApplyError::BadKind(kind));
    }
    Ok(())
}

/// Applies `delta` to `base` as a client predicting with `predictor` at `step`, giving the
/// target frame. Never panics, whatever the delta holds.
pub fn apply(
    schema: &Schema,
    base: &Frame,
    delta: &Delta,
    step: &Step,
    predictor: &dyn Predictor,
) -> Result<Frame, ApplyError> {
    let mut removed = delta.removed.iter().copied().peekable();
    let mut changed = delta.changed.iter().peekable();
    let mut values = Values {
        values: delta.values.iter(),
    };
    let mut survivors = Frame::with_capacity(base.len(), base.values_len());
    let mut next = [0u32; MAX_KIND_FIELDS];
    let mut corrections = [0u32; MAX_KIND_FIELDS];
    let mut scratch = [0u32; MAX_KIND_FIELDS];
    for (i, bs) in base.iter().enumerate() {
        let i = i as u32;
        if removed.next_if_eq(&i).is_some() {
            continue;
        }
        let layout = schema.kind(bs.kind).ok_or(ApplyError::BadKind(bs.kind))?;
        let n = layout.slots.len();
        if bs.fields.len() != n {
            return Err(ApplyError::BadKind(bs.kind));
        }
        let state = &mut next[..n];
        state.copy_from_slice(bs.fields);
        let corrected = match changed.next_if(|c| c.index == i) {
            Some(c) => {
                check_mask(layout, bs.kind, c.mask)?;
                values.patch(
                    &layout.slots,
                    c.mask,
                    step.tick,
                    state,
                    &mut corrections[..n],
                )?
            }
            None => false,
        };
        if layout.any_predicted {
            // The rule works on a copy and only its predicted fields are kept, as `diff` reads
            // them: a rule that writes anything else cannot change what the client holds.
            let p = &mut scratch[..n];
            p.copy_from_slice(state);
            predictor.moved(step, bs.kind, bs.fields, p);
            for &k in &layout.predicted {
                state[k] = p[k];
            }
            if corrected {
                place(&layout.predicted, &corrections, state);
            }
        }
        survivors.push_raw(bs.id, bs.kind, state);
    }
    // The walk consumes increasing in-range indices, each once; anything left over was past the
    // end, out of order, repeated, or both removed and changed.
    if let Some(i) = removed.next().or(changed.next().map(|c| c.index)) {
        return Err(ApplyError::BadIndex(i));
    }
    if delta.spawned.is_empty() {
        return Ok(survivors);
    }
    let mut spawned: Vec<(u32, u16, usize)> = Vec::with_capacity(delta.spawned.len());
    let mut spawned_values: Vec<u32> = Vec::new();
    for s in &delta.spawned {
        let in_order = spawned.last().is_none_or(|(prev, _, _)| *prev < s.id);
        if !in_order || survivors.find(s.id).is_some() {
            return Err(ApplyError::BadSpawn(s.id));
        }
        let layout = schema.kind(s.kind).ok_or(ApplyError::BadKind(s.kind))?;
        check_mask(layout, s.kind, s.mask)?;
        let n = layout.slots.len();
        let state = &mut next[..n];
        for (k, (slot, &t)) in layout.slots.iter().zip(&layout.template).enumerate() {
            state[k] = if slot.encoding == Encoding::Tick {
                step.tick
            } else {
                t
            };
        }
        let corrected = values.patch(
            &layout.slots,
            s.mask,
            step.tick,
            state,
            &mut corrections[..n],
        )?;
        if layout.any_predicted {
            let p = &mut scratch[..n];
            p.copy_from_slice(state);
            predictor.origin(step, s.kind, p, &survivors);
            for &k in &layout.predicted {
                state[k] = p[k];
            }
            if corrected {
                place(&layout.predicted, &corrections, state);
            }
        }
        spawned.push((s.id, s.kind, spawned_values.len()));
        spawned_values.extend_from_slice(state);
    }
    // Merge the survivors and the spawns, both sorted by id.
    let mut out = Frame::with_capacity(
        survivors.len() + spawned.len(),
        survivors.values_len() + spawned_values.len(),
    );
    let mut s = spawned.iter().peekable();
    let spawn_fields = |k: usize, kind: u16| -> &[u32] {
        let n = schema.kind(kind).map_or(0, |l| l.slots.len());
        &spawned_values[k..k + n]
    };
    for e in survivors.iter() {
        while let Some(&(id, kind, k)) = s.next_if(|(id, _, _)| *id < e.id) {
            out.push_raw(id, kind, spawn_fields(k, kind));
        }
        out.push_raw(e.id, e.kind, e.fields);
    }
    for &(id, kind, k) in s {
        out.push_raw(id, kind, spawn_fields(k, kind));
    }
    Ok(out)
}
