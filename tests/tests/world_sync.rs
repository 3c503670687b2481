//! Clients see each other move, and every client's mirror equals the server's quantized world.

use std::collections::HashMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::delta::Entry;
use shared::rules::buttons;
use tests::{TestServer, eventually, read_until};
use tickwire_client::{Connection, Event};

/// Direction towards the arena's centre along x, so a move is never blocked by the edge.
fn towards_centre(x_q: i32) -> u8 {
    if x_q < 1000 * shared::quant::POS_SCALE {
        buttons::RIGHT
    } else {
        buttons::LEFT
    }
}

#[tokio::test]
async fn two_clients_see_each_other_move() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "tick_rate": 30 })).await;
    let mut a = server.join(&m.match_id, "alice").await;
    let mut b = server.join(&m.match_id, "bob").await;
    let (a_id, b_id) = (a.welcome.entity, b.welcome.entity);

    // Each sees the other, with the right name.
    read_until(&mut a, "alice sees bob", Duration::from_secs(5), |_, c| {
        (c.mirror.name(b_id) == Some("bob")).then_some(())
    })
    .await;
    let start = read_until(&mut b, "bob sees alice", Duration::from_secs(5), |_, c| {
        c.mirror
            .entity(a_id)
            .filter(|_| c.mirror.name(a_id) == Some("alice"))
            .copied()
    })
    .await;

    // Alice holds a direction; Bob's mirror shows her at least 50 units away within 3 s.
    let dir = towards_centre(start.x);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut moved = 0.0;
    while moved < 50.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "bob never saw alice move (moved {moved})"
        );
        a.send_input(dir, 0).await.expect("input");
        // Keep Alice's socket drained so she is never the slow one.
        while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(1), a.next_event()).await {
        }
        read_until(&mut b, "a snapshot", Duration::from_secs(2), |ev, _| {
            matches!(ev, Event::Snapshot { .. }).then_some(())
        })
        .await;
        let now = b.mirror.entity(a_id).expect("alice still there");
        moved = shared::quant::q_to_pos((now.x - start.x).abs());
    }
}

/// One client's life in the sync test: random inputs at the tick rate for `play`, then reads on
/// without input until its mirror reaches `until`; returns every snapshot it applied.
async fn random_player(
    mut conn: Connection,
    seed: u64,
    play: Duration,
    until: tokio::sync::watch::Receiver<u32>,
) -> HashMap<u32, Vec<Entry>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = HashMap::new();
    let mut inputs = tokio::time::interval(Duration::from_millis(33));
    let stop_at = tokio::time::Instant::now() + play;
    let mut held = 0u8;
    loop {
        tokio::select! {
            _ = inputs.tick(), if tokio::time::Instant::now() < stop_at => {
                if rng.random_bool(0.1) {
                    held = rng.random_range(0..=buttons::ALL);
                }
                conn.send_input(held, rng.random()).await.expect("input");
            }
            ev = conn.next_event() => {
                if let Event::Snapshot { tick, .. } = ev.expect("event") {
                    seen.insert(tick, conn.mirror.entities().to_vec());
                    let target = *until.borrow();
                    if target != 0 && tick >= target {
                        conn.close().await;
                        return seen;
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn mirrors_equal_the_server_world_after_random_play() {
    let server = TestServer::start().await;
    let m = server
        .create_match(json!({ "tick_rate": 30, "score_limit": 1000 }))
        .await;
    let (until_tx, until_rx) = tokio::sync::watch::channel(0u32);
    let mut players = Vec::new();
    for i in 0..4 {
        let conn = server.join(&m.match_id, &format!("p{i}")).await;
        players.push(tokio::spawn(random_player(
            conn,
            i,
            Duration::from_secs(3),
            until_rx.clone(),
        )));
    }
    // Sample the server's world every 100 ms while they play.
    let handle = server.state.registry.get(&m.match_id).expect("match");
    let mut samples: Vec<(u32, Vec<Entry>)> = Vec::new();
    let end = tokio::time::Instant::now() + Duration::from_millis(3500);
    while tokio::time::Instant::now() < end {
        if let Some(s) = server.world(&m.match_id).await
            && samples.last().is_none_or(|l| l.0 != s.0)
        {
            samples.push(s);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = samples.last().map(|s| s.0).expect("samples");
    until_tx.send(last).expect("players listening");
    let mut projectiles_seen = false;
    for (i, p) in players.into_iter().enumerate() {
        let seen = p.await.expect("player task");
        let mut compared = 0;
        for (tick, world) in &samples {
            if let Some(mirror) = seen.get(tick) {
                assert_eq!(
                    mirror, world,
                    "player {i} differs from the server at tick {tick}"
                );
                compared += 1;
                projectiles_seen |= world
                    .iter()
                    .any(|e| e.1.kind == shared::entity::EntityKind::Projectile);
            }
        }
        // A client skipped for a full outbox misses ticks; the rest must all be there.
        assert!(
            compared * 10 >= samples.len() * 8,
            "player {i} compared {compared} of {}",
            samples.len()
        );
        assert!(
            seen.contains_key(&last),
            "player {i} never reached tick {last}"
        );
    }
    assert!(samples.len() >= 20, "only {} samples", samples.len());
    assert!(projectiles_seen, "random play should have fired");
    // Nobody is left behind in the registry once they have all gone.
    eventually("players gone", Duration::from_secs(5), || async {
        (handle.players() == 0).then_some(())
    })
    .await;
}

/// The acknowledged input sequence arrives as growth since each baseline; summed by the mirror it
/// is exactly the last input the server applied, and a quiet stretch costs a zero.
#[tokio::test]
async fn acks_add_up_to_the_last_applied_input() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "tick_rate": 30 })).await;
    let mut c = server.join(&m.match_id, "acker").await;
    read_until(
        &mut c,
        "a full snapshot",
        Duration::from_secs(5),
        |ev, _| matches!(ev, Event::Snapshot { .. }).then_some(()),
    )
    .await;
    let mut last = 0;
    for round in 0..3 {
        // A burst of inputs, then quiet until all of them are applied (one per tick).
        for _ in 0..10 {
            last = c.send_input(buttons::UP, 1000).await.expect("input");
        }
        read_until(
            &mut c,
            "every input acknowledged",
            Duration::from_secs(5),
            |_, c| (c.mirror.ack_input_seq() == last).then_some(()),
        )
        .await;
        assert_eq!(last, 10 * (round + 1));
    }
    // Nothing more is acknowledged than was sent.
    tests::snapshots(&mut c, 5, Duration::from_secs(5)).await;
    assert_eq!(c.mirror.ack_input_seq(), last);
}
