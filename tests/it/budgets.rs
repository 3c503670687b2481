//! What one address can take, attack by attack (issue: "one guest denies matches to
//! everyone"): request budgets on the routes that create state, created matches per player and
//! per address, one reservation per player, reservations and held seats under the per-address
//! cap, and unjoined or empty matches that cost nothing and end.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestServer, eventually};
use tickwire_client::{ClientError, ConnectOptions, Connection};

/// Status, `Retry-After` and JSON body of a request.
async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut req = server.request(method, path, token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn guest_logins_from_one_address_are_budgeted_with_retry_after() {
    // The embedded defaults: 2 a second after a burst of 10.
    let server = TestServer::start_with(|c| {
        c.http_rate_limit = 2;
        c.http_rate_burst = 10;
    })
    .await;
    let mut statuses = Vec::new();
    let mut refusal = None;
    for i in 0..40 {
        let body = json!({ "name": format!("g{i}") });
        let (status, retry, json) =
            call(&server, Method::POST, "/v1/auth/guest", None, Some(body)).await;
        statuses.push(status);
        if status == 429 && refusal.is_none() {
            refusal = Some((retry, json));
        }
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    // The burst, plus what refilled while the loop ran (well under a second here).
    assert!(
        (10..=14).contains(&ok),
        "{ok} of 40 let through: {statuses:?}"
    );
    let (retry, json) = refusal.expect("refused once over the budget");
    assert_eq!(json["error"], "too_many_requests");
    let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
}

/// `POST /v1/matches` with `{}` as `token`: the status and the error code, if any.
async fn create(server: &TestServer, token: &str) -> (u16, Option<String>) {
    let body = Some(json!({}));
    let (status, _, json) = call(server, Method::POST, "/v1/matches", Some(token), body).await;
    (status, json["error"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn one_player_and_one_address_create_a_few_matches_then_429() {
    let server = TestServer::start_with(|c| c.max_matches = 20).await;
    let refused = (429, Some("too_many_matches_created".to_owned()));
    let a = server.login("a").await;
    assert_eq!(create(&server, &a.token).await.0, 201);
    assert_eq!(create(&server, &a.token).await.0, 201);
    assert_eq!(
        create(&server, &a.token).await,
        refused,
        "a third by one player"
    );
    // More guests from the same address: 8 live matches in all, then refused.
    let mut created = 2;
    for i in 0..10 {
        let g = server.login(&format!("g{i}")).await;
        match create(&server, &g.token).await {
            (201, _) => created += 1,
            other => assert_eq!(other, refused),
        }
    }
    assert_eq!(created, 8, "max_created_matches_per_ip");
    // The server still has room for everyone else: matchmaking works.
    let p = server.login("player").await;
    let ticket = server.api.matchmake(&p.token).await.expect("matchmake");
    assert!(server.state.registry.get(&ticket.match_id).is_some());
}

#[tokio::test]
async fn a_player_holds_one_reservation_at_a_time() {
    let server = TestServer::start().await;
    let p = server.login("p").await;
    for _ in 0..20 {
        server.api.matchmake(&p.token).await.expect("matchmake");
    }
    let taken: usize = server
        .state
        .registry
        .list()
        .iter()
        .map(|m| m.seats_taken())
        .sum();
    assert_eq!(taken, 1, "seats taken by 20 matchmakes of one player");
}

#[tokio::test]
async fn reservations_count_against_the_per_address_cap() {
    let server = TestServer::start_with(|c| c.max_connections_per_ip = 4).await;
    for i in 0..4 {
        let g = server.login(&format!("g{i}")).await;
        server.api.matchmake(&g.token).await.expect("matchmake");
    }
    let g = server.login("fifth").await;
    let (status, _, json) =
        call(&server, Method::POST, "/v1/matchmake", Some(&g.token), None).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (429, Some("too_many_connections_from_address"))
    );
    // Nor can the address connect past its reservations.
    let m = server.create_match(json!({})).await;
    let login = server.login("sixth").await;
    match Connection::connect(&m.ws_url, &login.token, ConnectOptions::default()).await {
        Err(ClientError::Status { status, .. }) => assert_eq!(status, 429),
        other => panic!("expected 429, got {:?}", other.map(|_| "a connection")),
    }
}

#[tokio::test]
async fn reservations_expire_and_give_their_places_back() {
    let server = TestServer::start_with(|c| {
        c.max_connections_per_ip = 2;
        c.seat_reservation = Duration::from_secs(1);
    })
    .await;
    for i in 0..2 {
        let g = server.login(&format!("g{i}")).await;
        server.api.matchmake(&g.token).await.expect("matchmake");
    }
    let g = server.login("later").await;
    eventually(
        "the expired reservations' places",
        Duration::from_secs(5),
        || async { server.api.matchmake(&g.token).await.ok() },
    )
    .await;
}

#[tokio::test]
async fn held_seats_of_dropped_players_count_against_the_per_address_cap() {
    let server = TestServer::start_with(|c| {
        c.max_connections_per_ip = 2;
        c.reconnect_grace = Duration::from_secs(1);
    })
    .await;
    let m = server.create_match(json!({})).await;
    let a = server.join(&m.match_id, "a").await;
    let _b = server.join(&m.match_id, "b").await;
    // `a` vanishes without a close frame: its seat is held for the grace, and so is its place.
    drop(a);
    let handle = server.state.registry.get(&m.match_id).expect("match");
    let c = server.login("c").await;
    match Connection::connect(&m.ws_url, &c.token, ConnectOptions::default()).await {
        Err(ClientError::Status { status, .. }) => assert_eq!(status, 429),
        other => panic!(
            "expected 429 while a's seat is held, got {:?}",
            other.map(|_| "ok")
        ),
    }
    assert_eq!(handle.players(), 2);
    // Once the grace runs out the place is free again.
    eventually(
        "a's place after the grace",
        Duration::from_secs(5),
        || async {
            Connection::connect(&m.ws_url, &c.token, ConnectOptions::default())
                .await
                .ok()
        },
    )
    .await;
}

#[tokio::test]
async fn a_match_nobody_joins_ends_after_the_reservation_time() {
    let server = TestServer::start_with(|c| c.seat_reservation = Duration::from_secs(1)).await;
    let m = server.create_match(json!({})).await;
    let registry = server.state.registry.clone();
    assert!(registry.get(&m.match_id).is_some());
    eventually(
        "the unjoined match to end",
        Duration::from_secs(5),
        || async { registry.get(&m.match_id).is_none().then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn empty_matches_do_not_tick_until_someone_joins() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let owner = server.login(&format!("o{i}")).await;
        let t = server
            .api
            .create_match(&owner.token, &json!({ "tick_rate": 240 }))
            .await
            .expect("create");
        ids.push(t.match_id);
    }
    // A bounded wait to see that nothing happens: 8 matches at 240 Hz would run ~380 ticks.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.state.metrics.ticks.load(Relaxed), 0);
    // A join wakes its match at once.
    let mut c = server.join(&ids[0], "p").await;
    tests::snapshots(&mut c, 3, Duration::from_secs(5)).await;
    assert!(server.state.metrics.ticks.load(Relaxed) >= 3);
}

/// `n` handshakes of `token` to `match_id` at once (raw, held open); their status codes and
/// error codes.
async fn handshake_storm(
    server: &TestServer,
    token: &str,
    match_id: &str,
    n: usize,
) -> (Vec<(u16, String)>, Vec<tests::raw::Upgraded>) {
    let tries = (0..n).map(|_| tests::raw::upgrade(server.addr, token, match_id, "tickwire.v3"));
    let mut answers = Vec::new();
    let mut open = Vec::new();
    for up in futures_util::future::join_all(tries).await {
        let mut up = up.expect("an answer");
        let mut text = String::from_utf8_lossy(&up.rest).into_owned();
        if up.status() != 101 {
            let length: usize = up
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = up.rest.clone();
            body.resize(length.max(body.len()), 0);
            let have = up.rest.len();
            if have < length {
                use tokio::io::AsyncReadExt;
                up.tcp
                    .read_exact(&mut body[have..])
                    .await
                    .expect("the error body");
            }
            text = String::from_utf8_lossy(&body).into_owned();
        }
        let code = text
            .split("\"error\":\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_owned();
        answers.push((up.status(), code));
        open.push(up);
    }
    (answers, open)
}

#[tokio::test]
async fn websocket_handshakes_have_a_budget_of_their_own() {
    let server = TestServer::start_with(|c| {
        c.http_rate_limit = 2;
        c.http_rate_burst = 10;
    })
    .await;
    let m = server.create_match(json!({ "tick_rate": 1 })).await;
    let login = server.login("storm").await;
    let (answers, _open) = handshake_storm(&server, &login.token, &m.match_id, 40).await;
    let upgraded = answers.iter().filter(|(s, _)| *s == 101).count();
    let budgeted = answers
        .iter()
        .filter(|(s, e)| *s == 429 && e == "too_many_requests")
        .count();
    assert!((1..=10).contains(&upgraded), "{answers:?}");
    assert!(budgeted >= 30, "{answers:?}");
    // The matchmake and login budget is another one: still there.
    let (status, _, _) = call(
        &server,
        Method::POST,
        "/v1/matchmake",
        Some(&login.token),
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_reconnect_storm_of_one_player_is_held_to_the_per_address_cap() {
    let server = TestServer::start_with(|c| c.max_connections_per_ip = 4).await;
    // At 1 Hz the joins wait for the next tick, so the storm's handshakes all hold the seat at
    // once, as a storm against a busy match does.
    let m = server.create_match(json!({ "tick_rate": 1 })).await;
    let login = server.login("storm").await;
    let first = Connection::connect(&m.ws_url, &login.token, ConnectOptions::default())
        .await
        .expect("connect");
    let (answers, open) = handshake_storm(&server, &login.token, &m.match_id, 30).await;
    let upgraded = answers.iter().filter(|(s, _)| *s == 101).count();
    let capped = answers
        .iter()
        .filter(|(s, e)| *s == 429 && e == "too_many_connections_from_address")
        .count();
    // One handshake may go past the cap to take the seat back (the old connection's place is
    // given back when it takes over); the others need places of their own: 3 are left.
    assert!(upgraded <= 1 + 3, "{answers:?}");
    assert_eq!(upgraded + capped, 30, "{answers:?}");
    assert!(server.state.registry.per_ip.held(tests::tcp::loopback(1)) <= 4 + 1);
    drop((first, open));
}

#[tokio::test]
async fn listings_have_a_read_budget_of_their_own() {
    // Defaults: 2 a second after 10 for the request budget; reads get five times that.
    let server = TestServer::start_with(|c| {
        c.http_rate_limit = 2;
        c.http_rate_burst = 10;
    })
    .await;
    let m = server.create_match(json!({})).await;
    let mut statuses = Vec::new();
    let start = std::time::Instant::now();
    for i in 0..80 {
        let path = if i % 2 == 0 {
            "/v1/matches".to_owned()
        } else {
            format!("/v1/matches/{}", m.match_id)
        };
        let (status, retry, _) = call(&server, Method::GET, &path, None, None).await;
        if status == 429 {
            assert!(retry.is_some(), "Retry-After on a refused read");
        }
        statuses.push(status);
    }
    // The burst of 50, plus what 10 a second refilled while the loop ran.
    let refilled = (start.elapsed().as_secs_f64() * 10.0).ceil() as usize;
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        served >= 50 && served <= 50 + refilled,
        "{refilled}: {statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    // The request budget is another one.
    let (status, _, _) = call(
        &server,
        Method::POST,
        "/v1/auth/guest",
        None,
        Some(json!({ "name": "still" })),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn fifty_addresses_create_their_share_of_240_hz_matches_and_an_honest_player_plays() {
    let server = TestServer::start().await;
    let mut created = 0;
    let mut refused = 0;
    for n in 1..=50u8 {
        let from = tests::tcp::loopback(n);
        let client = reqwest::Client::builder()
            .local_address(from)
            .build()
            .expect("client");
        let base = format!("http://{}", server.addr);
        let token: Value = client
            .post(format!("{base}/v1/auth/guest"))
            .json(&json!({ "name": format!("h{n}") }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        let token = token["token"].as_str().expect("token").to_owned();
        for _ in 0..9 {
            // Two per player: a fresh guest identity every two matches, as an attacker would.
            let who: Value = client
                .post(format!("{base}/v1/auth/guest"))
                .json(&json!({ "name": "again" }))
                .send()
                .await
                .expect("login")
                .json()
                .await
                .expect("json");
            let player = who["token"].as_str().unwrap_or(&token).to_owned();
            let resp = client
                .post(format!("{base}/v1/matches"))
                .bearer_auth(&player)
                .json(&json!({ "tick_rate": 240 }))
                .send()
                .await
                .expect("create");
            match resp.status().as_u16() {
                201 => created += 1,
                429 => refused += 1,
                other => panic!("create from {from}: {other}"),
            }
        }
    }
    // Eight per address (`max_created_matches_per_ip`): 400 made, the ninth of each refused.
    assert_eq!((created, refused), (400, 50));
    // Someone else still finds a match and plays it at its rate.
    let honest = server.login("honest").await;
    let ticket = server
        .api
        .matchmake(&honest.token)
        .await
        .expect("matchmake");
    let mut c = Connection::connect(&ticket.ws_url, &honest.token, ConnectOptions::default())
        .await
        .expect("connect");
    let start = tokio::time::Instant::now();
    tests::snapshots(&mut c, 30, Duration::from_secs(5)).await;
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
}
