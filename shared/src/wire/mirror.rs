//! A client's copy of any game's world, kept by applying snapshots in order with the same
//! prediction rule the server encoded them against. It needs only the schema from the Welcome
//! (and, for a game that predicts, the game's [`Predictor`]).

use std::collections::HashMap;
use std::sync::Arc;

use crate::wire::bytes::ReadError;
use crate::wire::component::{ComponentSlots, Replicated};
use crate::wire::delta::{self, ApplyError};
use crate::wire::event::Event;
use crate::wire::frame::{EntityRef, Frame};
use crate::wire::predict::{Predictor, Step};
use crate::wire::schema::Schema;
use crate::wire::snapshot::{self, SnapshotBase};

/// Why a snapshot could not be applied: the stream and the mirror disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorError {
    /// The bytes are not a snapshot of this schema against this baseline.
    Decode(ReadError),
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
            MirrorError::Decode(e) => write!(f, "bad snapshot bytes: {e}"),
            MirrorError::DeltaFirst => f.write_str("a delta before any full snapshot"),
            MirrorError::TickOverflow => f.write_str("snapshot tick past u32"),
            MirrorError::Delta(e) => write!(f, "bad delta: {e}"),
        }
    }
}

impl std::error::Error for MirrorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MirrorError::Decode(e) => Some(e),
            MirrorError::Delta(e) => Some(e),
            _ => None,
        }
    }
}

/// The world as of the last snapshot received. Over one reliable ordered stream the baseline of
/// every delta is exactly the previous snapshot (or nothing, for a full snapshot).
pub struct Mirror {
    schema: Arc<Schema>,
    predictor: Box<dyn Predictor>,
    /// The tick rate of the ticks the next snapshot covers (timing changes arrive before the
    /// snapshots they apply to).
    tick_rate: u16,
    tick: u32,
    frame: Frame,
    names: HashMap<u32, String>,
    ack_input_seq: u32,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("game", &self.schema.def().game)
            .field("tick", &self.tick)
            .field("entities", &self.frame.len())
            .finish_non_exhaustive()
    }
}

impl Mirror {
    /// An empty mirror of a match of `schema` running at `tick_rate`, predicting with
    /// `predictor` (the game's rule, or [`crate::wire::predict::NoPrediction`]).
    pub fn new(schema: Arc<Schema>, predictor: Box<dyn Predictor>, tick_rate: u16) -> Mirror {
        Mirror {
            schema,
            predictor,
            tick_rate,
            tick: 0,
            frame: Frame::new(),
            names: HashMap::new(),
            ack_input_seq: 0,
        }
    }

    /// The match's tick rate changed.
    pub fn set_tick_rate(&mut self, rate: u16) {
        self.tick_rate = rate;
    }

    /// Applies one snapshot's bytes (after the message's variant byte) and returns the
    /// snapshot's events; an error means the stream and the mirror disagree.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<Vec<Event>, MirrorError> {
        let snap = snapshot::decode(&self.schema, bytes, &self.frame, self.tick)
            .map_err(MirrorError::Decode)?;
        let empty = Frame::new();
        let (base, tick, ticks) = match snap.base {
            SnapshotBase::Full { tick } => (&empty, tick, 0),
            SnapshotBase::Since { ticks } if self.tick != 0 => (
                &self.frame,
                self.tick
                    .checked_add(ticks)
                    .ok_or(MirrorError::TickOverflow)?,
                ticks,
            ),
            SnapshotBase::Since { .. } => return Err(MirrorError::DeltaFirst),
        };
        let step = Step {
            tick_rate: self.tick_rate,
            ticks,
            tick,
        };
        let next = delta::apply(&self.schema, base, &snap.delta, &step, &*self.predictor)
            .map_err(MirrorError::Delta)?;
        match snap.base {
            SnapshotBase::Full { .. } => {
                self.names.clear();
                self.ack_input_seq = snap.ack;
            }
            SnapshotBase::Since { .. } => {
                // By the baseline's ids, before the spawns: an entity removed and spawned again
                // in one delta (its kind changed) keeps only the name it spawns with.
                for &i in &snap.delta.removed {
                    if let Some(&id) = self.frame.ids().get(i as usize) {
                        self.names.remove(&id);
                    }
                }
                self.ack_input_seq = self.ack_input_seq.wrapping_add(snap.ack);
            }
        }
        for s in snap.delta.spawned {
            if !s.name.is_empty() {
                self.names.insert(s.id, s.name);
            }
        }
        self.frame = next;
        self.tick = tick;
        Ok(snap.events)
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The tick of the last snapshot applied (0: none yet).
    pub fn tick(&self) -> u32 {
        self.tick
    }

    /// Every entity, sorted by id.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    pub fn entity(&self, id: u32) -> Option<EntityRef<'_>> {
        self.frame.get(id)
    }

    /// Component `C` of entity `id`, when it has one. For many reads, keep a
    /// [`ComponentSlots`] and read through it.
    pub fn component<C: Replicated>(&self, id: u32) -> Option<C> {
        ComponentSlots::of::<C>(&self.schema).read(&self.entity(id)?)
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// The last input sequence the server applied for this client.
    pub fn ack_input_seq(&self) -> u32 {
        self.ack_input_seq
    }
}
