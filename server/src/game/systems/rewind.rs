//! Lag compensation: a short history of every living player's hit circle, so that a shot is
//! tested against its targets where the shooter saw them, never more than the bound back.

use std::borrow::Cow;
use std::collections::VecDeque;

use bevy_ecs::prelude::*;

use crate::game::components::{Clock, NetId, Player, Position};

/// A living player's hit circle at one tick (simulation fixed point) and the life it was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub id: u32,
    pub x: i32,
    pub y: i32,
    pub life: u32,
}

/// The hit circles at the end of each of the last ticks, as many as the bound covers.
#[derive(Resource, Debug)]
pub struct Rewind {
    max_ms: u32,
    frames: VecDeque<(u32, Vec<Target>)>,
}

impl Rewind {
    /// A history for shots rewound at most `max_ms` (0: no compensation, nothing kept).
    pub fn new(max_ms: u32) -> Rewind {
        Rewind {
            max_ms,
            frames: VecDeque::new(),
        }
    }

    /// The bound in whole ticks at `rate`, rounded down so it never exceeds `max_ms`.
    pub fn max_ticks(&self, rate: u16) -> u32 {
        (u64::from(self.max_ms) * u64::from(rate) / 1000) as u32
    }

    /// The tick a shot fired on tick `now` is tested at, when the shooter's client says it was
    /// showing others at `view_tick`: that tick, clamped to the bound; `now` when the client
    /// did not say (0) or claims a tick that has not happened.
    pub fn rewound_tick(&self, now: u32, view_tick: u32, rate: u16) -> u32 {
        if view_tick == 0 || view_tick >= now {
            return now;
        }
        view_tick.max(now.saturating_sub(self.max_ticks(rate)))
    }

    /// The hit circles at the end of `tick`, or of the oldest tick held when `tick` is older
    /// (after a tick-rate change). `None` when nothing is held.
    pub fn at(&self, tick: u32) -> Option<&[Target]> {
        let i = match self.frames.binary_search_by_key(&tick, |f| f.0) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        };
        self.frames.get(i).map(|f| f.1.as_slice())
    }
}

/// Records every living player's hit circle at the end of the tick, dropping what the bound no
/// longer reaches. Reuses the oldest frame's allocation.
pub fn record_targets(
    players: Query<(&NetId, &Player, &Position)>,
    clock: Res<Clock>,
    mut rewind: ResMut<Rewind>,
) {
    let keep = rewind.max_ticks(clock.rate) as usize;
    if keep == 0 {
        rewind.frames.clear();
        return;
    }
    let mut frame = if rewind.frames.len() >= keep {
        rewind.frames.pop_front().map(|f| f.1).unwrap_or_default()
    } else {
        Vec::new()
    };
    while rewind.frames.len() >= keep {
        rewind.frames.pop_front();
    }
    frame.clear();
    frame.extend(
        players
            .iter()
            .filter_map(|(id, p, pos)| hit_circle(id, p, pos)),
    );
    rewind.frames.push_back((clock.tick, frame));
}

/// A player's hit circle, if it is alive.
fn hit_circle(id: &NetId, p: &Player, pos: &Position) -> Option<Target> {
    p.alive.then_some(Target {
        id: id.0,
        x: pos.x,
        y: pos.y,
        life: p.life,
    })
}

/// Every living player's hit circle now, into `out` (a system's `Local`, so the list is
/// allocated once, not every tick).
pub fn living(players: &Query<(&NetId, &mut Player, &Position)>, out: &mut Vec<Target>) {
    out.clear();
    out.extend(
        players
            .iter()
            .filter_map(|(id, p, pos)| hit_circle(id, p, pos)),
    );
}

/// The targets a shot fired on tick `now` and rewound to `at` can hit, given those `living`
/// now: where they were at `at`, for those alive then and still in the same life (a player who
/// died or respawned since cannot be hit where they used to be).
pub fn targets_at<'a>(
    rewind: &'a Rewind,
    living: &'a [Target],
    now: u32,
    at: u32,
) -> Cow<'a, [Target]> {
    let then = match rewind.at(at) {
        Some(then) if at < now => then,
        _ => return Cow::Borrowed(living),
    };
    Cow::Owned(
        then.iter()
            .filter(|t| living.iter().any(|c| c.id == t.id && c.life == t.life))
            .copied()
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_view_is_clamped_to_the_bound() {
        let r = Rewind::new(200);
        assert_eq!(r.max_ticks(30), 6, "200 ms at 30 Hz, rounded down");
        assert_eq!(r.rewound_tick(100, 97, 30), 97);
        assert_eq!(r.rewound_tick(100, 10, 30), 94, "older claims clamp");
        assert_eq!(r.rewound_tick(100, 0, 30), 100, "unknown: no rewind");
        assert_eq!(r.rewound_tick(100, 150, 30), 100, "the future: no rewind");
        assert_eq!(Rewind::new(0).rewound_tick(100, 97, 30), 100, "off");
    }
}
