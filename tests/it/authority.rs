//! Server authority on the in-memory harness: flooding inputs neither speeds a player up nor
//! fires faster, and the acknowledged input sequence is exactly what the match applied. (The
//! per-connection rate limit that closes such a flood over a socket is `rate_limit.rs`'s.)

use server::game::harness::Harness;
use shared::entity::EntityKind;
use shared::quant::POS_SCALE;
use shared::rules::movement::step_q;
use shared::rules::{FIRE_INTERVAL_MS, buttons, ticks_for_ms};

const RATE: u16 = 30;

#[test]
fn ten_inputs_per_tick_move_no_faster_and_fire_no_faster() {
    let mut h = Harness::new(Harness::options(RATE, 11));
    let cheater = h.join("cheater");
    h.step();
    let me = h.client(cheater).entity();
    let start = h.client(cheater).mirror().entity(me).copied().expect("own");
    let (dir, aim) = if start.x < 1000 * POS_SCALE {
        (buttons::RIGHT, 0)
    } else {
        (buttons::LEFT, 32768)
    };
    // Largest legal move in one tick, in wire units (the simulation's own).
    let max_step = step_q(RATE).0;
    let mut prev_x = start.x;
    let mut moved_ticks = 0;
    let mut fired_ticks: Vec<u32> = Vec::new();
    for _ in 0..60 {
        for _ in 0..10 {
            h.input(cheater, dir | buttons::FIRE, aim);
        }
        h.step();
        let mirror = h.client(cheater).mirror();
        let x = mirror.entity(me).expect("own entity").x;
        assert!(
            (x - prev_x).abs() <= max_step,
            "moved {} in a tick",
            x - prev_x
        );
        if x != prev_x {
            moved_ticks += 1;
        }
        prev_x = x;
        for (_, st) in mirror.entities() {
            if st.kind == EntityKind::Projectile
                && st.owner == me
                && !fired_ticks.contains(&st.tick)
            {
                fired_ticks.push(st.tick);
            }
        }
    }
    assert!(moved_ticks > 5, "the player should have moved");
    fired_ticks.sort_unstable();
    assert!(fired_ticks.len() >= 3, "fired {fired_ticks:?}");
    let gap = ticks_for_ms(FIRE_INTERVAL_MS, RATE);
    for pair in fired_ticks.windows(2) {
        assert!(
            pair[1] - pair[0] >= gap,
            "shots {pair:?} closer than {gap} ticks"
        );
    }
}

/// The acknowledged input sequence arrives as growth since each baseline; summed by the mirror
/// it is exactly the last input the server applied, and a quiet stretch costs a zero.
#[test]
fn acks_add_up_to_the_last_applied_input() {
    let mut h = Harness::new(Harness::options(RATE, 12));
    let c = h.join("acker");
    h.step();
    for round in 1..=3u32 {
        // A burst of ten inputs, then quiet while the match applies them.
        for _ in 0..10 {
            h.input(c, buttons::UP, 1000);
        }
        h.run(12);
        assert_eq!(h.client(c).mirror().ack_input_seq(), 10 * round);
    }
    h.run(5);
    assert_eq!(
        h.client(c).mirror().ack_input_seq(),
        30,
        "nothing more is acked"
    );
}
