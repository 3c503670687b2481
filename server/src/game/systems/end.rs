//! Ends the match at the score limit or the time limit.

use bevy_ecs::prelude::*;
use shared::protocol::EndReason;

use crate::game::components::{Clock, Limits, Outcome, Player};

/// Sets [`Outcome`] once a player reaches the score limit or time runs out.
pub fn check_end(
    players: Query<&Player>,
    clock: Res<Clock>,
    limits: Res<Limits>,
    mut outcome: ResMut<Outcome>,
) {
    if outcome.0.is_some() {
        return;
    }
    if players.iter().any(|p| p.score >= limits.score) {
        outcome.0 = Some(EndReason::ScoreLimit);
    } else if clock.tick >= limits.last_tick {
        outcome.0 = Some(EndReason::TimeLimit);
    }
}
