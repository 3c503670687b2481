//! The client's copy of the world, kept by applying snapshot deltas in order with the same
//! prediction the server encoded them against.

use std::collections::HashMap;

use crate::arena::Arena;
use crate::delta::{self, ApplyError, Entry};
use crate::entity::EntityState;
use crate::predict::Prediction;
use crate::protocol::{Snapshot, SnapshotBase};

/// Why a snapshot could not be applied: the stream and the mirror disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorError {
    /// A delta arrived before any full snapshot.
    DeltaFirst,
    /// The snapshot's tick would pass `u32::MAX`.
    TickOverflow,
    /// The delta does not fit the baseline.
    Delta(ApplyError),
}

impl std::fmt::Display for MirrorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorError::DeltaFirst => f.write_str("a delta before any full snapshot"),
            MirrorError::TickOverflow => f.write_str("snapshot tick past u32"),
            MirrorError::Delta(e) => write!(f, "bad delta: {e}"),
        }
    }
}

impl std::error::Error for MirrorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MirrorError::Delta(e) => Some(e),
            _ => None,
        }
    }
}

/// The world as of the last snapshot received. Over one reliable ordered stream the baseline of
/// every delta is exactly the previous snapshot (or nothing, for a full snapshot).
#[derive(Debug, Clone)]
pub struct Mirror {
    arena: Arena,
    /// The tick rate of the ticks the next snapshot covers (MatchSettings arrive before the
    /// snapshots they apply to).
    tick_rate: u16,
    tick: u32,
    entities: Vec<Entry>,
    names: HashMap<u32, String>,
    ack_input_seq: u32,
}

impl Mirror {
    /// An empty mirror of a match on `arena` running at `tick_rate` (both from Welcome).
    pub fn new(arena: Arena, tick_rate: u16) -> Mirror {
        Mirror {
            arena,
            tick_rate,
            tick: 0,
            entities: Vec::new(),
            names: HashMap::new(),
            ack_input_seq: 0,
        }
    }

    /// The match's tick rate changed (MatchSettings).
    pub fn set_tick_rate(&mut self, rate: u16) {
        self.tick_rate = rate;
    }

    /// Applies one snapshot and returns its tick; an error means the stream and the mirror
    /// disagree.
    pub fn apply(&mut self, snap: &Snapshot) -> Result<u32, MirrorError> {
        let (base, tick, ticks): (&[Entry], u32, u32) = match snap.base {
            SnapshotBase::Full { tick } => (&[], tick, 0),
            SnapshotBase::Since { ticks } if self.tick != 0 => (
                &self.entities,
                self.tick
                    .checked_add(ticks)
                    .ok_or(MirrorError::TickOverflow)?,
                ticks,
            ),
            SnapshotBase::Since { .. } => return Err(MirrorError::DeltaFirst),
        };
        let p = Prediction {
            arena: &self.arena,
            tick_rate: self.tick_rate,
            ticks,
            tick,
        };
        let next = delta::apply(base, &snap.delta, &p).map_err(MirrorError::Delta)?;
        match snap.base {
            SnapshotBase::Full { .. } => {
                self.names.clear();
                self.ack_input_seq = snap.ack;
            }
            SnapshotBase::Since { .. } => {
                if !snap.delta.removed.is_empty() {
                    self.names
                        .retain(|id, _| next.binary_search_by_key(id, |e| e.0).is_ok());
                }
                self.ack_input_seq = self.ack_input_seq.wrapping_add(snap.ack);
            }
        }
        for s in &snap.delta.spawned {
            if !s.name.is_empty() {
                self.names.insert(s.id, s.name.clone());
            }
        }
        self.entities = next;
        self.tick = tick;
        Ok(tick)
    }

    pub fn tick(&self) -> u32 {
        self.tick
    }

    /// Every entity, sorted by id.
    pub fn entities(&self) -> &[Entry] {
        &self.entities
    }

    pub fn entity(&self, id: u32) -> Option<&EntityState> {
        self.entities
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|i| &self.entities[i].1)
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// The last input sequence the server applied for this client.
    pub fn ack_input_seq(&self) -> u32 {
        self.ack_input_seq
    }
}
