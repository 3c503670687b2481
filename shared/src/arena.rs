//! The arena: its size, walls and spawn points, loaded from a JSON map and sent in Welcome.

use bincode::{Decode, Encode};
use serde::Deserialize;

use crate::rules::PLAYER_RADIUS;

/// An axis-aligned wall in world units; `(x, y)` is its top-left corner (y grows downwards).
#[derive(Encode, Decode, Deserialize, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Wall {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A point in world units.
#[derive(Encode, Decode, Deserialize, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

/// The playing field, `width` × `height` world units with the origin at the top-left.
#[derive(Encode, Decode, Deserialize, serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Arena {
    pub width: i32,
    pub height: i32,
    pub walls: Vec<Wall>,
    pub spawns: Vec<Point>,
}

/// Largest arena side in world units (keeps fixed-point positions far from `i32` limits).
pub const MAX_SIDE: i32 = 100_000;
/// Most walls a map may have.
pub const MAX_WALLS: usize = 256;

impl Arena {
    /// Parses and validates a JSON map. The error names what is wrong.
    pub fn from_json(text: &str) -> Result<Arena, String> {
        let arena: Arena = serde_json::from_str(text).map_err(|e| format!("map: {e}"))?;
        arena.validate()?;
        Ok(arena)
    }

    /// Checks sizes, that walls lie inside, and that every spawn point has room for a player.
    pub fn validate(&self) -> Result<(), String> {
        let r = PLAYER_RADIUS;
        if !(4 * r..=MAX_SIDE).contains(&self.width) || !(4 * r..=MAX_SIDE).contains(&self.height) {
            return Err(format!(
                "map: size {}x{} outside {}..={MAX_SIDE}",
                self.width,
                self.height,
                4 * r
            ));
        }
        if self.walls.len() > MAX_WALLS {
            return Err(format!(
                "map: {} walls, at most {MAX_WALLS}",
                self.walls.len()
            ));
        }
        for (i, w) in self.walls.iter().enumerate() {
            let inside = w.w > 0
                && w.h > 0
                && w.x >= 0
                && w.y >= 0
                && w.x + w.w <= self.width
                && w.y + w.h <= self.height;
            if !inside {
                return Err(format!("map: wall {i} {w:?} is empty or outside the arena"));
            }
        }
        if self.spawns.is_empty() {
            return Err("map: no spawn points".into());
        }
        for (i, s) in self.spawns.iter().enumerate() {
            let in_bounds = s.x >= r && s.y >= r && s.x <= self.width - r && s.y <= self.height - r;
            let blocked = self.walls.iter().any(|w| {
                s.x > w.x - r && s.x < w.x + w.w + r && s.y > w.y - r && s.y < w.y + w.h + r
            });
            if !in_bounds || blocked {
                return Err(format!("map: spawn {i} {s:?} has no room for a player"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_spawn_inside_wall_and_unknown_keys() {
        let bad = r#"{"width":500,"height":500,"walls":[{"x":0,"y":0,"w":100,"h":100}],
            "spawns":[{"x":50,"y":50}]}"#;
        assert!(Arena::from_json(bad).is_err_and(|e| e.contains("spawn 0")));
        let unknown = r#"{"width":500,"height":500,"walls":[],"spawns":[],"extra":1}"#;
        assert!(Arena::from_json(unknown).is_err());
    }
}
