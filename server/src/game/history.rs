//! The ring of recent snapshots that client baselines point into, and delta encoding against it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use shared::arena::Arena;
use shared::codec::encode_snapshot_body;
use shared::delta::{Entry, diff, diff_by};
use shared::predict::Prediction;
use shared::protocol::{GameEvent, SnapshotBase};

/// Snapshots kept; a client whose baseline is older gets a full snapshot.
pub const HISTORY_LEN: usize = 64;

/// One sent snapshot and the events that happened in the ticks leading to it.
#[derive(Debug)]
pub struct Frame {
    pub tick: u32,
    /// The tick rate the frame's tick ran at: clients predict the ticks up to it at this rate.
    pub tick_rate: u16,
    pub entities: Arc<Vec<Entry>>,
    pub events: Vec<GameEvent>,
}

#[derive(Debug, Default)]
pub struct History {
    frames: VecDeque<Frame>,
}

impl History {
    pub fn push(&mut self, frame: Frame) {
        if self.frames.len() == HISTORY_LEN {
            self.frames.pop_front();
        }
        self.frames.push_back(frame);
    }

    pub fn latest(&self) -> Option<&Frame> {
        self.frames.back()
    }

    /// Whether a baseline at `tick` is still held.
    pub fn holds(&self, tick: u32) -> bool {
        self.find(tick).is_some()
    }

    fn find(&self, tick: u32) -> Option<usize> {
        // Ticks are pushed in increasing order.
        self.frames.binary_search_by_key(&tick, |f| f.tick).ok()
    }

    /// The shared body of the newest snapshot as a delta against `baseline` (0 or a tick no
    /// longer held: a full snapshot), predicted on `arena`. Events are those after the baseline.
    ///
    /// With interest management, `views` are the ids the client saw at its baseline and sees
    /// now: both worlds are restricted to them, and so are the events. `scratch` carries what
    /// the encodes of one broadcast share.
    pub fn encode_latest(
        &self,
        baseline: u32,
        views: Option<(&[u32], &[u32])>,
        arena: &Arena,
        name_of: impl Fn(u32) -> String,
        scratch: &mut EncodeScratch,
    ) -> Vec<u8> {
        let Some(latest) = self.frames.back() else {
            return Vec::new();
        };
        let mut p = Prediction {
            arena,
            tick_rate: latest.tick_rate,
            ticks: 0,
            tick: latest.tick,
        };
        let EncodeScratch {
            moved,
            base: base_scratch,
            target: target_scratch,
        } = scratch;
        let target: &[Entry] = match views {
            Some((_, now)) => {
                restrict_into(&latest.entities, now, target_scratch);
                target_scratch
            }
            None => &latest.entities,
        };
        match self.find(baseline) {
            Some(i) => {
                let events: Vec<GameEvent> = self
                    .frames
                    .range(i + 1..)
                    .flat_map(|f| f.events.iter().copied())
                    .filter(|e| views.is_none_or(|(_, now)| shows(now, e)))
                    .collect();
                p.ticks = latest.tick - baseline;
                let delta = match views {
                    Some((then, _)) => {
                        restrict_into(&self.frames[i].entities, then, base_scratch);
                        // An entity's prediction does not depend on who looks: once per
                        // entity and baseline, whatever the number of views.
                        diff_by(base_scratch, target, name_of, &p, |id, bs, ts| {
                            *moved
                                .entry((baseline, id))
                                .or_insert_with(|| p.moved(bs, ts))
                        })
                    }
                    None => diff(&self.frames[i].entities, target, name_of, &p),
                };
                let base = SnapshotBase::Since { ticks: p.ticks };
                encode_snapshot_body(base, &delta, &events)
            }
            None => {
                let delta = diff(&[], target, name_of, &p);
                let base = SnapshotBase::Full { tick: latest.tick };
                encode_snapshot_body(base, &delta, &[])
            }
        }
    }
}

/// The entities of `entities` whose ids are in `view` (sorted), into `out` (cleared first),
/// reusing its allocation.
pub fn restrict_into(entities: &[Entry], view: &[u32], out: &mut Vec<Entry>) {
    out.clear();
    let mut ids = view.iter().peekable();
    for e in entities {
        while ids.next_if(|id| **id < e.0).is_some() {}
        if ids.peek() == Some(&&e.0) {
            out.push(*e);
        }
    }
}

/// Whether a client with `view` is sent `event`: when it sees an entity the event is about
/// (its own entity is always in its view, so whoever an event concerns gets it).
pub fn shows(view: &[u32], event: &GameEvent) -> bool {
    event
        .entities()
        .iter()
        .any(|id| view.binary_search(id).is_ok())
}

/// What the encodes of one broadcast share: each entity's predicted position against a
/// baseline (the same whoever looks), and the lists views are restricted into. The match keeps
/// one, so a steady broadcast allocates no bookkeeping.
#[derive(Debug, Default)]
pub struct EncodeScratch {
    moved: HashMap<(u32, u32), (i32, i32)>,
    base: Vec<Entry>,
    target: Vec<Entry>,
}

impl EncodeScratch {
    /// Forgets the predictions of the last broadcast (the world moved on).
    pub fn next_broadcast(&mut self) {
        self.moved.clear();
    }
}
