//! Snapshot deltas: what changed between a baseline the client has and the newest snapshot,
//! against what the client predicts on its own ([`crate::predict`]).
//!
//! Entity lists are sorted by network id, which is never reused within a match, so a delta is a
//! merge walk of two sorted lists. Entities of the baseline are named by their index in it;
//! new ones by id.

pub use crate::entity::Entry;
use crate::entity::{EntityKind, EntityPatch, EntityState};
use crate::predict::Prediction;

/// An entity the client did not have, as a patch to [`Prediction::template`] of its kind
/// (`patch.kind`, a player when absent), placed relative to [`Prediction::origin`]. `name` is
/// set for players, empty otherwise.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub id: u32,
    pub name: String,
    pub patch: EntityPatch,
}

impl Spawned {
    /// The state this spawn gives, among the baseline's `survivors` (new states, sorted by id).
    pub fn state(&self, p: &Prediction, survivors: &[Entry]) -> EntityState {
        let mut state = p.template(self.patch.kind.unwrap_or_default());
        self.patch.apply_fields(&mut state, p.tick);
        let origin = p.origin(&state, survivors);
        self.patch.place(&mut state, origin);
        state
    }
}

/// A baseline entity (by index in the baseline) whose state differs from its prediction.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub index: u32,
    pub patch: EntityPatch,
}

/// The difference between a baseline and a snapshot. Each list is in increasing order (of
/// baseline index, or of id for `spawned`).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    /// Baseline indices of the entities gone.
    pub removed: Vec<u32>,
    pub changed: Vec<Changed>,
    pub spawned: Vec<Spawned>,
}

