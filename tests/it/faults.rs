//! A panic inside one match's systems ends only that match: its players get MatchEnded with the
//! Error reason and close 4006, the panic is counted, and other matches and the server go on.
//! The fault-injection hook exists in debug builds only.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde_json::json;
use server::game::messages::{Command, MatchCmd};
use shared::close_code::CloseCode;
use shared::protocol::EndReason;
use tests::{TestServer, close_code, eventually, read_until, snapshots};
use tickwire_client::Event;
use tokio::time::Instant;

#[tokio::test]
async fn a_panicking_match_ends_alone() {
    let server = TestServer::start().await;
    let doomed = server.create_match(json!({})).await;
    let healthy = server.create_match(json!({})).await;
    let mut victim = server.join(&doomed.match_id, "victim").await;
    let mut bystander = server.join(&healthy.match_id, "bystander").await;
    snapshots(&mut victim, 3, Duration::from_secs(5)).await;
    snapshots(&mut bystander, 3, Duration::from_secs(5)).await;

    let handle = server.state.registry.get(&doomed.match_id).expect("match");
    handle
        .inbox
        .send(MatchCmd::apply(Command::InjectPanic))
        .await
        .expect("inject");

    let reason = read_until(
        &mut victim,
        "MatchEnded",
        Duration::from_secs(5),
        |ev, _| match ev {
            Event::MatchEnded(m) => Some(m.reason),
            _ => None,
        },
    )
    .await;
    assert_eq!(reason, EndReason::Error);
    assert_eq!(
        close_code(&mut victim, Duration::from_secs(5)).await,
        CloseCode::ServerError
    );
    assert_eq!(server.state.metrics.match_panics.load(Relaxed), 1);
    eventually(
        "the doomed match unregistered",
        Duration::from_secs(5),
        || async {
            server
                .state
                .registry
                .get(&doomed.match_id)
                .is_none()
                .then_some(())
        },
    )
    .await;

    // The other match keeps its cadence, and the server still makes matches.
    let start = Instant::now();
    snapshots(&mut bystander, 30, Duration::from_secs(5)).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "bystander slowed: {:?}",
        start.elapsed()
    );
    let again = server.create_match(json!({})).await;
    let mut newcomer = server.join(&again.match_id, "newcomer").await;
    snapshots(&mut newcomer, 3, Duration::from_secs(5)).await;
}
