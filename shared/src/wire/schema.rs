//! A game's schema: what its entities, events and inputs are made of, field by field, and how
//! each field goes on the wire. The server sends it in the Welcome, so a client that knows no
//! game can still mirror the world ([`super::mirror`]); [`Schema::new`] checks it and lays it
//! out for the codec.

use bincode::{Decode, Encode};

/// Most fields an entity kind may have: a patch's field mask is one `u32`.
pub const MAX_KIND_FIELDS: usize = 32;
/// Most fields an event may have.
pub const MAX_EVENT_FIELDS: usize = 8;
/// Most fields an input may have (a client message stays under 64 bytes).
pub const MAX_INPUT_FIELDS: usize = 8;

/// How one field's value goes on the wire. Values are `u32` words; a signed field holds an
/// `i32`'s bits.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// One byte (values are cut to 8 bits).
    U8,
    /// Two bytes, little-endian (values are cut to 16 bits): a full-turn angle that changes
    /// rarely costs 2 bytes where a varint would cost 3.
    U16,
    /// Four bytes, little-endian.
    U32,
    /// A varint: below 251 one byte.
    Varint,
    /// An `i32`, zigzag then varint: small magnitudes of either sign are one byte.
    Signed,
    /// Another entity's network id, as a varint. Interest management sends an event to a
    /// client when one of its entity fields is in the client's view.
    Entity,
    /// A tick, sent as how many ticks before the snapshot's tick it is (wrapping), as a varint:
    /// a recent tick is one byte where the tick itself would take three or five.
    Tick,
}

/// What a field means to a client that knows no game: enough to draw, follow and interpolate
/// any game's entities. The codec ignores it.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Nothing in particular.
    Plain,
    /// The entity's x, in `scale` steps per world unit.
    X { scale: u32 },
    /// The entity's y, in `scale` steps per world unit.
    Y { scale: u32 },
    /// An angle, a full turn in `turn` steps, 0 = +x, towards +y.
    Angle { turn: u32 },
    /// The entity that owns this one (interest management shows a client what it owns).
    Owner,
}

/// One field of a component, an event or the input.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub encoding: Encoding,
    /// The game's prediction rule computes this field between snapshots
    /// ([`super::predict::Predictor`]); the wire carries only the correction (true value minus
    /// prediction), when it is not 0. Only [`Encoding::Signed`] fields can be predicted.
    pub predicted: bool,
    pub hint: Hint,
}

impl FieldDef {
    /// A plain field.
    pub fn new(name: &str, encoding: Encoding) -> FieldDef {
        FieldDef {
            name: name.to_owned(),
            encoding,
            predicted: false,
            hint: Hint::Plain,
        }
    }

    /// The same field, computed by the prediction rule.
    pub fn predicted(self) -> FieldDef {
        FieldDef {
            predicted: true,
            ..self
        }
    }

    /// The same field with a hint.
    pub fn hint(self, hint: Hint) -> FieldDef {
        FieldDef { hint, ..self }
    }
}

/// A replicated component: a named group of fields.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ComponentDef {
    pub name: String,
    pub fields: Vec<FieldDef>,
}

/// A kind of entity: the components it carries, in wire order (a patch's field mask numbers
/// their fields in this order, so a game puts the fields that change most often first and keeps
/// the usual masks below 251, one byte).
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct KindDef {
    pub name: String,
    /// Indices into [`SchemaDef::components`].
    pub components: Vec<u16>,
    /// Entities of this kind carry a display name when they spawn (players do).
    pub named: bool,
    /// Every field's value in a fresh entity of this kind: a spawn is a patch against it.
    /// A [`Encoding::Tick`] field's template is the snapshot's own tick, whatever this says.
    pub template: Vec<u32>,
}

/// A kind of event.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct EventDef {
    pub name: String,
    pub fields: Vec<FieldDef>,
}

/// Everything a game puts on the wire, as the Welcome carries it.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SchemaDef {
    /// The game's name (what the `game` match option names).
    pub game: String,
    pub components: Vec<ComponentDef>,
    pub kinds: Vec<KindDef>,
    pub events: Vec<EventDef>,
    /// The game's part of an input message, after the engine's `seq` and `view_tick`.
    pub input: Vec<FieldDef>,
}

