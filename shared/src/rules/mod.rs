//! The game's rules that server and clients must agree on: constants, timing, projectile flight.

pub mod geometry;
pub mod movement;

use crate::quant::{POS_SCALE, q_to_angle};

/// Player circle radius in world units.
pub const PLAYER_RADIUS: i32 = 16;
/// Player speed in world units per second (diagonals are normalized).
pub const PLAYER_SPEED: i32 = 200;
/// Projectile speed in world units per second.
pub const PROJECTILE_SPEED: f64 = 600.0;
/// Projectile radius in world units, for hits.
pub const PROJECTILE_RADIUS: f64 = 4.0;
/// How long a projectile flies.
pub const PROJECTILE_LIFETIME_MS: u32 = 1500;
/// Shortest time between two shots of one player.
pub const FIRE_INTERVAL_MS: u32 = 250;
/// Hit points of a fresh player.
pub const MAX_HP: u8 = 100;
/// Damage of one hit.
pub const HIT_DAMAGE: u8 = 25;
/// Time from death to respawn.
pub const RESPAWN_MS: u32 = 3000;
/// Shortest time between two rail shots of one player.
pub const RAIL_INTERVAL_MS: u32 = 1000;
/// Damage of one rail hit.
pub const RAIL_DAMAGE: u8 = 50;
/// How far a rail shot reaches, in world units (walls stop it sooner).
pub const RAIL_RANGE: f64 = 1200.0;

/// Bits of [`crate::protocol::Input::buttons`]. Screen convention: y grows downwards.
pub mod buttons {
    pub const UP: u8 = 1;
    pub const DOWN: u8 = 2;
    pub const LEFT: u8 = 4;
    pub const RIGHT: u8 = 8;
    pub const FIRE: u8 = 16;
    /// The hitscan rail (the second fire button).
    pub const RAIL: u8 = 32;
    /// The movement bits (what a player's replicated state carries).
    pub const MOVE: u8 = UP | DOWN | LEFT | RIGHT;
    /// Every bit with a meaning; the rest are ignored.
    pub const ALL: u8 = 63;
}

/// Whole ticks covering `ms` at `tick_rate` Hz, rounded up so a tick-counted interval is never
/// shorter than the one in milliseconds. At least 1.
pub fn ticks_for_ms(ms: u32, tick_rate: u16) -> u32 {
    let rate = u64::from(tick_rate.max(1));
    (u64::from(ms) * rate).div_ceil(1000).max(1) as u32
}

/// Where a projectile is, in world units, `elapsed_ticks` after it was fired from `(x_q, y_q)`
/// (fixed point) towards `aim`.
pub fn projectile_position(
    x_q: i32,
    y_q: i32,
    aim: u16,
    elapsed_ticks: u32,
    tick_rate: u16,
) -> (f64, f64) {
    let a = q_to_angle(aim);
    let dist = PROJECTILE_SPEED * f64::from(elapsed_ticks) / f64::from(tick_rate.max(1));
    let scale = f64::from(POS_SCALE);
    (
        f64::from(x_q) / scale + a.cos() * dist,
        f64::from(y_q) / scale + a.sin() * dist,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_round_up() {
        assert_eq!(ticks_for_ms(FIRE_INTERVAL_MS, 30), 8);
        assert_eq!(ticks_for_ms(FIRE_INTERVAL_MS, 64), 16);
        assert_eq!(ticks_for_ms(FIRE_INTERVAL_MS, 1), 1);
        assert_eq!(ticks_for_ms(RESPAWN_MS, 30), 90);
    }

    #[test]
    fn projectile_flies_at_speed() {
        let (x, y) = projectile_position(0, 0, 0, 30, 30);
        assert!((x - PROJECTILE_SPEED).abs() < 1e-9 && y.abs() < 1e-9);
    }
}
