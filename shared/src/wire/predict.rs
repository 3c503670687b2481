//! The prediction plug-in: what a game's clients compute on their own between two snapshots,
//! so the wire carries only what differs from it. A game without one predicts that nothing
//! moves; with one (a movement rule the client runs too), steady motion is free on the wire.
//!
//! Server and clients must run the same rule on the same inputs: the server sends each
//! predicted field as the correction to the prediction and the client adds it back, so a wrong
//! prediction costs bytes, never correctness.

use crate::wire::frame::Frame;

/// Longest gap between a snapshot and its baseline that a rule is asked to step through tick
/// by tick; rules should predict nothing (leave the base values) past it, so a client that
/// lagged far behind costs corrections, not CPU.
pub const MAX_PREDICTED_TICKS: u32 = 128;

/// The snapshot being predicted: the tick rate at its tick, how many ticks it lies after its
/// baseline (0: a full snapshot) and its tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub tick_rate: u16,
    pub ticks: u32,
    pub tick: u32,
}

/// A game's prediction rule. Only fields marked `predicted` in the schema are read back from
/// what it writes; it must never panic, whatever the values (they may come from anyone).
pub trait Predictor: Send + Sync {
    /// An entity of `kind` was `base` at the baseline; `next` holds its new values, with the
    /// predicted fields still at their base values. Overwrite the predicted fields with where
    /// the entity is now expected to be. The default predicts no change.
    fn moved(&self, step: &Step, kind: u16, base: &[u32], next: &mut [u32]) {
        let _ = (step, kind, base, next);
    }

    /// A new entity of `kind` has `spawned` as its values, with the predicted fields at the
    /// template's. Overwrite them with where it is expected to appear (a missile at whoever fired it),
    /// given `survivors`: the entities of the baseline still present, at their new values. The
    /// default predicts the template.
    fn origin(&self, step: &Step, kind: u16, spawned: &mut [u32], survivors: &Frame) {
        let _ = (step, kind, spawned, survivors);
    }
}

/// The rule of a game that predicts nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrediction;

impl Predictor for NoPrediction {}
