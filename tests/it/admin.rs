//! The admin API: admin tokens only, figures per match and player, live tick-rate changes that
//! clients are told about and follow, ending a match, kicking a player.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use shared::close_code::CloseCode;
use shared::protocol::EndReason;
use tests::in_process::InProcess;
use tests::{TestServer, close_code, read_until, snapshots};
use tickwire_client::Event;
use tokio::time::Instant;

#[tokio::test]
async fn admin_api_needs_an_admin_token() {
    let server = InProcess::new(|_| {});
    let status = |token: Option<String>| {
        let server = &server;
        async move {
            let path = "/v1/admin/matches";
            let a = server.call(Method::GET, path, token.as_deref(), None).await;
            a.status.as_u16()
        }
    };
    assert_eq!(status(None).await, 401);
    assert_eq!(status(Some("garbage".into())).await, 401);
    assert_eq!(status(Some(server.player_token("p"))).await, 403);
    assert_eq!(status(Some(server.admin_token())).await, 200);
}

async fn json_of(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn figures_and_a_live_tick_rate_change() {
    let server = TestServer::start().await;
    let admin = server.admin_token();
    let m = server.create_match(json!({ "tick_rate": 20 })).await;
    let mut c = server.join(&m.match_id, "ada").await;
    snapshots(&mut c, 5, Duration::from_secs(5)).await;

    // Listing shows the match; the detail shows the player with an RTT once pings are answered.
    let (status, list) =
        json_of(server.request(Method::GET, "/v1/admin/matches", Some(&admin))).await;
    assert_eq!(status, 200);
    let listed = list
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == m.match_id.as_str()))
        .cloned();
    let listed = listed.expect("match listed");
    assert_eq!(
        (listed["tick_rate"].as_u64(), listed["players"].as_u64()),
        (Some(20), Some(1))
    );
    assert_eq!(listed["budget_ms"].as_f64(), Some(50.0));
    let path = format!("/v1/admin/matches/{}", m.match_id);
    // Poll with a deadline, reading the client meanwhile so pongs and snapshots flow.
    let deadline = Instant::now() + Duration::from_secs(10);
    let detail = loop {
        assert!(Instant::now() < deadline, "no player figures in time");
        let until = Instant::now() + Duration::from_millis(200);
        while let Ok(ev) = tokio::time::timeout_at(until, c.next_event()).await {
            ev.expect("event");
        }
        let (_, d) = json_of(server.request(Method::GET, &path, Some(&admin))).await;
        let p = &d["player_details"][0];
        if p["rtt_ms"].as_f64().is_some() && p["snapshots_per_sec"].as_f64().unwrap_or(0.0) > 0.0 {
            break d;
        }
    };
    assert_eq!(detail["player_details"][0]["name"], "ada");
    assert!(detail["tick_time"]["samples"].as_u64().unwrap_or(0) > 0);

    // Change to 60 Hz: the client is told in-band, and its snapshot rate follows.
    let (status, body) = json_of(
        server
            .request(Method::PATCH, &path, Some(&admin))
            .json(&json!({ "tick_rate": 60 })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tick_rate"], 60);
    let rate = read_until(
        &mut c,
        "MatchSettings",
        Duration::from_secs(5),
        |ev, _| match ev {
            Event::Settings { tick_rate, .. } => Some(*tick_rate),
            _ => None,
        },
    )
    .await;
    assert_eq!(rate, 60);
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(2) {
        if let Ok(Ok(Event::Snapshot { .. })) =
            tokio::time::timeout(Duration::from_millis(200), c.next_event()).await
        {
            n += 1;
        }
    }
    let per_sec = f64::from(n) / start.elapsed().as_secs_f64();
    assert!(
        per_sec > 48.0,
        "{per_sec} snapshots/s after the change to 60 Hz"
    );

    // Out-of-range values are refused with the field named.
    let (status, body) = json_of(
        server
            .request(Method::PATCH, &path, Some(&admin))
            .json(&json!({ "tick_rate": 999 })),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("tick_rate"))
    );
}

#[tokio::test]
async fn ending_a_match_and_kicking_a_player() {
    let server = TestServer::start().await;
    let admin = server.admin_token();
    let m = server.create_match(json!({})).await;
    let mut stays = server.join(&m.match_id, "stays").await;
    let mut kicked = server.join(&m.match_id, "kicked").await;
    let path = format!(
        "/v1/admin/matches/{}/players/{}",
        m.match_id, kicked.welcome.entity
    );
    let resp = server
        .request(Method::DELETE, &path, Some(&admin))
        .send()
        .await
        .expect("kick");
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(
        close_code(&mut kicked, Duration::from_secs(5)).await,
        CloseCode::Kicked
    );
    let again = server
        .request(Method::DELETE, &path, Some(&admin))
        .send()
        .await
        .expect("kick");
    assert_eq!(again.status().as_u16(), 404);

    let path = format!("/v1/admin/matches/{}", m.match_id);
    let resp = server
        .request(Method::DELETE, &path, Some(&admin))
        .send()
        .await
        .expect("end");
    assert_eq!(resp.status().as_u16(), 202);
    let ended = read_until(
        &mut stays,
        "MatchEnded",
        Duration::from_secs(5),
        |ev, _| match ev {
            Event::MatchEnded(e) => Some(e.reason),
            _ => None,
        },
    )
    .await;
    assert_eq!(ended, EndReason::Admin);
    assert_eq!(
        close_code(&mut stays, Duration::from_secs(5)).await,
        CloseCode::MatchEnded
    );
}
