//! Reconnection: a dropped player keeps their entity (standing still) for the grace period and
//! resumes it with a full snapshot; after the grace the entity leaves; a second connection
//! replaces the first (4004); a proper close leaves at once; a silent peer counts as dropped.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use client_demo::{ConnectOptions, Connection, Event};
use serde_json::json;
use shared::close_code::REPLACED;
use shared::rules::buttons;
use tests::{TestServer, close_code, eventually, read_until, snapshots};

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
    drop(flaky); // the TCP connection ends with no close frame

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

    // Back with the same token: the same entity, and a full snapshot first.
    let mut back = connect(&server, &m.match_id, &login.token).await;
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
async fn after_the_grace_the_entity_leaves() {
    let server = TestServer::start_with(|c| c.reconnect_grace = Duration::from_secs(1)).await;
    let m = server.create_match(json!({})).await;
    let gone = server.join(&m.match_id, "gone").await;
    let mut observer = server.join(&m.match_id, "observer").await;
    let id = gone.welcome.entity;
    snapshots(&mut observer, 3, Duration::from_secs(5)).await;
    drop(gone);
    read_until(
        &mut observer,
        "the entity to leave",
        Duration::from_secs(5),
        |_, c| c.mirror.entity(id).is_none().then_some(()),
    )
    .await;
    eventually("the seat given back", Duration::from_secs(5), || async {
        (server.state.registry.get(&m.match_id).map(|h| h.players()) == Some(1)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_second_connection_replaces_the_first() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "max_players": 1 })).await;
    let login = server.login("twice").await;
    let mut first = connect(&server, &m.match_id, &login.token).await;
    // The match is full, but the seat is this player's own.
    let mut second = connect(&server, &m.match_id, &login.token).await;
    assert_eq!(
        close_code(&mut first, Duration::from_secs(5)).await,
        REPLACED
    );
    assert_eq!(second.welcome.entity, first.welcome.entity);
    snapshots(&mut second, 3, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_proper_close_leaves_at_once() {
    let server = TestServer::start_with(|c| c.reconnect_grace = Duration::from_secs(30)).await;
    let m = server.create_match(json!({})).await;
    let polite = server.join(&m.match_id, "polite").await;
    let mut observer = server.join(&m.match_id, "observer").await;
    let id = polite.welcome.entity;
    snapshots(&mut observer, 3, Duration::from_secs(5)).await;
    polite.close().await;
    read_until(
        &mut observer,
        "the entity to leave well before the grace",
        Duration::from_secs(5),
        |_, c| c.mirror.entity(id).is_none().then_some(()),
    )
    .await;
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
