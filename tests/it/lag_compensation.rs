//! Lag compensation on the in-memory harness: shots are tested against the targets as the
//! shooter's screen showed them, never more than `lag_compensation_ms` back, and walls are
//! never rewound. Latency is simulated by showing the shooter its snapshots late and applying
//! its inputs late.

use std::collections::{BTreeMap, VecDeque};

use server::game::harness::Harness;
use shared::arena::{Arena, Point, Wall};
use shared::entity::EntityKind;
use shared::ids::ConnId;
use shared::quant::{angle_to_q, q_to_pos};
use shared::rules::buttons;

/// 25 ms a tick: 75 ms one way is 3 ticks, and the 200 ms bound is 8.
const RATE: u16 = 40;
const BOUND_TICKS: u32 = 8;

fn arena(walls: Vec<Wall>, spawns: [(i32, i32); 2]) -> Arena {
    Arena {
        width: 2000,
        height: 1000,
        walls,
        spawns: spawns.map(|(x, y)| Point { x, y }).to_vec(),
    }
}

/// A match of two players on `arena`: (harness, shooter, target), the shooter being the one on
/// the first spawn point.
fn duel(arena: Arena, lag_compensation_ms: u16) -> (Harness, ConnId, ConnId) {
    let first = arena.spawns[0];
    let options = server::game::options::MatchOptions {
        lag_compensation_ms,
        ..Harness::options(RATE, 1)
    };
    let mut h = Harness::on(arena, options, Harness::settings());
    let (a, b) = (h.join("a"), h.join("b"));
    h.step();
    let (x, _) = position(&mut h, a);
    if x == f64::from(first.x) {
        (h, a, b)
    } else {
        (h, b, a)
    }
}

/// A client's entity position now, in world units.
fn position(h: &mut Harness, c: ConnId) -> (f64, f64) {
    let id = h.client(c).entity();
    let e = h
        .world()
        .into_iter()
        .find(|e| e.0 == id)
        .expect("the player is in the world")
        .1;
    (q_to_pos(e.x), q_to_pos(e.y))
}

fn hp(h: &mut Harness, c: ConnId) -> u8 {
    let id = h.client(c).entity();
    h.world()
        .into_iter()
        .find(|e| e.0 == id)
        .map_or(0, |e| e.1.hp)
}

fn aim(from: (f64, f64), to: (f64, f64)) -> u16 {
    angle_to_q((to.1 - from.1).atan2(to.0 - from.0))
}

/// The shooter has 150 ms of round trip (75 ms each way) and interpolates one tick behind its
/// newest snapshot; the target runs up across its line of fire. After 20 ticks it fires the
/// rail at the target exactly where its screen shows it. Returns the target's hit points.
fn rail_through_latency(lag_compensation_ms: u16) -> u8 {
    let (mut h, shooter, target) =
        duel(arena(vec![], [(300, 500), (900, 500)]), lag_compensation_ms);
    let (one_way, interp) = (3, 1);
    let target_id = h.client(target).entity();
    // What the shooter's screen showed at each step: (tick shown, the target there).
    let mut screens: VecDeque<(u32, (f64, f64))> = VecDeque::new();
    let mut arriving: VecDeque<(u32, u16, u32)> = VecDeque::new();
    for step in 0..40u32 {
        h.input(target, buttons::UP, 0);
        let m = h.client(shooter).mirror();
        let t = m.entity(target_id).expect("the target is mirrored");
        screens.push_back((m.tick(), (q_to_pos(t.x), q_to_pos(t.y))));
        if step == 20 {
            let (view_tick, seen) = screens[screens.len() - 1 - one_way - interp];
            let me = position(&mut h, shooter);
            arriving.push_back((step + one_way as u32, aim(me, seen), view_tick));
        }
        match arriving.front() {
            Some(&(due, aim, view_tick)) if due == step => {
                arriving.pop_front();
                h.input_seen(shooter, buttons::RAIL, aim, view_tick);
            }
            _ => h.input_seen(shooter, 0, 0, 0),
        }
        h.step();
    }
    hp(&mut h, target)
}

