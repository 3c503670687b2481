//! The movement step, in integers so that every client predicts it exactly as the server runs it.
//!
//! Players collide with walls and the arena edge as squares of half-size [`PLAYER_RADIUS`]
//! (a simplification of the circle that keeps the rule integer-exact and easy to port). Each axis
//! is swept on its own, x first, so no step can tunnel through a wall at low tick rates.

use crate::arena::Arena;
use crate::quant::SIM_SCALE;
use crate::rules::{PLAYER_RADIUS, PLAYER_SPEED, buttons};

/// Distance in simulation fixed point ([`SIM_SCALE`]) one tick moves a player along one axis, and along each axis of a
/// diagonal. Rounded down, so nobody ever exceeds [`PLAYER_SPEED`].
pub fn step_q(tick_rate: u16) -> (i32, i32) {
    let rate = i32::from(tick_rate.max(1));
    let axis = PLAYER_SPEED * SIM_SCALE / rate;
    let diag = (f64::from(PLAYER_SPEED * SIM_SCALE) / f64::from(rate)
        * std::f64::consts::FRAC_1_SQRT_2)
        .floor() as i32;
    (axis, diag)
}

/// One tick of movement from `(x, y)` (simulation fixed point) with `held` buttons.
pub fn move_player(arena: &Arena, x: i32, y: i32, held: u8, tick_rate: u16) -> (i32, i32) {
    let sx = i32::from(held & buttons::RIGHT != 0) - i32::from(held & buttons::LEFT != 0);
    let sy = i32::from(held & buttons::DOWN != 0) - i32::from(held & buttons::UP != 0);
    let (axis, diag) = step_q(tick_rate);
    let step = if sx != 0 && sy != 0 { diag } else { axis };
    let nx = sweep(arena, x, y, sx * step, Axis::X);
    let ny = sweep(arena, nx, y, sy * step, Axis::Y);
    (nx, ny)
}

#[derive(Clone, Copy, PartialEq)]
enum Axis {
    X,
    Y,
}

/// Moves `d` along `axis` from `(x, y)`, stopping at the first wall face or the arena edge.
fn sweep(arena: &Arena, x: i32, y: i32, d: i32, axis: Axis) -> i32 {
    let r = PLAYER_RADIUS * SIM_SCALE;
    let (pos, other) = if axis == Axis::X { (x, y) } else { (y, x) };
    if d == 0 {
        return pos;
    }
    let mut target = pos + d;
    for w in &arena.walls {
        // The wall grown by the player's half-size, in simulation fixed point, along (this, other) axes.
        let (lo, hi, olo, ohi) = if axis == Axis::X {
            (w.x, w.x + w.w, w.y, w.y + w.h)
        } else {
            (w.y, w.y + w.h, w.x, w.x + w.w)
        };
        let (lo, hi) = (lo * SIM_SCALE - r, hi * SIM_SCALE + r);
        let (olo, ohi) = (olo * SIM_SCALE - r, ohi * SIM_SCALE + r);
        if other <= olo || other >= ohi {
            continue;
        }
        if d > 0 && pos <= lo && target > lo {
            target = lo;
        } else if d < 0 && pos >= hi && target < hi {
            target = hi;
        }
    }
    let side = if axis == Axis::X {
        arena.width
    } else {
        arena.height
    };
    target.clamp(r, side * SIM_SCALE - r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::{Point, Wall};

    fn arena() -> Arena {
        Arena {
            width: 1000,
            height: 1000,
            walls: vec![Wall {
                x: 500,
                y: 0,
                w: 10,
                h: 600,
            }],
            spawns: vec![Point { x: 100, y: 100 }],
        }
    }

    #[test]
    fn speed_is_never_exceeded() {
        for rate in [1u16, 7, 30, 60, 64, 128, 240] {
            let (axis, diag) = step_q(rate);
            let scale = f64::from(SIM_SCALE);
            let per_sec = f64::from(axis) * f64::from(rate) / scale;
            let diag_per_sec = (2.0 * f64::from(diag).powi(2)).sqrt() * f64::from(rate) / scale;
            // Rounding the step down costs under 1 % at any tick rate.
            assert!((198.0..=200.0).contains(&per_sec), "{rate}: {per_sec}");
            assert!(
                (198.0..=200.0).contains(&diag_per_sec),
                "{rate}: {diag_per_sec}"
            );
        }
    }

    #[test]
    fn walls_stop_even_a_one_hertz_step() {
        let a = arena();
        // 1 Hz moves 200 units a tick; the wall's face (grown by 16) is at x = 484.
        let (x, _) = move_player(&a, 400 * 256, 300 * 256, buttons::RIGHT, 1);
        assert_eq!(x, 484 * 256);
        // Below the wall the way is open.
        let (x, _) = move_player(&a, 400 * 256, 700 * 256, buttons::RIGHT, 1);
        assert_eq!(x, 600 * 256);
    }

    #[test]
    fn arena_edge_clamps() {
        let (x, y) = move_player(&arena(), 20 * 256, 20 * 256, buttons::LEFT | buttons::UP, 1);
        assert_eq!((x, y), (16 * 256, 16 * 256));
    }
}
