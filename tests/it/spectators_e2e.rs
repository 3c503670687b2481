//! Spectators over real sockets: `spectate=1` with a player token or a spectator token from
//! the admin API; entity 0 and the same world as the players; no seat; refused with 409
//! `spectators_full` past the cap; shown in the match detail and `/metrics`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tests::raw::Upgraded;
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
    let token = &caster_token(&server).await;
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

/// A spectator handshake of `token` from `127.0.0.n`, held open.
async fn spectate_from(server: &TestServer, n: u8, token: &str, match_id: &str) -> Upgraded {
    let tcp = tests::tcp::connect_from(tests::tcp::loopback(n), server.addr).await;
    let query = format!("match={match_id}&spectate=1");
    tests::raw::upgrade_on(tcp, server.addr, token, &query, "tickwire.v3")
        .await
        .expect("an answer")
}

async fn caster_token(server: &TestServer) -> String {
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
    issued["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn with_interest_management_players_and_their_address_may_not_watch() {
    let server = TestServer::start().await;
    let m = server
        .create_match(json!({ "interest_radius": 300, "map": "large" }))
        .await;
    let ada = server.login("ada").await;
    let _playing = Connection::connect(&m.ws_url, &ada.token, ConnectOptions::default())
        .await
        .expect("ada plays");
    let watch_url = format!("{}&spectate=1", server.ws_url(&m.match_id));
    // Her own token: refused before the upgrade.
    assert_eq!(
        refusal(&watch_url, &ada.token).await,
        (403, "playing_in_match".into())
    );
    // Another token from her address (127.0.0.1): upgraded, then closed by the match (4004).
    let friend = server.login("friend").await;
    let mut beside = spectate_from(&server, 1, &friend.token, &m.match_id).await;
    assert_eq!(beside.status(), 101, "{}", beside.head);
    let rest = std::mem::take(&mut beside.rest);
    let mut frames = tests::raw::FrameReader::new(&mut beside.tcp, rest);
    assert_eq!(frames.until_close().await.expect("a close"), Some(4004));
    // From another address: watches.
    let mut far = spectate_from(&server, 2, &friend.token, &m.match_id).await;
    assert_eq!(far.status(), 101, "{}", far.head);
    let mut frames = tests::raw::FrameReader::new(&mut far.tcp, std::mem::take(&mut far.rest));
    let first = frames.next().await.expect("a frame");
    assert_eq!(first.opcode, tests::raw::BINARY, "the Welcome");
    // A caster from her address: watches too.
    let caster = caster_token(&server).await;
    let watching = Connection::connect(
        &server.ws_url(&m.match_id),
        &caster,
        ConnectOptions::default(),
    )
    .await
    .expect("the caster watches");
    assert_eq!(watching.welcome.entity, 0);
}

#[tokio::test]
async fn one_address_gets_a_share_of_the_spectator_places_and_casters_keep_theirs() {
    let server = TestServer::start().await;
    // 16 places: 2 per address, the last 4 for casters.
    let m = server.create_match(json!({ "max_spectators": 16 })).await;
    let fan = server.login("fan").await;
    let mut open = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let up = spectate_from(&server, 1, &fan.token, &m.match_id).await;
        statuses.push(up.status());
        open.push(up);
    }
    assert_eq!(statuses, [101, 101, 429], "two per address");
    assert!(open[2].head.contains("429"));
    for n in 2..7 {
        for _ in 0..2 {
            let up = spectate_from(&server, n, &fan.token, &m.match_id).await;
            assert_eq!(up.status(), 101, "{}", up.head);
            open.push(up);
        }
    }
    // 12 public spectators: a fan from a fresh address is refused, a caster is not.
    let late = spectate_from(&server, 9, &fan.token, &m.match_id).await;
    assert_eq!(late.status(), 409, "{}", late.head);
    let caster = caster_token(&server).await;
    for _ in 0..4 {
        let up = spectate_from(&server, 1, &caster, &m.match_id).await;
        assert_eq!(up.status(), 101, "{}", up.head);
        open.push(up);
    }
    let over = spectate_from(&server, 1, &caster, &m.match_id).await;
    assert_eq!(over.status(), 409, "{}", over.head);
}
