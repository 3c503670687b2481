//! The client's copy of the world, kept by applying snapshot deltas in order.

use std::collections::HashMap;

use shared::delta::{self, Entry};
use shared::entity::EntityState;
use shared::protocol::Snapshot;

/// The world as of the last snapshot received. Over one reliable ordered stream the baseline of
/// every delta is exactly the previous snapshot (or 0, a full snapshot).
#[derive(Debug, Default, Clone)]
pub struct Mirror {
    tick: u32,
    entities: Vec<Entry>,
    names: HashMap<u32, String>,
    ack_input_seq: u32,
}

impl Mirror {
    /// Applies one snapshot; an error means the stream and the mirror disagree.
    pub fn apply(&mut self, snap: &Snapshot) -> Result<(), String> {
        let base: &[Entry] = match snap.baseline {
            0 => &[],
            b if b == self.tick && self.tick != 0 => &self.entities,
            b => {
                return Err(format!(
                    "delta against tick {b}, mirror is at {}",
                    self.tick
                ));
            }
        };
        let next = delta::apply(base, &snap.delta).map_err(|e| e.to_string())?;
        if snap.baseline == 0 {
            self.names.clear();
        }
        for id in &snap.delta.removed {
            self.names.remove(id);
        }
        for s in &snap.delta.spawned {
            if !s.name.is_empty() {
                self.names.insert(s.id, s.name.clone());
            }
        }
        self.entities = next;
        self.tick = snap.tick;
        self.ack_input_seq = snap.ack_input_seq;
        Ok(())
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
