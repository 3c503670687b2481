//! Interest management on the in-memory harness: each client mirrors exactly the world within
//! its area of interest (its own entity and projectiles always), entities entering and leaving
//! it are spawned and removed, and no byte a client receives names anything outside it.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::game::harness::Harness;
use server::game::options::MatchOptions;
use shared::codec::decode_server;
use shared::delta::Entry;
use shared::entity::{EntityKind, EntityState};
use shared::ids::ConnId;
use shared::protocol::{ServerMsg, SnapshotBase};
use shared::quant::q_to_pos;
use shared::rules::{buttons, projectile_position};

const RATE: u16 = 30;
const RADIUS: u32 = 900;

fn options(seed: u64) -> MatchOptions {
    MatchOptions {
        max_players: 16,
        map: "large".into(),
        interest_radius: RADIUS,
        ..Harness::options(RATE, seed)
    }
}

/// Where an entity is at `tick`, in world units.
fn at(e: &EntityState, tick: u32) -> (f64, f64) {
    match e.kind {
        EntityKind::Player => (q_to_pos(e.x), q_to_pos(e.y)),
        EntityKind::Projectile => projectile_position(e.x, e.y, e.aim, tick - e.tick, RATE),
    }
}

/// The area of interest, written out again from its definition: the client's own entity, its
/// projectiles, and whatever is within `RADIUS` of its entity.
fn visible(world: &[Entry], me: u32, tick: u32, id: u32) -> bool {
    let Some(mine) = world.iter().find(|e| e.0 == me) else {
        return false;
    };
    let Some(other) = world.iter().find(|e| e.0 == id) else {
        return false;
    };
    let (c, p) = (at(&mine.1, tick), at(&other.1, tick));
    id == me
        || (other.1.kind == EntityKind::Projectile && other.1.owner == me)
        || (p.0 - c.0).powi(2) + (p.1 - c.1).powi(2) <= f64::from(RADIUS).powi(2)
}

fn restricted(world: &[Entry], me: u32, tick: u32) -> Vec<Entry> {
    world
        .iter()
        .filter(|e| visible(world, me, tick, e.0))
        .copied()
        .collect()
}

#[test]
fn every_mirror_is_the_world_restricted_to_its_area_of_interest() {
    // How often a client saw someone else, and how often someone was hidden from it: both
    // must happen for the comparison to mean anything.
    let (mut saw_others, mut hid_some) = (0, 0);
    for seed in 0..6u64 {
        let mut h = Harness::new(options(seed));
        let mut rng = StdRng::seed_from_u64(seed);
        let mut conns: Vec<Option<ConnId>> = vec![None; 12];
        let names: Vec<String> = (0..conns.len()).map(|i| format!("p{i}")).collect();
        for _ in 0..450 {
            for (i, slot) in conns.iter_mut().enumerate() {
                match (*slot, rng.random_range(0..1000)) {
                    (None, 0..40) => *slot = Some(h.join(&names[i])),
                    (Some(c), 0..3) => {
                        h.drop_connection(c);
                        *slot = None;
                    }
                    (Some(c), 3..5) => {
                        h.leave(c);
                        *slot = None;
                    }
                    (Some(c), roll) if roll < 100 => {
                        h.input(c, rng.random::<u8>() | buttons::FIRE, rng.random())
                    }
                    (Some(c), roll) if roll < 300 => h.input(c, rng.random(), rng.random()),
                    _ => {}
                }
            }
            h.step();
            let tick = h.core().current_tick();
            let world = h.replicated();
            for c in conns.iter().flatten() {
                let client = h.client(*c);
                let mirror = client.mirror();
                if mirror.tick() != tick {
                    continue; // joined this tick: its first snapshot comes next tick
                }
                let me = client.entity();
                assert_eq!(
                    mirror.entities(),
                    restricted(&world, me, tick).as_slice(),
                    "seed {seed}, tick {tick}, entity {me}"
                );
                let players =
                    |w: &[Entry]| w.iter().filter(|e| e.1.kind == EntityKind::Player).count();
                saw_others += usize::from(players(mirror.entities()) > 1);
                hid_some += usize::from(players(mirror.entities()) < players(&world));
            }
        }
    }
    assert!(
        saw_others > 1000 && hid_some > 1000,
        "saw {saw_others}, hid {hid_some}"
    );
}

/// Two players on their spawn points, and how far apart they are.
fn pair(radius: u32) -> (Harness, ConnId, ConnId, f64) {
    let mut h = Harness::new(MatchOptions {
        interest_radius: radius,
        ..options(3)
    });
    let (a, b) = (h.join("walker"), h.join("watcher"));
    h.step();
    let world = h.replicated();
    let pos = |c: ConnId| {
        let id = h.client(c).entity();
        let e = world.iter().find(|e| e.0 == id).expect("in the world").1;
        (q_to_pos(e.x), q_to_pos(e.y))
    };
    let (from, to) = (pos(a), pos(b));
    (h, a, b, (to.0 - from.0).hypot(to.1 - from.1))
}

