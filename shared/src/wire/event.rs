//! Events of any game: a kind and up to [`MAX_EVENT_FIELDS`] values, for kill feeds, sounds and
//! hit markers (the state itself is in the delta).

use crate::wire::schema::{Encoding, MAX_EVENT_FIELDS, Schema};

/// One event: its kind (an index into the schema's events) and its fields' values (ticks
/// absolute; the wire counts them back from the snapshot's tick). A value wider than its
/// field's encoding is cut to it on the wire, as a frame's are.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: u16,
    pub fields: [u32; MAX_EVENT_FIELDS],
}

impl Event {
    /// An event of `kind` with `values` (at most [`MAX_EVENT_FIELDS`]; extra ones are dropped,
    /// missing ones are 0).
    pub fn new(kind: u16, values: &[u32]) -> Event {
        let mut fields = [0; MAX_EVENT_FIELDS];
        for (slot, &v) in fields.iter_mut().zip(values) {
            *slot = v;
        }
        Event { kind, fields }
    }

    /// The entities it is about (its [`Encoding::Entity`] fields): interest management sends
    /// it to a client that sees one of them.
    pub fn entities<'a>(&'a self, schema: &'a Schema) -> impl Iterator<Item = u32> + 'a {
        schema
            .event(self.kind)
            .unwrap_or(&[])
            .iter()
            .zip(self.fields)
            .filter(|(e, _)| **e == Encoding::Entity)
            .map(|(_, v)| v)
    }
}
