//! Snapshot cadence: at 30 Hz a client gets 80–110 % of 30 snapshots a second over 3 s.

use std::time::Duration;

use serde_json::json;
use tests::TestServer;
use tickwire_client::Event;

#[tokio::test]
async fn thirty_hz_gives_about_thirty_snapshots_a_second() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "tick_rate": 30 })).await;
    let mut c = server.join(&m.match_id, "counter").await;
    let window = Duration::from_secs(3);
    let deadline = tokio::time::Instant::now() + window;
    let mut count = 0u32;
    while let Ok(ev) = tokio::time::timeout_at(deadline, c.next_event()).await {
        if let Event::Snapshot { .. } = ev.expect("event") {
            count += 1;
        }
    }
    let per_sec = f64::from(count) / window.as_secs_f64();
    assert!((24.0..=33.0).contains(&per_sec), "{per_sec} snapshots/s");
}
