//! Spectators over real sockets: `spectate=1` with a player token or a spectator token from
//! the admin API; entity 0 and the same world as the players; no seat; refused with 409
//! `spectators_full` past the cap; shown in the match detail and `/metrics`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestServer, eventually, read_until, refusal, snapshots};
use tickwire_client::{ConnectOptions, Connection, Event};

async fn metric(server: &TestServer, name: &str) -> f64 {
    let text = server
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::test]
async fn a_spectator_watches_without_a_seat_and_the_cap_refuses_the_next() {
    let server = TestServer::start().await;
    let m = server
        .create_match(json!({ "max_players": 1, "max_spectators": 2 }))
        .await;
    let mut player = server.join(&m.match_id, "ada").await;
    let watch_url = format!("{}&spectate=1", server.ws_url(&m.match_id));
    let bob = server.login("bob").await;
    let mut spectator = Connection::connect(&watch_url, &bob.token, ConnectOptions::default())
        .await
        .expect("watching");
    assert_eq!(spectator.welcome.entity, 0, "no entity");
    // The match is full of players, not of spectators.
    let carl = server.login("carl").await;
    assert_eq!(
        refusal(&server.ws_url(&m.match_id), &carl.token).await,
        (409, "match_full".into())
    );
    let _second = Connection::connect(&watch_url, &carl.token, ConnectOptions::default())
        .await
        .expect("second spectator");
    let dan = server.login("dan").await;
    assert_eq!(
        refusal(&watch_url, &dan.token).await,
        (409, "spectators_full".into())
    );
    let unclear = format!("{}&spectate=yes", server.ws_url(&m.match_id));
    assert_eq!(
        refusal(&unclear, &dan.token).await,
        (400, "bad_request".into())
    );

    // A spectator's inputs move nothing; its world is the players' world.
    for _ in 0..5 {
        spectator
            .send_input(shared::rules::buttons::RIGHT, 0)
            .await
            .expect("input");
        player
            .send_input(shared::rules::buttons::DOWN, 0)
            .await
            .expect("input");
    }
    snapshots(&mut spectator, 20, Duration::from_secs(5)).await;
    let (tick, world) = server.world(&m.match_id).await.expect("world");
    read_until(
        &mut spectator,
        "the server's tick",
        Duration::from_secs(5),
        |ev, _| match ev {
            Event::Snapshot { tick: t, .. } if *t >= tick => Some(()),
            _ => None,
        },
    )
    .await;
    let players: Vec<u32> = world.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        players,
        vec![player.welcome.entity],
        "one entity: the player's"
    );
    assert!(spectator.mirror.entity(player.welcome.entity).is_some());

    assert_eq!(metric(&server, "tickwire_spectators").await, 2.0);
    assert_eq!(metric(&server, "tickwire_players").await, 1.0);
    let detail: Value = server
        .request(
            Method::GET,
            &format!("/v1/admin/matches/{}", m.match_id),
            Some(&server.admin_token()),
        )
        .send()
        .await
        .expect("detail")
        .json()
        .await
        .expect("json");
    assert_eq!(detail["spectators"], 2);
    assert_eq!(detail["max_spectators"], 2);
    let names: Vec<&str> = detail["spectator_details"]
        .as_array()
        .expect("spectators listed")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"bob") && names.contains(&"carl"));

    // One leaves: its place comes back.
    drop(spectator);
    eventually("the place given back", Duration::from_secs(5), || async {
        (metric(&server, "tickwire_spectators").await == 1.0).then_some(())
    })
    .await;
    Connection::connect(&watch_url, &dan.token, ConnectOptions::default())
        .await
        .expect("a place again");
}

#[tokio::test]
async fn a_spectator_token_watches_a_private_match_a_player_token_needs_the_ticket() {
    let server = TestServer::start().await;
    let owner = server.login("owner").await;
    let created: Value = server
        .request(Method::POST, "/v1/matches", Some(&owner.token))
        .json(&json!({ "private": true }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["match_id"].as_str().expect("id").to_owned();
    let watch_url = format!("{}&spectate=1", server.ws_url(&id));
    let stranger = server.login("stranger").await;
    assert_eq!(
        refusal(&watch_url, &stranger.token).await,
        (403, "ticket_required".into())
    );
    let issued: Value = server
        .request(
            Method::POST,
            "/v1/admin/spectator-tokens",
            Some(&server.admin_token()),
        )
        .json(&json!({ "name": "caster" }))
        .send()
        .await
        .expect("issue")
        .json()
        .await
        .expect("json");
    let token = issued["token"].as_str().expect("token");
    // No `spectate=1` needed: the token itself only watches.
    let caster = Connection::connect(&server.ws_url(&id), token, ConnectOptions::default())
        .await
        .expect("the caster watches");
    assert_eq!(caster.welcome.entity, 0);
    // It is not a player token: it cannot matchmake or log in as a player.
    let refused = server
        .request(Method::POST, "/v1/matchmake", Some(token))
        .send()
        .await
        .expect("matchmake");
    assert_eq!(refused.status().as_u16(), 401);
    // Only admins mint them.
    let denied = server
        .request(
            Method::POST,
            "/v1/admin/spectator-tokens",
            Some(&stranger.token),
        )
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .expect("issue");
    assert_eq!(denied.status().as_u16(), 403);
}