/// Why a schema cannot be used; names what is wrong where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// A component, kind, event or field has an empty name, or two share one.
    Name { what: &'static str, name: String },
    /// A kind names a component that does not exist.
    UnknownComponent { kind: String, index: u16 },
    /// A kind, event or the input has more fields than its limit.
    TooManyFields {
        what: &'static str,
        name: String,
        fields: usize,
        limit: usize,
    },
    /// A kind's template does not give one value per field.
    Template {
        kind: String,
        fields: usize,
        values: usize,
    },
    /// A predicted field that is not [`Encoding::Signed`], or a predicted or tick field
    /// outside a component.
    Field {
        what: &'static str,
        name: String,
        problem: &'static str,
    },
    /// More than 65536 kinds, components or events.
    TooMany { what: &'static str },
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SchemaError::Name { what, name } => {
                write!(f, "{what} name {name:?} is empty or used twice")
            }
            SchemaError::UnknownComponent { kind, index } => {
                write!(
                    f,
                    "kind {kind:?} names component {index}, which does not exist"
                )
            }
            SchemaError::TooManyFields {
                what,
                name,
                fields,
                limit,
            } => write!(f, "{what} {name:?} has {fields} fields; at most {limit}"),
            SchemaError::Template {
                kind,
                fields,
                values,
            } => write!(
                f,
                "kind {kind:?} has {fields} fields but a template of {values} values"
            ),
            SchemaError::Field {
                what,
                name,
                problem,
            } => write!(f, "{what} field {name:?}: {problem}"),
            SchemaError::TooMany { what } => write!(f, "more than 65536 {what}"),
        }
    }
}

impl std::error::Error for SchemaError {}

/// One field of a kind as the codec sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub encoding: Encoding,
    pub predicted: bool,
}

/// A kind laid out: its fields in wire order and where each component's fields start.
#[derive(Debug, Clone)]
pub struct KindLayout {
    pub slots: Vec<Slot>,
    /// (component index, first field) for each component of the kind, in kind order.
    pub components: Vec<(u16, usize)>,
    pub named: bool,
    pub template: Vec<u32>,
    /// Some field is predicted: the prediction rule runs for this kind.
    pub any_predicted: bool,
    /// The indices of the predicted fields.
    pub predicted: Vec<usize>,
}

/// A checked schema, laid out for the codec.
#[derive(Debug, Clone)]
pub struct Schema {
    def: SchemaDef,
    kinds: Vec<KindLayout>,
    events: Vec<Vec<Encoding>>,
    input: Vec<Encoding>,
}

