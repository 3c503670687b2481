//! Client-side prediction of the player's own movement with the shared movement rule,
//! reconciled against the server's last applied input on every snapshot.

use std::collections::VecDeque;

use shared::arena::Arena;
use shared::entity::{EntityState, flags};
use shared::protocol::Input;
use shared::quant::SIM_SCALE;
use shared::rules::movement::move_player;

/// Predicts the own player: apply each input as it is sent, and on each snapshot replay the
/// inputs the server has not applied yet on top of its authoritative position.
#[derive(Debug, Clone)]
pub struct Predictor {
    arena: Arena,
    tick_rate: u16,
    /// Inputs sent but not yet acknowledged. The server applies each at the tick rate current
    /// when it runs it, so a replay uses the latest known rate.
    pending: VecDeque<Input>,
    /// Predicted position, simulation fixed point.
    pos: Option<(i32, i32)>,
    alive: bool,
    last_error: f64,
}

/// Inputs kept for replay; beyond this the oldest are forgotten (a stalled connection).
const MAX_PENDING: usize = 256;

impl Predictor {
    pub fn new(arena: Arena, tick_rate: u16) -> Predictor {
        Predictor {
            arena,
            tick_rate,
            pending: VecDeque::new(),
            pos: None,
            alive: true,
            last_error: 0.0,
        }
    }

    /// The match's tick rate changed (MatchSettings).
    pub fn set_tick_rate(&mut self, rate: u16) {
        self.tick_rate = rate;
    }

    /// An input was sent: predict its step now.
    pub fn apply_input(&mut self, input: Input) {
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(input);
        if let (Some((x, y)), true) = (self.pos, self.alive) {
            self.pos = Some(move_player(
                &self.arena,
                x,
                y,
                input.buttons,
                self.tick_rate,
            ));
        }
    }

    /// A snapshot gave the server's state of the own entity and the last input it applied.
    /// Returns how far the prediction was off, in world units.
    pub fn reconcile(&mut self, state: &EntityState, ack_input_seq: u32) -> f64 {
        while self.pending.front().is_some_and(|i| i.seq <= ack_input_seq) {
            self.pending.pop_front();
        }
        self.alive = state.flags & flags::ALIVE != 0;
        let mut pos = (state.x, state.y);
        if self.alive {
            for input in &self.pending {
                pos = move_player(&self.arena, pos.0, pos.1, input.buttons, self.tick_rate);
            }
        }
        self.last_error = self.pos.map_or(0.0, |(x, y)| {
            f64::from(x - pos.0).hypot(f64::from(y - pos.1)) / f64::from(SIM_SCALE)
        });
        self.pos = Some(pos);
        self.last_error
    }

    /// The predicted position in world units.
    pub fn position(&self) -> Option<(f64, f64)> {
        let s = f64::from(SIM_SCALE);
        self.pos.map(|(x, y)| (f64::from(x) / s, f64::from(y) / s))
    }

    /// The size of the last correction, world units.
    pub fn last_error(&self) -> f64 {
        self.last_error
    }
}
