//! The arena's prediction rule: a living player keeps moving with the movement buttons it
//! holds, by the integer movement rule the server runs; a shot leaves from its shooter. Steady
//! motion and a shot fired from where its shooter is cost nothing on the wire.

use shared::arena::Arena;
use shared::quant::SIM_SCALE;
use shared::rules::buttons;
use shared::rules::movement::move_player;
use shared::wire::frame::Frame;
use shared::wire::predict::{MAX_PREDICTED_TICKS, Predictor, Step};

use crate::schema::{PLAYER, SHOT, player, shot};
use crate::wire::flags;

/// The rule on one map. It predicts only entities laid out as the arena's schema lays them
/// out; anything else (a schema that is not the arena's) it leaves to the corrections.
#[derive(Debug, Clone)]
pub struct ArenaPrediction {
    pub arena: Arena,
}

impl Predictor for ArenaPrediction {
    fn moved(&self, step: &Step, kind: u16, base: &[u32], next: &mut [u32]) {
        // A schema from elsewhere may give kind 0 fewer fields than a player has.
        if kind != PLAYER || base.len() <= player::DEATHS || next.len() <= player::DEATHS {
            return;
        }
        let (x, y) = (base[player::X] as i32, base[player::Y] as i32);
        let held = next[player::BUTTONS] as u8;
        let arena = &self.arena;
        let inside = |v: i32, side: i32| (0..=side.saturating_mul(SIM_SCALE)).contains(&v);
        let moves = base[player::FLAGS] as u8 & flags::ALIVE != 0
            && held & buttons::MOVE != 0
            && (1..=MAX_PREDICTED_TICKS).contains(&step.ticks)
            // Positions outside the arena cannot come from the server; not stepping them keeps
            // the integer rule far from overflow whatever the bytes said.
            && inside(x, arena.width)
            && inside(y, arena.height);
        if !moves {
            return;
        }
        let (x, y) = (0..step.ticks).fold((x, y), |(x, y), _| {
            move_player(arena, x, y, held, step.tick_rate)
        });
        next[player::X] = x as u32;
        next[player::Y] = y as u32;
    }

    fn origin(&self, _step: &Step, kind: u16, spawned: &mut [u32], survivors: &Frame) {
        if kind != SHOT || spawned.len() <= shot::FIRED {
            return;
        }
        if let Some(owner) = survivors.get(spawned[shot::OWNER])
            && owner.kind == PLAYER
            && owner.fields.len() > player::DEATHS
        {
            spawned[shot::X] = owner.fields[player::X];
            spawned[shot::Y] = owner.fields[player::Y];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::wire::schema::{ComponentDef, Encoding, FieldDef, KindDef, Schema, SchemaDef};

    /// A schema that is not the arena's, whose kinds 0 and 1 have one field each.
    fn narrow() -> Schema {
        let c = ComponentDef {
            name: "x".into(),
            fields: vec![FieldDef::new("x", Encoding::Signed).predicted()],
        };
        let kind = |name: &str| KindDef {
            name: name.into(),
            components: vec![0],
            named: false,
            template: vec![0],
        };
        let def = SchemaDef {
            game: "other".into(),
            components: vec![c],
            kinds: vec![kind("a"), kind("b")],
            events: vec![],
            input: vec![],
        };
        Schema::new(def).expect("valid")
    }

    #[test]
    fn entities_of_another_layout_are_left_alone_not_a_panic() {
        let schema = narrow();
        let rule = ArenaPrediction {
            arena: shared::arena::Arena {
                width: 100,
                height: 100,
                walls: vec![],
                spawns: vec![],
            },
        };
        let step = Step {
            tick_rate: 30,
            ticks: 3,
            tick: 9,
        };
        let mut survivors = Frame::new();
        survivors.push(&schema, 1, PLAYER, &[5]).expect("valid");
        let mut one = [7u32];
        rule.moved(&step, PLAYER, &[7], &mut one);
        rule.origin(&step, SHOT, &mut one, &survivors);
        assert_eq!(one, [7]);
    }
}