#[test]
fn a_150ms_client_aiming_at_what_it_sees_hits_only_with_compensation() {
    assert_eq!(rail_through_latency(200), 50, "compensated: one rail hit");
    assert_eq!(
        rail_through_latency(0),
        100,
        "uncompensated: the target moved on"
    );
}

/// The target runs up for `run` ticks; then the shooter (no latency) fires the rail claiming
/// it saw the world `claim_back` ticks ago, aiming where the target was `aim_back` ticks
/// before the tick the shot is applied on. Returns the target's hit points.
fn rail_claiming(arena: Arena, run: u32, claim_back: u32, aim_back: u32) -> u8 {
    let (mut h, shooter, target) = duel(arena, 200);
    let mut was: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    for _ in 0..run {
        h.input(target, buttons::UP, 0);
        h.input_seen(shooter, 0, 0, 0);
        h.step();
        let tick = h.core().current_tick();
        was.insert(tick, position(&mut h, target));
    }
    let applied_on = h.core().current_tick() + 1;
    let seen = match aim_back {
        0 => position(&mut h, target),
        back => was[&(applied_on - back)],
    };
    let me = position(&mut h, shooter);
    h.input(target, 0, 0);
    h.input_seen(
        shooter,
        buttons::RAIL,
        aim(me, seen),
        applied_on - claim_back,
    );
    h.step();
    hp(&mut h, target)
}

#[test]
fn a_client_lying_about_its_view_gains_at_most_the_bound() {
    let open = || arena(vec![], [(300, 500), (900, 500)]);
    assert_eq!(
        rail_claiming(open(), 50, 40, 40),
        100,
        "1 s back is clamped to 200 ms"
    );
    assert_eq!(
        rail_claiming(open(), 50, 40, BOUND_TICKS),
        50,
        "the claim is worth exactly the bound"
    );
    assert_eq!(
        rail_claiming(open(), 50, 5, 5),
        50,
        "an honest view within the bound"
    );
    assert_eq!(
        rail_claiming(open(), 50, 5, 0),
        100,
        "where it is now is not where it was seen"
    );
}

#[test]
fn a_target_that_went_behind_a_wall_longer_ago_than_the_bound_is_safe() {
    // The wall hides x = 900 from the shooter at (300, 300) for y below about 600; the target
    // starts in the open at (900, 700), is behind it after 20 ticks and runs on up.
    let walled = || {
        let wall = Wall {
            x: 580,
            y: 0,
            w: 40,
            h: 440,
        };
        arena(vec![wall], [(300, 300), (900, 700)])
    };
    let run = 100;
    assert_eq!(
        rail_claiming(walled(), run, 95, 95),
        100,
        "where it stood in the open, 95 ticks ago"
    );
    assert_eq!(
        rail_claiming(walled(), run, 95, BOUND_TICKS),
        100,
        "where it was at the bound: behind the wall, which stops the rail"
    );
    assert_eq!(
        rail_claiming(walled(), 5, 3, 3),
        50,
        "the same shot while it was in the open hits"
    );
}

#[test]
fn a_projectile_starts_where_the_shooter_saw_the_world_within_the_bound() {
    for (claim_back, flown) in [(5, 5), (40, BOUND_TICKS), (0, 0)] {
        let (mut h, shooter, _) = duel(arena(vec![], [(300, 500), (900, 500)]), 200);
        h.run(50);
        let applied_on = h.core().current_tick() + 1;
        let view_tick = if claim_back == 0 {
            0
        } else {
            applied_on - claim_back
        };
        h.input_seen(shooter, buttons::FIRE, 0, view_tick);
        h.step();
        let owner = h.client(shooter).entity();
        let shot = h
            .world()
            .into_iter()
            .find(|e| e.1.kind == EntityKind::Projectile && e.1.owner == owner)
            .expect("the shot flies")
            .1;
        assert_eq!(
            shot.tick,
            applied_on - flown,
            "claimed {claim_back} ticks back: created {flown} ticks into its flight"
        );
    }
}