#[test]
fn entering_the_area_spawns_and_leaving_it_removes() {
    // Spawn points are at least 150 units from any wall: a radius 60 short of the distance
    // between the two players is a short walk in the open.
    let (_, _, _, distance) = pair(RADIUS);
    let (mut h, walker, watcher, _) = pair((distance - 60.0) as u32);
    let (w, me) = (h.client(walker).entity(), h.client(watcher).entity());
    let world = h.replicated();
    let pos = |id: u32| {
        let e = world.iter().find(|e| e.0 == id).expect("in the world").1;
        (q_to_pos(e.x), q_to_pos(e.y))
    };
    let (from, to) = (pos(w), pos(me));
    assert!(
        h.client(watcher).mirror().entity(w).is_none(),
        "out of sight"
    );
    // Walk straight at the watcher until seen, then back until gone.
    let toward = {
        let x = if to.0 > from.0 {
            buttons::RIGHT
        } else if to.0 < from.0 {
            buttons::LEFT
        } else {
            0
        };
        let y = if to.1 > from.1 {
            buttons::DOWN
        } else if to.1 < from.1 {
            buttons::UP
        } else {
            0
        };
        x | y
    };
    let away = {
        let flip = |b: u8, p: u8, q: u8| {
            if b & p != 0 {
                q
            } else if b & q != 0 {
                p
            } else {
                0
            }
        };
        flip(toward, buttons::LEFT, buttons::RIGHT) | flip(toward, buttons::UP, buttons::DOWN)
    };
    let mut ticks = 0;
    while h.client(watcher).mirror().entity(w).is_none() {
        h.input(walker, toward, 0);
        h.step();
        ticks += 1;
        assert!(ticks < 300, "never came into view");
    }
    assert_eq!(
        h.client(watcher).mirror().name(w),
        Some("walker"),
        "spawned with its name"
    );
    while h.client(watcher).mirror().entity(w).is_some() {
        h.input(walker, away, 0);
        h.step();
        ticks += 1;
        assert!(ticks < 600, "never left the view");
    }
    assert_eq!(
        h.client(watcher).mirror().name(w),
        None,
        "forgotten when removed"
    );
    // Its own entity never leaves a client's view.
    assert!(h.client(walker).mirror().entity(w).is_some());
}

#[test]
fn no_byte_a_client_receives_names_anything_outside_its_area() {
    for seed in 0..4u64 {
        let mut h = Harness::new(options(seed));
        let mut rng = StdRng::seed_from_u64(seed);
        let conns: Vec<ConnId> = (0..10).map(|i| h.join(&format!("p{i}"))).collect();
        for c in &conns {
            h.client_mut(*c).record = true;
        }
        // The world the server replicated at each tick.
        let mut worlds: BTreeMap<u32, Vec<Entry>> = BTreeMap::new();
        for _ in 0..300 {
            for c in &conns {
                if rng.random_bool(0.2) {
                    h.input(
                        *c,
                        rng.random::<u8>() & (buttons::MOVE | buttons::FIRE),
                        rng.random(),
                    );
                }
            }
            h.step();
            worlds.insert(h.core().current_tick(), h.replicated());
        }
        for c in &conns {
            let me = h.client(*c).entity();
            // Replays the bytes on a mirror of its own, to name the baseline's entities.
            let mut ids: Vec<u32> = Vec::new();
            let mut tick = 0;
            let welcome = h.client(*c).welcome.clone().expect("welcomed");
            let mut mirror = shared::mirror::Mirror::new(welcome.arena, welcome.tick_rate);
            for bytes in &h.client(*c).frames {
                let ServerMsg::Snapshot(snap) = decode_server(bytes).expect("decodes") else {
                    continue;
                };
                tick = match snap.base {
                    SnapshotBase::Full { tick } => tick,
                    SnapshotBase::Since { ticks } => tick + ticks,
                };
                let world = &worlds[&tick];
                let base = if matches!(snap.base, SnapshotBase::Full { .. }) {
                    Vec::new()
                } else {
                    ids.clone()
                };
                let named = snap
                    .delta
                    .changed
                    .iter()
                    .map(|ch| base[ch.index as usize])
                    .chain(snap.delta.spawned.iter().map(|s| s.id));
                for id in named {
                    assert!(
                        visible(world, me, tick, id),
                        "seed {seed}: {me} was sent {id} at tick {tick}"
                    );
                }
                for e in &snap.events {
                    assert!(
                        e.entities().iter().any(|id| visible(world, me, tick, *id)),
                        "seed {seed}: {me} was sent {e:?}"
                    );
                }
                mirror.apply(&snap).expect("applies");
                ids = mirror.entities().iter().map(|e| e.0).collect();
            }
            assert!(tick > 0, "snapshots were received");
        }
    }
}
