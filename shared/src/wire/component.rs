//! Typed access to replicated components: a game's crate implements [`Replicated`] for each of
//! its wire components, and server and clients convert between the type and its field values
//! through it (quantizing on the way out, as bevy_replicon's `replicate_as` does).

use crate::wire::frame::EntityRef;
use crate::wire::schema::{ComponentDef, Schema};

/// A component that goes on the wire, field by field.
pub trait Replicated: Sized {
    /// Its name in the schema (unique within a game).
    const NAME: &'static str;

    /// Its schema entry: its fields in wire order, with their encodings.
    fn def() -> ComponentDef;

    /// Writes its fields' values into `out` (one per field of [`Replicated::def`]).
    fn write(&self, out: &mut [u32]);

    /// Reads it back from its fields' values (as many as [`Replicated::def`] has).
    fn read(fields: &[u32]) -> Self;
}

/// Where component `C`'s fields are in entities of each kind: found once, read many times.
#[derive(Debug, Clone)]
pub struct ComponentSlots {
    /// Per kind: the first field of `C` in it, and `C`'s field count, when the kind has `C`.
    at: Vec<Option<(usize, usize)>>,
}

impl ComponentSlots {
    /// Where `C` lies in each kind of `schema`: nowhere if the schema has no component named
    /// `C::NAME` with exactly `C`'s fields (a schema from elsewhere cannot make `C::read` index
    /// past what it was given).
    pub fn of<C: Replicated>(schema: &Schema) -> ComponentSlots {
        let ours = C::def();
        let index = schema.component_index(C::NAME).filter(|&i| {
            schema
                .def()
                .components
                .get(usize::from(i))
                .is_some_and(|c| c.fields == ours.fields)
        });
        let len = ours.fields.len();
        let at = (0..schema.kinds())
            .map(|k| {
                let layout = schema.kind(u16::try_from(k).ok()?)?;
                let (_, first) = layout.components.iter().find(|(c, _)| Some(*c) == index)?;
                Some((*first, len))
            })
            .collect();
        ComponentSlots { at }
    }

    /// `C` of `entity`, when its kind has one.
    pub fn read<C: Replicated>(&self, entity: &EntityRef<'_>) -> Option<C> {
        let (first, len) = (*self.at.get(usize::from(entity.kind))?)?;
        entity.fields.get(first..first + len).map(C::read)
    }
}