fn unique<'a>(
    what: &'static str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), SchemaError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if name.is_empty() || !seen.insert(name) {
            return Err(SchemaError::Name {
                what,
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

fn limit(what: &'static str, name: &str, fields: usize, limit: usize) -> Result<(), SchemaError> {
    if fields > limit {
        return Err(SchemaError::TooManyFields {
            what,
            name: name.to_owned(),
            fields,
            limit,
        });
    }
    Ok(())
}

/// Events and inputs have no prediction and no baseline, and an input has no snapshot tick.
fn plain(what: &'static str, fields: &[FieldDef], ticks: bool) -> Result<(), SchemaError> {
    for f in fields {
        let problem = if f.predicted {
            "only component fields can be predicted"
        } else if !ticks && f.encoding == Encoding::Tick {
            "an input has no snapshot tick to count from"
        } else {
            continue;
        };
        return Err(SchemaError::Field {
            what,
            name: f.name.clone(),
            problem,
        });
    }
    unique(what, fields.iter().map(|f| f.name.as_str()))
}

/// Normalizes `v` to what `encoding` carries, so a value round-trips exactly.
pub fn fit(encoding: Encoding, v: u32) -> u32 {
    match encoding {
        Encoding::U8 => v & 0xFF,
        Encoding::U16 => v & 0xFFFF,
        _ => v,
    }
}

impl Schema {
    /// Checks `def` and lays it out.
    pub fn new(def: SchemaDef) -> Result<Schema, SchemaError> {
        // Indices are u16 on the wire.
        for (what, n) in [
            ("kinds", def.kinds.len()),
            ("components", def.components.len()),
            ("events", def.events.len()),
        ] {
            if n > usize::from(u16::MAX) + 1 {
                return Err(SchemaError::TooMany { what });
            }
        }
        unique("component", def.components.iter().map(|c| c.name.as_str()))?;
        unique("kind", def.kinds.iter().map(|k| k.name.as_str()))?;
        unique("event", def.events.iter().map(|e| e.name.as_str()))?;
        for c in &def.components {
            unique("component", c.fields.iter().map(|f| f.name.as_str()))?;
            if let Some(f) = c
                .fields
                .iter()
                .find(|f| f.predicted && f.encoding != Encoding::Signed)
            {
                return Err(SchemaError::Field {
                    what: "component",
                    name: f.name.clone(),
                    problem: "a predicted field must be Signed (its correction is signed)",
                });
            }
        }
        let mut kinds = Vec::with_capacity(def.kinds.len());
        for k in &def.kinds {
            let mut slots = Vec::new();
            let mut components = Vec::new();
            for &index in &k.components {
                let c = def.components.get(usize::from(index)).ok_or_else(|| {
                    SchemaError::UnknownComponent {
                        kind: k.name.clone(),
                        index,
                    }
                })?;
                components.push((index, slots.len()));
                // Checked as it grows: a kind naming one wide component many times must not
                // lay out millions of slots before it is refused.
                limit(
                    "kind",
                    &k.name,
                    slots.len() + c.fields.len(),
                    MAX_KIND_FIELDS,
                )?;
                slots.extend(c.fields.iter().map(|f| Slot {
                    encoding: f.encoding,
                    predicted: f.predicted,
                }));
            }
            if k.template.len() != slots.len() {
                return Err(SchemaError::Template {
                    kind: k.name.clone(),
                    fields: slots.len(),
                    values: k.template.len(),
                });
            }
            let template = k
                .template
                .iter()
                .zip(&slots)
                .map(|(&v, s)| fit(s.encoding, v))
                .collect();
            kinds.push(KindLayout {
                any_predicted: slots.iter().any(|s| s.predicted),
                predicted: (0..slots.len()).filter(|&i| slots[i].predicted).collect(),
                slots,
                components,
                named: k.named,
                template,
            });
        }
        for e in &def.events {
            limit("event", &e.name, e.fields.len(), MAX_EVENT_FIELDS)?;
            plain("event", &e.fields, true)?;
        }
        limit("input", "input", def.input.len(), MAX_INPUT_FIELDS)?;
        plain("input", &def.input, false)?;
        Ok(Schema {
            events: def
                .events
                .iter()
                .map(|e| e.fields.iter().map(|f| f.encoding).collect())
                .collect(),
            input: def.input.iter().map(|f| f.encoding).collect(),
            kinds,
            def,
        })
    }

    /// What the schema says, as the Welcome carries it.
    pub fn def(&self) -> &SchemaDef {
        &self.def
    }

    /// The kind with index `kind`.
    pub fn kind(&self, kind: u16) -> Option<&KindLayout> {
        self.kinds.get(usize::from(kind))
    }

    /// How many kinds there are.
    pub fn kinds(&self) -> usize {
        self.kinds.len()
    }

    /// The encodings of event kind `kind`'s fields.
    pub fn event(&self, kind: u16) -> Option<&[Encoding]> {
        self.events.get(usize::from(kind)).map(Vec::as_slice)
    }

    /// The encodings of the input's fields.
    pub fn input(&self) -> &[Encoding] {
        &self.input
    }

    /// The index of the component named `name`.
    pub fn component_index(&self, name: &str) -> Option<u16> {
        self.def
            .components
            .iter()
            .position(|c| c.name == name)
            .map(|i| i as u16)
    }

    /// The index of the kind named `name`.
    pub fn kind_index(&self, name: &str) -> Option<u16> {
        self.def
            .kinds
            .iter()
            .position(|k| k.name == name)
            .map(|i| i as u16)
    }

    /// The index of the event named `name`.
    pub fn event_index(&self, name: &str) -> Option<u16> {
        self.def
            .events
            .iter()
            .position(|e| e.name == name)
            .map(|i| i as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> SchemaDef {
        SchemaDef {
            game: "toy".into(),
            components: vec![ComponentDef {
                name: "pos".into(),
                fields: vec![
                    FieldDef::new("x", Encoding::Signed).predicted(),
                    FieldDef::new("health", Encoding::U8),
                ],
            }],
            kinds: vec![KindDef {
                name: "ball".into(),
                components: vec![0],
                named: false,
                template: vec![0, 300],
            }],
            events: vec![],
            input: vec![FieldDef::new("keys", Encoding::U8)],
        }
    }

    #[test]
    fn a_good_schema_is_laid_out_and_templates_fit_their_encoding() {
        let s = Schema::new(def()).expect("valid");
        let k = s.kind(0).expect("kind 0");
        assert_eq!(k.components, vec![(0, 0)]);
        assert_eq!(k.template, vec![0, 300 & 0xFF]);
        assert!(k.any_predicted);
    }

    #[test]
    fn bad_schemas_are_named_errors() {
        let mut d = def();
        d.kinds[0].template.pop();
        assert!(matches!(Schema::new(d), Err(SchemaError::Template { .. })));
        let mut d = def();
        d.kinds[0].components = vec![3];
        assert!(matches!(
            Schema::new(d),
            Err(SchemaError::UnknownComponent { index: 3, .. })
        ));
        let mut d = def();
        d.components[0].fields[1].predicted = true;
        assert!(matches!(Schema::new(d), Err(SchemaError::Field { .. })));
        let mut d = def();
        d.input.push(FieldDef::new("at", Encoding::Tick));
        assert!(matches!(Schema::new(d), Err(SchemaError::Field { .. })));
        let mut d = def();
        d.kinds.push(d.kinds[0].clone());
        assert!(matches!(Schema::new(d), Err(SchemaError::Name { .. })));
        let mut d = def();
        d.components[0].fields = (0..33)
            .map(|i| FieldDef::new(&format!("f{i}"), Encoding::U8))
            .collect();
        d.kinds[0].template = vec![0; 33];
        assert!(matches!(
            Schema::new(d),
            Err(SchemaError::TooManyFields { fields: 33, .. })
        ));
    }
}
