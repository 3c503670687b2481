//! The schema-driven wire (protocol v4, being built beside v3; docs/game-api.md has the plan):
//! a game describes its entities, events and inputs field by field ([`schema`]), and the same
//! generic code encodes, decodes, diffs and mirrors any game's world with the compactness of
//! the hand-written v3 codec: field masks per kind, deltas against the client's baseline,
//! corrections against a prediction plug-in, spawns as patches of a template, gap-coded lists.

pub mod bytes;
pub mod component;
pub mod delta;
pub mod event;
pub mod frame;
pub mod message;
pub mod mirror;
pub mod predict;
pub mod schema;
pub mod snapshot;
