//! The allowed range of each match setting, defined once: the server validates configuration,
//! match options and live timing changes against these, and clients can show them.

use std::ops::RangeInclusive;

/// Simulation ticks per second.
pub const TICK_RATE: RangeInclusive<u16> = 1..=240;
/// Players in one match.
pub const MAX_PLAYERS: RangeInclusive<u16> = 1..=64;
/// Kills that end a match.
pub const SCORE_LIMIT: RangeInclusive<u16> = 1..=1000;
/// Radius of a player's area of interest, world units (0: the whole arena).
pub const INTEREST_RADIUS: RangeInclusive<u32> = 0..=200_000;
/// How far back a shot may be tested, milliseconds (0: no lag compensation).
pub const LAG_COMPENSATION_MS: RangeInclusive<u16> = 0..=1000;
/// Spectators of one match.
pub const MAX_SPECTATORS: RangeInclusive<u16> = 0..=1000;
/// How far behind the match spectators watch, milliseconds (0: live).
pub const SPECTATOR_DELAY_MS: RangeInclusive<u32> = 0..=120_000;
/// A match's length, seconds.
pub const TIME_LIMIT_SECS: RangeInclusive<u32> = 1..=86_400;

/// Snapshots are sent every `snapshot_interval` ticks: at least every tick, at most once a second.
pub fn snapshot_interval(tick_rate: u16) -> RangeInclusive<u16> {
    1..=tick_rate
}
