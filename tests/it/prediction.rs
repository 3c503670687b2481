//! The Rust client's prediction against the real simulation: with one input applied per tick,
//! every reconciled prediction is exactly where the server really has the player (the wire
//! carries the simulation's own fixed point), across random inputs, walls and a tick-rate change.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::app::DEFAULT_MAP;
use server::game::harness::Harness;
use server::game::options::MatchOptions;
use server::game::sim::Sim;
use shared::arena::Arena;
use shared::protocol::Input;
use shared::rules::buttons;
use shared::rules::movement::move_player;
use tickwire_client::Predictor;

#[test]
fn reconciled_prediction_tracks_the_server() {
    let arena = Arena::from_json(DEFAULT_MAP).expect("map");
    let options = MatchOptions {
        max_players: 2,
        score_limit: 100,
        time_limit_secs: 600,
        ..Harness::options(30, 3)
    };
    let mut sim = Sim::new(&options, arena.clone());
    let (me, shared::ids::NetId(id)) = sim.add_player("me");
    let mut predictor = Predictor::new(arena, 30);
    let mut rng = StdRng::seed_from_u64(9);
    let mut in_flight: std::collections::VecDeque<Input> = Default::default();
    let mut held = 0;
    let mut worst: f64 = 0.0;
    for seq in 1..=1500u32 {
        if seq == 700 {
            sim.set_tick_rate(64);
            predictor.set_tick_rate(64);
        }
        if rng.random_bool(0.1) {
            held = rng.random_range(0..16u8) & !buttons::FIRE;
        }
        let input = Input {
            seq,
            buttons: held,
            aim: 0,
            view_tick: 0,
        };
        predictor.apply_input(input);
        // The network delays inputs by 3 ticks; the server applies one per tick.
        in_flight.push_back(input);
        if in_flight.len() > 3
            && let Some(i) = in_flight.pop_front()
        {
            sim.queue_input(me, i);
        }
        sim.step();
        let state = sim
            .snapshot()
            .into_iter()
            .find(|e| e.0 == id)
            .map(|e| e.1)
            .expect("me");
        predictor.reconcile(&state, sim.last_input_seq(me));
        // Where the server will have the player once it applies what is still in flight,
        // from its exact position with the shared rule.
        let (mut x, mut y) = sim.exact_position(me).expect("position");
        for i in &in_flight {
            (x, y) = move_player(sim.arena(), x, y, i.buttons, sim.tick_rate());
        }
        let (px, py) = predictor.position().expect("predicted");
        let off = (f64::from(x) / 256.0 - px)
            .abs()
            .max((f64::from(y) / 256.0 - py).abs());
        worst = worst.max(off);
    }
    assert_eq!(worst, 0.0, "prediction off by {worst} units");
}
