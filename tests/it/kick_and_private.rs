//! Who may (re)join: a kicked player and their address are banned from the match for the kick's
//! duration (5 minutes unless the operator says), and a private match lets in only holders of
//! its ticket (or of a seat).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use shared::close_code::CloseCode;
use tests::{TestServer, close_code, eventually, handshake_status, refusal};
use tickwire_client::{ConnectOptions, Connection};

/// Kicks `entity` with `query` (e.g. `?ban=1s`); the HTTP status.
async fn kick_status(server: &TestServer, match_id: &str, entity: u32, query: &str) -> u16 {
    let path = format!("/v1/admin/matches/{match_id}/players/{entity}{query}");
    let resp = server
        .request(Method::DELETE, &path, Some(&server.admin_token()))
        .send()
        .await
        .expect("kick");
    resp.status().as_u16()
}

async fn kick(server: &TestServer, match_id: &str, entity: u32, query: &str) {
    assert_eq!(kick_status(server, match_id, entity, query).await, 204);
}

#[tokio::test]
async fn a_kicked_player_and_their_address_cannot_rejoin_until_the_ban_ends() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let login = server.login("kicked").await;
    let mut c = Connection::connect(&m.ws_url, &login.token, ConnectOptions::default())
        .await
        .expect("connect");
    kick(&server, &m.match_id, c.welcome.entity, "?ban=1s").await;
    assert_eq!(
        close_code(&mut c, Duration::from_secs(5)).await,
        CloseCode::Kicked
    );
    assert_eq!(
        refusal(&m.ws_url, &login.token).await,
        (403, "banned".into())
    );
    // A fresh guest identity from the same address is the same person as far as we can tell.
    let fresh = server.login("fresh").await;
    assert_eq!(
        refusal(&m.ws_url, &fresh.token).await,
        (403, "banned".into())
    );
    eventually("the ban to end", Duration::from_secs(5), || async {
        Connection::connect(&m.ws_url, &login.token, ConnectOptions::default())
            .await
            .ok()
    })
    .await;
}

#[tokio::test]
async fn a_kick_bans_for_five_minutes_by_default_and_ban_0s_does_not() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let a = server.login("a").await;
    let mut c = Connection::connect(&m.ws_url, &a.token, ConnectOptions::default())
        .await
        .expect("connect");
    kick(&server, &m.match_id, c.welcome.entity, "?ban=0s").await;
    assert_eq!(
        close_code(&mut c, Duration::from_secs(5)).await,
        CloseCode::Kicked
    );
    let mut c = Connection::connect(&m.ws_url, &a.token, ConnectOptions::default())
        .await
        .expect("a kick without a ban lets the player back");
    kick(&server, &m.match_id, c.welcome.entity, "").await;
    assert_eq!(
        close_code(&mut c, Duration::from_secs(5)).await,
        CloseCode::Kicked
    );
    assert_eq!(refusal(&m.ws_url, &a.token).await, (403, "banned".into()));
    // A ban that is not a duration is a 400.
    assert_eq!(
        kick_status(&server, &m.match_id, 1, "?ban=forever").await,
        400
    );
}

#[tokio::test]
async fn a_private_match_needs_its_ticket() {
    let server = TestServer::start().await;
    let owner = server.login("owner").await;
    let created = server
        .request(Method::POST, "/v1/matches", Some(&owner.token))
        .json(&json!({ "private": true }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    let body: serde_json::Value = created.json().await.expect("json");
    let id = body["match_id"].as_str().expect("id").to_owned();
    let ticket = body["ticket"].as_str().expect("ticket").to_owned();
    let creator_url = body["ws_url"].as_str().expect("ws_url").to_owned();
    assert!(
        creator_url.ends_with(&format!("&ticket={ticket}")),
        "{creator_url}"
    );
    assert_eq!(body["match"]["private"], true);

    // Knowing the id is not enough.
    let stranger = server.login("stranger").await;
    assert_eq!(
        refusal(&server.ws_url(&id), &stranger.token).await,
        (403, "ticket_required".into())
    );
    let wrong = format!("{}&ticket={}", server.ws_url(&id), "0".repeat(32));
    assert_eq!(
        refusal(&wrong, &stranger.token).await,
        (403, "ticket_required".into())
    );
    // The creator, and anyone they give the ticket to, get in.
    assert_eq!(handshake_status(&creator_url, &owner.token).await, 101);
    let friend = server.login("friend").await;
    let invited = format!("{}&ticket={ticket}", server.ws_url(&id));
    let c = Connection::connect(&invited, &friend.token, ConnectOptions::default())
        .await
        .expect("with the ticket");
    // A player holding a seat comes back without it (a reconnect after a drop).
    drop(c);
    let again = Connection::connect(
        &server.ws_url(&id),
        &friend.token,
        ConnectOptions::default(),
    )
    .await;
    assert!(
        again.is_ok(),
        "a seat holder reconnecting without the ticket"
    );
    // A private match is never offered by matchmaking, nor can it be made a matchmaking one.
    let refused = server
        .request(Method::POST, "/v1/matches", Some(&owner.token))
        .json(&json!({ "private": true, "matchmaking": true }))
        .send()
        .await
        .expect("create");
    assert_eq!(refused.status().as_u16(), 400);
}

#[tokio::test]
async fn a_ban_holds_against_a_reconnect_loop() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let login = server.login("looper").await;
    let first = Connection::connect(&m.ws_url, &login.token, ConnectOptions::default())
        .await
        .expect("connect");
    let entity = first.welcome.entity;
    // The player reconnects as fast as it can (each connection replaces the one before), 300
    // times at most; the kick lands in the middle.
    let url = m.ws_url.clone();
    let token = login.token.clone();
    let kicked = std::sync::Arc::new(tokio::sync::Notify::new());
    let kicked_seen = kicked.clone();
    let looper = tokio::spawn(async move {
        let mut after_kick = Vec::new();
        let mut kick_at = None;
        let mut held = Some(first);
        for _ in 0..300 {
            if kick_at.is_none()
                && tokio::time::timeout(Duration::ZERO, kicked_seen.notified())
                    .await
                    .is_ok()
            {
                kick_at = Some(tokio::time::Instant::now());
            }
            let got = Connection::connect(&url, &token, ConnectOptions::default()).await;
            if kick_at.is_some() {
                after_kick.push(
                    got.as_ref()
                        .map(|c| c.welcome.entity)
                        .map_err(|e| e.to_string()),
                );
            }
            held = got.ok().or(held);
            if after_kick.len() >= 50 {
                break;
            }
        }
        drop(held);
        after_kick
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    kick(&server, &m.match_id, entity, "").await;
    kicked.notify_one();
    let after = looper.await.expect("looper");
    // The kick is answered once the match has applied it (and the ban): every handshake begun
    // after that is refused. (One already past its checks is closed with Kicked at its join:
    // tests/it/match_logic.rs.)
    let admitted: Vec<_> = after.iter().filter(|r| r.is_ok()).collect();
    assert!(admitted.is_empty(), "{admitted:?} of {after:?}");
    assert_eq!(after.len(), 50, "{after:?}");
    eventually(
        "no seat left for the kicked player",
        Duration::from_secs(5),
        || async {
            let players = server.state.registry.get(&m.match_id).map(|h| h.players());
            (players == Some(0)).then_some(())
        },
    )
    .await;
}
