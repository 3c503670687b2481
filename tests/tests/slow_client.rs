//! A client that never reads is closed as too slow, and the others' cadence holds meanwhile.

use std::time::Duration;

use client_demo::{ConnectOptions, Connection, Event};
use serde_json::json;
use shared::close_code::TOO_SLOW;
use shared::rules::buttons;
use tests::{TestServer, close_code, read_until, snapshots};
use tokio::time::Instant;

/// Moves back and forth and fires (so every snapshot carries bytes) while reading everything,
/// until `stop` fires.
async fn mover(mut c: Connection, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(Duration::from_millis(16));
    let mut n = 0u32;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {
                n += 1;
                let dir = if (n / 30).is_multiple_of(2) { buttons::RIGHT } else { buttons::LEFT };
                c.send_input(dir | buttons::DOWN | buttons::FIRE, (n * 997) as u16).await.expect("input");
            }
            ev = c.next_event() => { ev.expect("mover event"); }
        }
    }
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_and_others_keep_their_cadence() {
    // Small buffers on both ends so the stalled client fills them in a few seconds.
    let server = TestServer::start_with(|c| {
        c.socket_send_buffer = 4096;
        c.outbox_frames = 4;
        c.slow_client_timeout = Duration::from_secs(1);
    })
    .await;
    let rate = 60u16;
    let m = server.create_match(json!({ "tick_rate": rate })).await;
    let mut observer = server.join(&m.match_id, "observer").await;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let moving = tokio::spawn(mover(server.join(&m.match_id, "mover").await, stopped));
    let small = ConnectOptions {
        recv_buffer: Some(2048),
        ..Default::default()
    };
    let mut stalled = server.join_with(&m.match_id, "stalled", small).await;
    let stalled_id = stalled.welcome.entity;
    snapshots(&mut observer, 5, Duration::from_secs(5)).await;

    // The observer counts snapshots until the stalled player is gone from its mirror.
    let started = Instant::now();
    let mut count = 0u32;
    let elapsed = read_until(
        &mut observer,
        "stalled player removed",
        Duration::from_secs(30),
        |ev, c| {
            if let Event::Snapshot { .. } = ev {
                count += 1;
            }
            c.mirror
                .entity(stalled_id)
                .is_none()
                .then(|| started.elapsed())
        },
    )
    .await;
    let per_sec = f64::from(count) / elapsed.as_secs_f64();
    assert!(
        per_sec >= 0.8 * f64::from(rate),
        "observer got {per_sec:.1}/s while the other stalled"
    );

    // Draining the stalled socket now ends in the too-slow close (counted before it is sent).
    assert_eq!(
        close_code(&mut stalled, Duration::from_secs(10)).await,
        TOO_SLOW
    );
    assert_eq!(server.state.metrics.closes_with(TOO_SLOW), 1);
    let _ = stop.send(());
    moving.await.expect("mover");
}
