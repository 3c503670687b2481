//! Reconnection over real sockets: a TCP connection that ends without a close frame, or a peer
//! that goes silent, counts as dropped, and the player resumes their entity with a full snapshot.
//! The grace's expiry, replacement and proper leaves are match logic, tested on the in-memory
//! harness (`match_logic.rs`).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde_json::json;
use shared::rules::buttons;
use tests::{TestServer, read_until, snapshots};
use tickwire_client::{ConnectOptions, Connection, Event};

async fn connect(server: &TestServer, match_id: &str, token: &str) -> Connection {
    Connection::connect(&server.ws_url(match_id), token, ConnectOptions::default())
        .await
        .expect("connect")
}

#[tokio::test]
async fn a_dropped_player_is_held_then_resumes_the_same_entity() {
    let server = TestServer::start_with(|c| c.reconnect_grace = Duration::from_secs(5)).await;
    let m = server.create_match(json!({})).await;
    let login = server.login("flaky").await;
    let mut flaky = connect(&server, &m.match_id, &login.token).await;
    let mut observer = server.join(&m.match_id, "observer").await;
    let id = flaky.welcome.entity;
    flaky.send_input(buttons::RIGHT, 0).await.expect("input");
    snapshots(&mut flaky, 3, Duration::from_secs(5)).await;
    flaky.sever().await; // the TCP connection ends with no close frame

    // The observer keeps seeing the player, and it stands still.
    snapshots(&mut observer, 10, Duration::from_secs(5)).await;
    let held = observer
        .mirror
        .entity(id)
        .copied()
        .expect("held during the grace");
    snapshots(&mut observer, 10, Duration::from_secs(5)).await;
    let still = observer.mirror.entity(id).copied().expect("still held");
    assert_eq!(
        (held.x, held.y),
        (still.x, still.y),
        "a dropped player stands still"
    );

    // The client library reconnects with the same token: the same entity, and a full snapshot
    // first.
    flaky
        .reconnect(Duration::from_secs(5))
        .await
        .expect("reconnect");
    let mut back = flaky;
    assert_eq!(back.welcome.entity, id);
    let first = read_until(
        &mut back,
        "a snapshot",
        Duration::from_secs(5),
        |ev, c| match ev {
            Event::Snapshot { .. } => Some(c.mirror.entity(id).copied()),
            _ => None,
        },
    )
    .await;
    assert_eq!(first.map(|s| (s.x, s.y)), Some((still.x, still.y)));
    assert_eq!(
        server.state.registry.get(&m.match_id).map(|h| h.players()),
        Some(2)
    );
}

#[tokio::test]
async fn a_silent_peer_counts_as_dropped() {
    let server = TestServer::start_with(|c| {
        c.keepalive_timeout = Duration::from_secs(2);
        c.reconnect_grace = Duration::from_secs(30);
        c.slow_client_timeout = Duration::from_secs(30);
    })
    .await;
    let m = server.create_match(json!({})).await;
    let silent = server.join(&m.match_id, "silent").await; // never reads, so never answers pings
    let mut observer = server.join(&m.match_id, "observer").await;
    assert_eq!(server.state.metrics.connections.load(Relaxed), 2);
    // Within a few seconds the server gives up on the silent connection...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.state.metrics.connections.load(Relaxed) != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the silent peer was never dropped"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), observer.next_event()).await;
    }
    // ...and holds its player for the grace, like any dropped connection.
    snapshots(&mut observer, 5, Duration::from_secs(5)).await;
    assert!(observer.mirror.entity(silent.welcome.entity).is_some());
}
