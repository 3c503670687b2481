//! Server authority: flooding inputs neither speeds a player up nor fires faster.

use std::time::Duration;

use serde_json::json;
use shared::entity::EntityKind;
use shared::quant::POS_SCALE;
use shared::rules::movement::step_q;
use shared::rules::{FIRE_INTERVAL_MS, buttons, ticks_for_ms};
use tests::{TestServer, read_until};
use tickwire_client::Event;

#[tokio::test]
async fn ten_inputs_per_tick_move_no_faster_and_fire_no_faster() {
    // The per-connection rate limit would drop (and soon close) a sender of ten inputs a tick;
    // this test is about the simulation's own caps, so it is lifted here (tests/rate_limit.rs
    // covers the limit).
    let server = TestServer::start_with(|c| c.input_rate_limit = 10_000).await;
    let rate = 30u16;
    let m = server.create_match(json!({ "tick_rate": rate })).await;
    let mut c = server.join(&m.match_id, "cheater").await;
    let me = c.welcome.entity;
    let start = read_until(&mut c, "own entity", Duration::from_secs(5), |_, c| {
        c.mirror.entity(me).copied()
    })
    .await;
    let dir = if start.x < 1000 * POS_SCALE {
        buttons::RIGHT
    } else {
        buttons::LEFT
    };

    // Largest legal move in one tick, in wire units (the simulation's own).
    let max_step_wire = step_q(rate).0;
    let mut prev: Option<(u32, i32)> = None;
    let mut moved_ticks = 0;
    let mut fired_ticks: Vec<u32> = Vec::new();
    let mut ticks = 0;
    while ticks < 60 {
        for _ in 0..10 {
            c.send_input(
                dir | buttons::FIRE,
                if dir == buttons::RIGHT { 0 } else { 32768 },
            )
            .await
            .expect("input");
        }
        let tick = read_until(
            &mut c,
            "snapshot",
            Duration::from_secs(2),
            |ev, _| match ev {
                Event::Snapshot { tick, .. } => Some(*tick),
                _ => None,
            },
        )
        .await;
        let x = c.mirror.entity(me).expect("own entity").x;
        if let Some((pt, px)) = prev {
            let per_tick = (x - px).abs() as f64 / f64::from(tick - pt);
            assert!(
                per_tick <= f64::from(max_step_wire),
                "moved {per_tick} wire units a tick"
            );
            if x != px {
                moved_ticks += 1;
            }
        }
        prev = Some((tick, x));
        for (_, st) in c.mirror.entities() {
            if st.kind == EntityKind::Projectile
                && st.owner == me
                && !fired_ticks.contains(&st.tick)
            {
                fired_ticks.push(st.tick);
            }
        }
        ticks += 1;
    }
    assert!(moved_ticks > 5, "the player should have moved");
    fired_ticks.sort_unstable();
    assert!(fired_ticks.len() >= 3, "fired {fired_ticks:?}");
    let gap = ticks_for_ms(FIRE_INTERVAL_MS, rate);
    for pair in fired_ticks.windows(2) {
        assert!(
            pair[1] - pair[0] >= gap,
            "shots {pair:?} closer than {gap} ticks"
        );
    }
}
