//! Snapshot deltas: what changed between a baseline the client has and the newest snapshot.
//!
//! Entity lists are sorted by network id, which is never reused within a match, so a delta is a
//! merge walk of two sorted lists.

use std::collections::BTreeMap;

use bincode::{Decode, Encode};

use crate::entity::{EntityPatch, EntityState};

/// One entity in a snapshot: (network id, quantized state).
pub type Entry = (u32, EntityState);

/// An entity the client did not have, in full. `name` is set for players, empty otherwise.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub id: u32,
    pub state: EntityState,
    pub name: String,
}

/// An entity whose state differs from the baseline.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub id: u32,
    pub patch: EntityPatch,
}

/// The difference between two snapshots. Each list is sorted by id.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    pub spawned: Vec<Spawned>,
    pub changed: Vec<Changed>,
    pub removed: Vec<u32>,
}

impl Delta {
    /// True when applying it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.spawned.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// The delta that turns `base` into `target` (both sorted by id). `name_of` gives a spawned
/// entity's name. A full snapshot is `diff(&[], target, ..)`.
pub fn diff(base: &[Entry], target: &[Entry], name_of: impl Fn(u32) -> String) -> Delta {
    let mut delta = Delta::default();
    let (mut i, mut j) = (0, 0);
    loop {
        match (base.get(i), target.get(j)) {
            (None, None) => break,
            (Some((b, _)), None) => {
                delta.removed.push(*b);
                i += 1;
            }
            (None, Some((t, state))) => {
                delta.spawned.push(spawned(*t, state, &name_of));
                j += 1;
            }
            (Some((b, bs)), Some((t, ts))) => {
                if b < t {
                    delta.removed.push(*b);
                    i += 1;
                } else if t < b {
                    delta.spawned.push(spawned(*t, ts, &name_of));
                    j += 1;
                } else {
                    if let Some(patch) = EntityPatch::between(bs, ts) {
                        delta.changed.push(Changed { id: *t, patch });
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    delta
}

fn spawned(id: u32, state: &EntityState, name_of: &impl Fn(u32) -> String) -> Spawned {
    Spawned {
        id,
        state: *state,
        name: name_of(id),
    }
}

/// Why a delta does not fit the baseline it was applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// A changed or removed id is not in the baseline.
    Unknown(u32),
    /// A spawned id is already in the baseline (or spawned twice).
    AlreadyPresent(u32),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Unknown(id) => write!(f, "delta names entity {id} not in the baseline"),
            ApplyError::AlreadyPresent(id) => write!(f, "delta spawns entity {id} twice"),
        }
    }
}

impl std::error::Error for ApplyError {}

/// Applies `delta` to `base`, giving the target snapshot sorted by id. Order: removals, then
/// changes, then spawns. Never panics, whatever the delta holds.
pub fn apply(base: &[Entry], delta: &Delta) -> Result<Vec<Entry>, ApplyError> {
    let mut map: BTreeMap<u32, EntityState> = base.iter().copied().collect();
    for id in &delta.removed {
        map.remove(id).ok_or(ApplyError::Unknown(*id))?;
    }
    for c in &delta.changed {
        let state = map.get_mut(&c.id).ok_or(ApplyError::Unknown(c.id))?;
        c.patch.apply(state);
    }
    for s in &delta.spawned {
        if map.insert(s.id, s.state).is_some() {
            return Err(ApplyError::AlreadyPresent(s.id));
        }
    }
    Ok(map.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::entity::EntityKind;
    use crate::protocol::{ServerMsg, Snapshot};
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = EntityKind> {
        prop_oneof![Just(EntityKind::Player), Just(EntityKind::Projectile)]
    }

    /// States drawn from a small value set so that baselines and targets often share fields.
    fn state() -> impl Strategy<Value = EntityState> {
        (
            kind(),
            prop_oneof![Just(0i32), Just(16), any::<i32>()],
            prop_oneof![Just(0i32), Just(-16), any::<i32>()],
            any::<u16>(),
            prop_oneof![Just(100u8), any::<u8>()],
            0u8..4,
            (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        )
            .prop_map(
                |(kind, x, y, aim, hp, flags, (score, deaths, owner, tick))| EntityState {
                    kind,
                    x,
                    y,
                    aim,
                    hp,
                    flags,
                    score,
                    deaths,
                    owner,
                    tick,
                },
            )
    }

    fn entities() -> impl Strategy<Value = Vec<Entry>> {
        prop::collection::btree_map(0u32..64, state(), 0..24)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn apply_diff_gives_target(base in entities(), target in entities()) {
            let delta = diff(&base, &target, |id| format!("p{id}"));
            prop_assert_eq!(apply(&base, &delta), Ok(target.clone()));
        }

        #[test]
        fn delta_survives_the_wire(base in entities(), target in entities(), ack in any::<u32>()) {
            let delta = diff(&base, &target, |_| String::new());
            let msg = ServerMsg::Snapshot(Snapshot {
                tick: 2, baseline: 1, delta, events: vec![], ack_input_seq: ack,
            });
            let bytes = codec::encode_server(&msg);
            prop_assert_eq!(codec::decode_server(&bytes).ok(), Some(msg));
        }

        #[test]
        fn unchanged_entities_cost_nothing(base in entities()) {
            prop_assert!(diff(&base, &base, |_| String::new()).is_empty());
        }
    }

    #[test]
    fn bad_deltas_are_errors_not_panics() {
        let base = vec![(1, EntityState::default())];
        let unknown = Delta {
            removed: vec![2],
            ..Delta::default()
        };
        assert_eq!(apply(&base, &unknown), Err(ApplyError::Unknown(2)));
        let twice = Delta {
            spawned: vec![Spawned {
                id: 1,
                state: EntityState::default(),
                name: String::new(),
            }],
            ..Delta::default()
        };
        assert_eq!(apply(&base, &twice), Err(ApplyError::AlreadyPresent(1)));
    }
}
