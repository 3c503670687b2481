//! `Frame`: the replicated world at one tick, every entity's kind and field values, sorted by
//! network id. One flat array holds every entity's values, so a frame of any game is four
//! allocations whatever its size (the server keeps 64 per match).

use crate::wire::schema::{Schema, fit};

/// One entity of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityRef<'a> {
    pub id: u32,
    pub kind: u16,
    /// One value per field of the kind, in wire order.
    pub fields: &'a [u32],
}

/// Why an entity cannot go into a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The schema has no such kind.
    UnknownKind(u16),
    /// The values are not one per field of the kind.
    Fields {
        kind: u16,
        expected: usize,
        got: usize,
    },
    /// Ids must be pushed in increasing order (a builder sorts them).
    Order(u32),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::UnknownKind(k) => write!(f, "no entity kind {k}"),
            FrameError::Fields {
                kind,
                expected,
                got,
            } => write!(f, "kind {kind} has {expected} fields, got {got} values"),
            FrameError::Order(id) => write!(f, "entity {id} is out of id order or repeated"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Entities sorted by id, with their kinds and values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    ids: Vec<u32>,
    kinds: Vec<u16>,
    starts: Vec<u32>,
    values: Vec<u32>,
}

impl Frame {
    pub fn new() -> Frame {
        Frame::default()
    }

    /// An empty frame with room for `entities` entities of `values` values in all.
    pub fn with_capacity(entities: usize, values: usize) -> Frame {
        Frame {
            ids: Vec::with_capacity(entities),
            kinds: Vec::with_capacity(entities),
            starts: Vec::with_capacity(entities),
            values: Vec::with_capacity(values),
        }
    }

    /// How many values all its entities hold.
    pub fn values_len(&self) -> usize {
        self.values.len()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every id, increasing.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// The entity at position `i` (in id order).
    #[inline]
    pub fn at(&self, i: usize) -> EntityRef<'_> {
        let start = self.starts[i] as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.values.len(), |&e| e as usize);
        EntityRef {
            id: self.ids[i],
            kind: self.kinds[i],
            fields: &self.values[start..end],
        }
    }

    /// The position of entity `id`.
    pub fn find(&self, id: u32) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// Entity `id`, if present.
    pub fn get(&self, id: u32) -> Option<EntityRef<'_>> {
        self.find(id).map(|i| self.at(i))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = EntityRef<'_>> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }

    pub fn clear(&mut self) {
        self.ids.clear();
        self.kinds.clear();
        self.starts.clear();
        self.values.clear();
    }

    /// Drops spare capacity (a frame kept in a history should not hold a builder's slack).
    pub fn shrink_to_fit(&mut self) {
        self.ids.shrink_to_fit();
        self.kinds.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.values.shrink_to_fit();
    }

    /// Appends an entity whose id is larger than every id already here, with values the
    /// codec produced (already fitted and counted). Callers inside the codec only.
    #[inline]
    pub(crate) fn push_raw(&mut self, id: u32, kind: u16, fields: &[u32]) {
        self.ids.push(id);
        self.kinds.push(kind);
        self.starts.push(self.values.len() as u32);
        self.values.extend_from_slice(fields);
    }

    /// Appends entity `id` of `kind` with one value per field of the kind; each value is cut to
    /// what its encoding carries, so it comes back from the wire exactly.
    pub fn push(
        &mut self,
        schema: &Schema,
        id: u32,
        kind: u16,
        fields: &[u32],
    ) -> Result<(), FrameError> {
        let layout = schema.kind(kind).ok_or(FrameError::UnknownKind(kind))?;
        if layout.slots.len() != fields.len() {
            return Err(FrameError::Fields {
                kind,
                expected: layout.slots.len(),
                got: fields.len(),
            });
        }
        if self.ids.last().is_some_and(|&last| last >= id) {
            return Err(FrameError::Order(id));
        }
        self.ids.push(id);
        self.kinds.push(kind);
        self.starts.push(self.values.len() as u32);
        self.values.extend(
            fields
                .iter()
                .zip(&layout.slots)
                .map(|(&v, s)| fit(s.encoding, v)),
        );
        Ok(())
    }

    /// The entities of `self` whose ids are in `keep` (sorted), into `out`.
    pub fn restrict_into(&self, keep: &[u32], out: &mut Frame) {
        out.clear();
        let mut k = keep.iter().peekable();
        for e in self.iter() {
            while k.next_if(|&&id| id < e.id).is_some() {}
            if k.peek() == Some(&&e.id) {
                out.push_raw(e.id, e.kind, e.fields);
            }
        }
    }

    /// Builds a frame from entities in any order (the server collects them by kind).
    pub fn from_unsorted(
        schema: &Schema,
        mut entities: Vec<(u32, u16, Vec<u32>)>,
    ) -> Result<Frame, FrameError> {
        entities.sort_unstable_by_key(|e| e.0);
        let mut frame = Frame::new();
        for (id, kind, fields) in &entities {
            frame.push(schema, *id, *kind, fields)?;
        }
        Ok(frame)
    }
}
