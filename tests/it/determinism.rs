//! Same seed and the same commands at the same ticks give the same world, bit for bit: random
//! players (inputs, drops, reconnects, leaves, a timing change) scripted from one RNG seed are
//! played twice on the in-memory harness and compared every tick. Along the way every client's
//! mirror equals the world the server replicated.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::game::harness::Harness;
use server::game::messages::{Command, TimingChange};
use shared::ids::ConnId;
use shared::protocol::PlayerResult;
use shared::rules::buttons;

const TICKS: u32 = 3000;

/// Plays `TICKS` ticks of a match seeded `seed`, driven by commands drawn from `script`;
/// returns the world hash after every tick and the final results.
fn play(seed: u64, script: u64) -> (Vec<u64>, Vec<PlayerResult>) {
    let mut h = Harness::new(Harness::options(30, seed));
    let mut rng = StdRng::seed_from_u64(script);
    let names = ["a", "b", "c", "d", "e", "f"];
    // Each player's live connection, if any.
    let mut conns: Vec<Option<ConnId>> = vec![None; names.len()];
    let mut hashes = Vec::with_capacity(TICKS as usize);
    for tick in 0..TICKS {
        for (i, name) in names.iter().enumerate() {
            match (conns[i], rng.random_range(0..1000)) {
                (None, 0..20) => conns[i] = Some(h.join(name)),
                (Some(c), 0..3) => {
                    h.drop_connection(c);
                    conns[i] = None;
                }
                (Some(c), 3..5) => {
                    h.leave(c);
                    conns[i] = None;
                }
                (Some(c), roll) => {
                    let (buttons, aim) = if roll < 500 {
                        fight(&h, c)
                    } else {
                        (rng.random(), rng.random())
                    };
                    h.input(c, buttons, aim);
                }
                (None, _) => {}
            }
        }
        if tick == TICKS / 2 {
            let change = TimingChange {
                tick_rate: Some(60),
                snapshot_interval: Some(3),
            };
            h.apply(Command::Configure {
                change,
                by: "script".into(),
            });
        }
        h.step();
        hashes.push(h.world_hash());
        // Whoever got the newest snapshot mirrors exactly what the server replicated.
        let replicated = h.replicated();
        let newest = h.core().current_tick();
        for c in conns.iter().flatten() {
            let client = h.client(*c);
            if client.snapshot_ticks.last() == Some(&newest) {
                assert_eq!(client.mirror().entities(), replicated.as_slice());
            }
        }
    }
    let results = {
        h.apply(Command::End {
            reason: shared::protocol::EndReason::Admin,
            by: "script".into(),
        });
        h.step();
        h.core().info().record().expect("ended").players
    };
    let results = results
        .into_iter()
        .map(|p| PlayerResult {
            entity: p.entity,
            name: p.name,
            score: p.score,
            deaths: p.deaths,
        })
        .collect();
    (hashes, results)
}

/// Buttons and aim that take the client on `conn` towards the first other player it mirrors,
/// firing along the row (as the scripted fights in the simulation's unit tests do).
fn fight(h: &Harness, conn: ConnId) -> (u8, u16) {
    let client = h.client(conn);
    let Some(me) = client.mirror().entity(client.entity()).copied() else {
        return (0, 0);
    };
    let target = client
        .mirror()
        .entities()
        .iter()
        .find(|(id, e)| *id != client.entity() && e.kind == shared::entity::EntityKind::Player);
    let Some((_, t)) = target else {
        return (buttons::FIRE, 0);
    };
    let aim = if t.x > me.x { 0 } else { 32768 };
    let vertical = match t.y.cmp(&me.y) {
        std::cmp::Ordering::Greater => buttons::DOWN,
        std::cmp::Ordering::Less => buttons::UP,
        std::cmp::Ordering::Equal => 0,
    };
    (buttons::FIRE | vertical, aim)
}

#[test]
fn the_same_seed_and_commands_give_the_same_world_every_tick() {
    let (first, first_results) = play(42, 7);
    let (second, second_results) = play(42, 7);
    let diverged = first.iter().zip(&second).position(|(a, b)| a != b);
    assert_eq!(diverged, None, "the worlds diverged at tick {diverged:?}");
    assert_eq!(first_results, second_results);
    assert!(
        first_results.iter().any(|r| r.score > 0 || r.deaths > 0),
        "the script fought: {first_results:?}"
    );
}

#[test]
fn another_seed_gives_another_world() {
    let (first, _) = play(42, 7);
    let (other, _) = play(43, 7);
    assert_ne!(first, other);
}