impl Delta {
    /// True when applying it changes nothing but what the client predicts.
    pub fn is_empty(&self) -> bool {
        self.spawned.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// The delta that turns `base` into `target` (both sorted by id) for a client predicting with
/// `p`. `name_of` gives a spawned entity's name. A full snapshot is `diff(&[], target, ..)`.
pub fn diff(
    base: &[Entry],
    target: &[Entry],
    name_of: impl Fn(u32) -> String,
    p: &Prediction,
) -> Delta {
    diff_by(base, target, name_of, p, |_, bs, ts| p.moved(bs, ts))
}

/// [`diff`] with the moved positions given by `moved(id, base state, new state)`, which must
/// equal `p.moved(base state, new state)`: a server encoding many views of one world computes
/// each entity's prediction once and hands it to every view.
pub fn diff_by(
    base: &[Entry],
    target: &[Entry],
    name_of: impl Fn(u32) -> String,
    p: &Prediction,
    mut moved: impl FnMut(u32, &EntityState, &EntityState) -> (i32, i32),
) -> Delta {
    let mut delta = Delta::default();
    let mut survivors: Vec<Entry> = Vec::with_capacity(target.len());
    let mut fresh: Vec<&Entry> = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        match (base.get(i), target.get(j)) {
            (None, None) => break,
            (Some(_), None) => {
                delta.removed.push(i as u32);
                i += 1;
            }
            (None, Some(t)) => {
                fresh.push(t);
                j += 1;
            }
            (Some((b, bs)), Some(t @ (id, ts))) => {
                if b < id {
                    delta.removed.push(i as u32);
                    i += 1;
                } else if id < b {
                    fresh.push(t);
                    j += 1;
                } else {
                    let patch = EntityPatch::between(bs, ts, moved(*id, bs, ts), p.tick);
                    if !patch.is_empty() {
                        delta.changed.push(Changed {
                            index: i as u32,
                            patch,
                        });
                    }
                    survivors.push(*t);
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    delta.spawned = fresh
        .into_iter()
        .map(|(id, state)| {
            let mut patch = EntityPatch::between(
                &p.template(state.kind),
                state,
                p.origin(state, &survivors),
                p.tick,
            );
            // The kind picks the template, so it is always said unless it is the default.
            if state.kind != EntityKind::default() {
                patch.kind = Some(state.kind);
            }
            Spawned {
                id: *id,
                name: name_of(*id),
                patch,
            }
        })
        .collect();
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
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::BadIndex(i) => write!(f, "delta names baseline index {i}, which it cannot"),
            ApplyError::BadSpawn(id) => write!(f, "delta spawns entity {id} twice or out of order"),
        }
    }
}

impl std::error::Error for ApplyError {}

/// Applies `delta` to `base` as a client predicting with `p`, giving the target snapshot sorted
/// by id. Never panics, whatever the delta holds.
pub fn apply(base: &[Entry], delta: &Delta, p: &Prediction) -> Result<Vec<Entry>, ApplyError> {
    let mut removed = delta.removed.iter().copied().peekable();
    let mut changed = delta.changed.iter().peekable();
    let mut survivors: Vec<Entry> = Vec::with_capacity(base.len() + delta.spawned.len());
    for (i, (id, bs)) in base.iter().enumerate() {
        let i = i as u32;
        if removed.next_if_eq(&i).is_some() {
            continue;
        }
        let mut next = *bs;
        match changed.next_if(|c| c.index == i) {
            Some(c) => {
                c.patch.apply_fields(&mut next, p.tick);
                let predicted = p.moved(bs, &next);
                c.patch.place(&mut next, predicted);
            }
            None => (next.x, next.y) = p.moved(bs, bs),
        }
        survivors.push((*id, next));
    }
    // The walk consumes increasing in-range indices, each once; anything left over was past the
    // end, out of order, repeated, or both removed and changed.
    if let Some(i) = removed.next().or(changed.next().map(|c| c.index)) {
        return Err(ApplyError::BadIndex(i));
    }
    let mut spawned: Vec<Entry> = Vec::with_capacity(delta.spawned.len());
    for s in &delta.spawned {
        let in_order = spawned.last().is_none_or(|(prev, _)| *prev < s.id);
        if !in_order || survivors.binary_search_by_key(&s.id, |e| e.0).is_ok() {
            return Err(ApplyError::BadSpawn(s.id));
        }
        spawned.push((s.id, s.state(p, &survivors)));
    }
    if spawned.is_empty() {
        return Ok(survivors);
    }
    survivors.extend(spawned);
    survivors.sort_unstable_by_key(|e| e.0);
    Ok(survivors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::{Arena, Point, Wall};
    use crate::codec;
    use crate::entity::flags;
    use crate::protocol::{ServerMsg, Snapshot, SnapshotBase};
    use crate::rules::buttons;
    use proptest::prelude::*;

    fn arena() -> Arena {
        Arena {
            width: 400,
            height: 300,
            walls: vec![Wall {
                x: 150,
                y: 100,
                w: 40,
                h: 80,
            }],
            spawns: vec![Point { x: 50, y: 50 }],
        }
    }

    fn kind() -> impl Strategy<Value = EntityKind> {
        prop_oneof![Just(EntityKind::Player), Just(EntityKind::Projectile)]
    }

    /// A coordinate: mostly inside the arena (so prediction runs), sometimes anything.
    fn coord() -> impl Strategy<Value = i32> {
        prop_oneof![4 => 0i32..400 * 256, 1 => any::<i32>()]
    }

    /// States drawn from small value sets so that baselines and targets often share fields.
    fn state() -> impl Strategy<Value = EntityState> {
        (
            kind(),
            coord(),
            coord(),
            prop_oneof![Just(0u16), Just(0x4000), any::<u16>()],
            prop_oneof![Just(0u8), 0u8..32],
            prop_oneof![Just(100u8), any::<u8>()],
            prop_oneof![Just(flags::ALIVE), 0u8..4],
            (
                0u16..3,
                0u16..3,
                0u32..64,
                prop_oneof![Just(0u32), any::<u32>()],
            ),
        )
            .prop_map(
                |(kind, x, y, aim, buttons, hp, flags, (score, deaths, owner, tick))| EntityState {
                    kind,
                    x,
                    y,
                    aim,
                    buttons,
                    hp,
                    flags,
                    score,
                    deaths,
                    owner,
                    tick,
                },
            )
    }

    fn world() -> impl Strategy<Value = Vec<Entry>> {
        prop::collection::btree_map(0u32..64, state(), 0..24)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>())
    }

    fn predictor(arena: &Arena, tick_rate: u16, ticks: u32, tick: u32) -> Prediction<'_> {
        Prediction {
            arena,
            tick_rate,
            ticks,
            tick,
        }
    }

    /// The world `p.ticks` later if everyone just kept doing what they were doing.
    fn walked(base: &[Entry], p: &Prediction) -> Vec<Entry> {
        base.iter()
            .map(|(id, s)| {
                let (x, y) = p.moved(s, s);
                (*id, EntityState { x, y, ..*s })
            })
            .collect()
    }

    /// Sends `delta` through the real encoder and decoder.
    fn over_the_wire(base: SnapshotBase, delta: Delta) -> Delta {
        let msg = ServerMsg::Snapshot(Snapshot {
            base,
            delta,
            events: vec![],
            ack: 0,
        });
        match codec::decode_server(&codec::encode_server(&msg)) {
            Ok(ServerMsg::Snapshot(s)) => s.delta,
            other => panic!("did not decode: {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Any sequence of worlds, at any gaps and tick rates, arrives exactly through
        /// prediction-based deltas and the wire.
        #[test]
        fn any_sequence_of_worlds_round_trips(
            worlds in prop::collection::vec(world(), 1..6),
            gaps in prop::collection::vec(1u32..200, 6),
            rate in prop_oneof![Just(1u16), Just(30), Just(64), Just(240)],
        ) {
            let arena = arena();
            let mut tick = 1;
            let first = predictor(&arena, rate, 0, tick);
            let delta = over_the_wire(SnapshotBase::Full { tick }, diff(&[], &worlds[0], |_| String::new(), &first));
            let mut mirror = apply(&[], &delta, &first).expect("full snapshot applies");
            prop_assert_eq!(&mirror, &worlds[0]);
            for (w, gap) in worlds[1..].iter().zip(&gaps) {
                tick += gap;
                let p = predictor(&arena, rate, *gap, tick);
                let delta = diff(&mirror, w, |id| format!("p{id}"), &p);
                let delta = over_the_wire(SnapshotBase::Since { ticks: *gap }, delta);
                mirror = apply(&mirror, &delta, &p).expect("delta applies");
                prop_assert_eq!(&mirror, w);
            }
        }

        /// Players moving by the rule with the buttons they hold, and projectiles in flight,
        /// cost nothing: the delta is empty.
        #[test]
        fn steady_motion_costs_nothing(base in world(), ticks in 1u32..40, rate in prop_oneof![Just(30u16), Just(128)]) {
            let arena = arena();
            let p = predictor(&arena, rate, ticks, 100);
            let target = walked(&base, &p);
            prop_assert!(diff(&base, &target, |_| String::new(), &p).is_empty());
        }
    }

    #[test]
    fn a_quiet_snapshot_is_four_bytes() {
        let arena = arena();
        let walking = EntityState {
            x: 60 * 256,
            y: 60 * 256,
            buttons: buttons::RIGHT | buttons::DOWN,
            hp: 100,
            flags: flags::ALIVE,
            ..EntityState::default()
        };
        let base: Vec<Entry> = (1..=16).map(|id| (id, walking)).collect();
        let p = predictor(&arena, 30, 1, 500);
        let target = walked(&base, &p);
        let delta = diff(&base, &target, |_| String::new(), &p);
        let mut bytes = codec::encode_snapshot_body(SnapshotBase::Since { ticks: 1 }, &delta, &[]);
        let (ack, n) = codec::snapshot_trailer(0);
        bytes.extend_from_slice(&ack[..n]);
        assert_eq!(bytes, [1, 1, 0, 0], "variant, since 1, no sections, ack +0");
    }

    #[test]
    fn a_projectile_spawned_at_its_shooter_costs_no_position() {
        let arena = arena();
        let shooter = EntityState {
            x: 60 * 256,
            y: 70 * 256,
            hp: 100,
            flags: flags::ALIVE,
            ..EntityState::default()
        };
        let shot = EntityState {
            kind: EntityKind::Projectile,
            x: shooter.x,
            y: shooter.y,
            aim: 0x1234,
            owner: 1,
            tick: 9,
            ..EntityState::default()
        };
        let p = predictor(&arena, 30, 1, 9);
        let delta = diff(
            &[(1, shooter)],
            &[(1, shooter), (2, shot)],
            |_| String::new(),
            &p,
        );
        let patch = delta.spawned[0].patch;
        assert_eq!((patch.dx, patch.dy, patch.age), (None, None, None));
        assert_eq!(
            apply(&[(1, shooter)], &delta, &p),
            Ok(vec![(1, shooter), (2, shot)])
        );
    }

    #[test]
    fn bad_deltas_are_errors_not_panics() {
        let arena = arena();
        let p = predictor(&arena, 30, 1, 2);
        let base = vec![(1, EntityState::default())];
        let past_end = Delta {
            removed: vec![1],
            ..Delta::default()
        };
        assert_eq!(apply(&base, &past_end, &p), Err(ApplyError::BadIndex(1)));
        let removed_and_changed = Delta {
            removed: vec![0],
            changed: vec![Changed {
                index: 0,
                patch: EntityPatch {
                    hp: Some(1),
                    ..EntityPatch::default()
                },
            }],
            ..Delta::default()
        };
        assert_eq!(
            apply(&base, &removed_and_changed, &p),
            Err(ApplyError::BadIndex(0))
        );
        let twice = Delta {
            spawned: vec![Spawned {
                id: 1,
                name: String::new(),
                patch: EntityPatch::default(),
            }],
            ..Delta::default()
        };
        assert_eq!(apply(&base, &twice, &p), Err(ApplyError::BadSpawn(1)));
    }
}
