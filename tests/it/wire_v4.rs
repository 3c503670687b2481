//! The schema-driven wire (v4) on the arena's real traffic, beside the hand-written v3 codec it
//! replaces: the server's own `Sim`, driven as benches/WORKLOAD.md says (16 players, 30
//! Hz, directions re-rolled every 500 ms, a new aim every input), encoded both ways every tick.
//! v4 must mirror every tick exactly and cost no more bytes than v3 (issue 23 §3).

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::app::DEFAULT_MAP;
use server::game::harness::Harness;
use server::game::history::{EncodeScratch, Frame as V3Frame, History};
use server::game::options::MatchOptions;
use server::game::sim::Sim;
use shared::arena::Arena;
use shared::protocol::Input;
use shared::rules::buttons;
use shared::wire::delta::diff;
use shared::wire::event::Event;
use shared::wire::frame::Frame;
use shared::wire::mirror::Mirror;
use shared::wire::predict::Step;
use shared::wire::snapshot::{SnapshotBase, encode_ack, encode_body};
use tickwire_arena::predict::ArenaPrediction;
use tickwire_arena::schema::schema;
use tickwire_arena::v3::{event_of, frame_of};

const PLAYERS: usize = 16;

/// Bytes per player-second of each codec over `ticks` ticks of a 16-player match where a
/// share `fire` of the inputs fire (and, with `rail`, a share of them the rail).
fn run(fire: f64, rail: bool, ticks: u32) -> (f64, f64) {
    // Sixteen seats and limits no run reaches.
    let options = MatchOptions {
        max_players: PLAYERS as u16,
        score_limit: u16::MAX,
        time_limit_secs: 24 * 3600,
        ..Harness::options(30, 7)
    };
    let arena = Arena::from_json(DEFAULT_MAP).expect("the built-in map parses");
    let schema = Arc::new(schema().expect("valid"));
    let rule = ArenaPrediction {
        arena: arena.clone(),
    };
    let mut sim = Sim::new(&options, arena.clone());
    let players: Vec<Entity> = (0..PLAYERS)
        .map(|i| sim.add_player(&format!("p{i}")).0)
        .collect();
    let mut held = [0u8; PLAYERS];
    let mut rng = StdRng::seed_from_u64(1);
    let mut history = History::default();
    let mut scratch = EncodeScratch::default();
    let mut mirror = Mirror::new(schema.clone(), Box::new(rule.clone()), 30);
    let mut base = Frame::new();
    let (mut v3_bytes, mut v4_bytes) = (0usize, 0usize);
    for seq in 1..=ticks {
        for (i, &e) in players.iter().enumerate() {
            if seq % 15 == (i as u32) % 15 {
                held[i] = rng.random_range(0..16u8);
            }
            let shoot = if rng.random_bool(fire) {
                if rail && rng.random_bool(0.2) {
                    buttons::RAIL
                } else {
                    buttons::FIRE
                }
            } else {
                0
            };
            let input = Input {
                seq,
                buttons: held[i] | shoot,
                aim: rng.random(),
                view_tick: sim.tick().saturating_sub(3),
            };
            sim.queue_input(e, input);
        }
        sim.step();
        let tick = sim.tick();
        let baseline = history.latest().map_or(0, |f| f.tick);
        let entities = sim.snapshot();
        let events = sim.take_events();
        let frame = frame_of(&schema, &entities).expect("an arena world fits the schema");
        let v4_events: Vec<Event> = events.iter().map(event_of).collect();
        history.push(V3Frame {
            tick,
            tick_rate: 30,
            entities: Arc::new(entities),
            events,
        });
        let sim_ref = &sim;
        // v3: the server's own encode (its variant byte included), plus each client's ack.
        let v3 = history.encode_latest(baseline, None, &arena, |id| sim_ref.name(id), &mut scratch);
        v3_bytes += PLAYERS * (v3.len() + 1);

        // v4: the same frame against the same baseline; 1 byte of message variant, body, ack.
        let (snap, ticks_since) = if baseline == 0 {
            (SnapshotBase::Full { tick }, 0)
        } else {
            (
                SnapshotBase::Since {
                    ticks: tick - baseline,
                },
                tick - baseline,
            )
        };
        let step = Step {
            tick_rate: 30,
            ticks: ticks_since,
            tick,
        };
        let delta = diff(&schema, &base, &frame, |id| sim_ref.name(id), &step, &rule);
        let mut body = Vec::new();
        encode_body(&schema, snap, &base, &delta, &v4_events, tick, &mut body);
        encode_ack(1, &mut body);
        v4_bytes += PLAYERS * (body.len() + 1);

        let got = mirror
            .apply(&body)
            .expect("the mirror applies every snapshot");
        assert_eq!(
            mirror.frame(),
            &frame,
            "tick {tick}: the mirror is the server's world"
        );
        if baseline != 0 {
            assert_eq!(
                got, v4_events,
                "tick {tick}: events arrive with their ticks"
            );
        }
        base = frame;
    }
    let player_seconds = (PLAYERS as f64) * f64::from(ticks) / 30.0;
    (
        v3_bytes as f64 / player_seconds,
        v4_bytes as f64 / player_seconds,
    )
}

#[test]
fn on_the_standard_workload_v4_costs_no_more_than_v3_and_mirrors_exactly() {
    let (v3, v4) = run(0.0, false, 900);
    eprintln!("standard: v3 {v3:.0} B/player-s, v4 {v4:.0} B/player-s");
    assert!(v4 <= v3, "v4 {v4:.0} > v3 {v3:.0}");
}

#[test]
fn with_guns_and_rails_firing_v4_costs_no_more_than_v3_and_mirrors_exactly() {
    let (v3, v4) = run(0.3, true, 900);
    eprintln!("firing: v3 {v3:.0} B/player-s, v4 {v4:.0} B/player-s");
    assert!(v4 <= v3, "v4 {v4:.0} > v3 {v3:.0}");
}
