//! The real `tickwire-server` process: dedicated mode, draining on SIGTERM with real clients,
//! and a second signal exiting at once.
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use shared::close_code::CloseCode;
use shared::protocol::EndReason;
use tickwire_client::{Api, ConnectOptions, Connection, Event};

use crate::common;

use common::{SECRET, Server, start, start_logged};

fn signal(server: &Server, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &server.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits (polling with a deadline) for the child to exit; its exit code.
fn exit_code(server: &mut Server, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            panic!("server did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn player(addr: &str, name: &str) -> (Api, Connection) {
    let api = Api::new(&format!("http://{addr}"));
    let login = api.guest_login(name).await.expect("login");
    let ticket = api.matchmake(&login.token).await.expect("matchmake");
    let conn = Connection::connect(&ticket.ws_url, &login.token, ConnectOptions::default())
        .await
        .expect("connect");
    (api, conn)
}

async fn until_end(c: &mut Connection, within: Duration) -> (EndReason, u16) {
    let deadline = tokio::time::Instant::now() + within;
    let mut reason = None;
    loop {
        let ev = tokio::time::timeout_at(deadline, c.next_event())
            .await
            .expect("in time")
            .expect("event");
        match ev {
            Event::MatchEnded(m) => reason = Some(m.reason),
            Event::Closed { code, .. } => return (reason.expect("MatchEnded before close"), code),
            _ => {}
        }
    }
}

#[tokio::test]
async fn dedicated_match_exits_zero_and_writes_results_and_its_recording() {
    let results =
        std::env::temp_dir().join(format!("tickwire-dedicated-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&results);
    let results_arg = results.to_string_lossy().into_owned();
    let recordings =
        std::env::temp_dir().join(format!("tickwire-dedicated-rec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&recordings);
    let record_dir = format!("record_dir={}", recordings.display());
    let (mut child, addr) = start(&[
        "dedicated",
        "--tick-rate",
        "64",
        "--max-players",
        "10",
        "--score-limit",
        "20",
        "--time-limit",
        "2s",
        "--empty-timeout",
        "30s",
        "--results-file",
        &results_arg,
        "--set",
        &record_dir,
    ]);
    let (_api, mut c) = player(&addr, "solo").await;
    assert_eq!(c.welcome.tick_rate, 64);
    let (reason, _) = until_end(&mut c, Duration::from_secs(10)).await;
    assert_eq!(reason, EndReason::TimeLimit);
    assert_eq!(exit_code(&mut child, Duration::from_secs(10)), 0);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("results file"))
            .expect("json");
    assert_eq!(record["reason"], "time_limit");
    assert_eq!(record["tick_rate"], 64);
    assert_eq!(record["players"][0]["name"], "solo");
    // Dedicated matches are recorded (into `recordings/` unless record_dir says otherwise).
    let id = record["match_id"].as_str().expect("match id");
    let bytes = std::fs::read(recordings.join(format!("{id}.twrec"))).expect("the recording");
    let verified = server::replay::verify(&bytes).expect("it replays");
    assert_eq!(verified.ticks, 128, "2 s at 64 Hz");
    let _ = std::fs::remove_file(&results);
    let _ = std::fs::remove_dir_all(&recordings);
}

#[tokio::test]
async fn sigterm_drains_then_ends_matches_with_1001_and_exits_zero() {
    let (mut child, addr) = start(&["--drain-timeout", "2s"]);
    let (api, mut c) = player(&addr, "stayer").await;
    let http = reqwest::Client::new();
    let ready = |http: &reqwest::Client| http.get(format!("http://{addr}/readyz")).send();
    assert_eq!(ready(&http).await.expect("readyz").status().as_u16(), 200);

    signal(&child, "-TERM");
    // Draining: not ready, no new players, but the running match goes on.
    let deadline = Instant::now() + Duration::from_secs(5);
    while ready(&http).await.expect("readyz").status().as_u16() != 503 {
        assert!(Instant::now() < deadline, "readyz never said draining");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let late = api.guest_login("late").await.expect("login still works");
    let refused = api
        .matchmake(&late.token)
        .await
        .expect_err("no new players");
    assert_eq!(refused.kind(), "status_503");
    let mut snaps = 0;
    while snaps < 10 {
        if let Event::Snapshot { .. } = c.next_event().await.expect("event") {
            snaps += 1;
        }
    }
    let (reason, code) = until_end(&mut c, Duration::from_secs(10)).await;
    assert_eq!(
        (reason, code),
        (EndReason::Shutdown, CloseCode::GoingAway.code())
    );
    assert_eq!(exit_code(&mut child, Duration::from_secs(10)), 0);
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let (mut child, addr) = start(&["--drain-timeout", "60s"]);
    let (_api, _c) = player(&addr, "keeps-it-busy").await;
    signal(&child, "-TERM");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while http
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("readyz")
        .status()
        .as_u16()
        != 503
    {
        assert!(Instant::now() < deadline, "not draining");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&child, "-INT");
    assert_eq!(exit_code(&mut child, Duration::from_secs(5)), 130);
}

/// An admin token from the real `admin-token` subcommand, with the same secret, run in an empty
/// directory that it must leave empty (it builds only the signing key: no results log).
fn admin_token() -> String {
    let dir = std::env::temp_dir().join(format!("tickwire-admin-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_tickwire-server"))
        .args(["admin-token", "--name", "ops-alice"])
        .env("TICKWIRE_JWT_SECRET", SECRET)
        .current_dir(&dir)
        .output()
        .expect("admin-token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(&dir).expect("read dir").collect();
    assert!(left.is_empty(), "admin-token wrote {left:?}");
    let _ = std::fs::remove_dir(&dir);
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn tokens_never_reach_the_server_logs_even_at_trace() {
    let (mut server, addr, lines) = start_logged(&[
        "--log-level",
        "trace",
        "--log-format",
        "json",
        "--drain-timeout",
        "1s",
    ]);
    let api = Api::new(&format!("http://{addr}"));
    let header = api.guest_login("header").await.expect("login");
    let proto = api.guest_login("proto").await.expect("login");
    let ticket = api.matchmake(&header.token).await.expect("matchmake");
    let mut a = Connection::connect(&ticket.ws_url, &header.token, ConnectOptions::default())
        .await
        .expect("header connect");
    let opts = ConnectOptions {
        transport: tickwire_client::TokenTransport::Subprotocol,
        ..Default::default()
    };
    let mut b = Connection::connect(&ticket.ws_url, &proto.token, opts)
        .await
        .expect("subprotocol connect");
    for c in [&mut a, &mut b] {
        let mut n = 0;
        while n < 3 {
            if let Event::Snapshot { .. } = c.next_event().await.expect("event") {
                n += 1;
            }
        }
    }
    let forged = format!("{}x", &header.token[..header.token.len() - 1]);
    assert!(
        Connection::connect(&ticket.ws_url, &forged, ConnectOptions::default())
            .await
            .is_err()
    );
    let admin = admin_token();
    let resp = reqwest::Client::new()
        .patch(format!(
            "http://{addr}/v1/admin/matches/{}",
            ticket.match_id
        ))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "tick_rate": 45 }))
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status().as_u16(), 200);
    a.close().await;
    b.close().await;
    signal(&server, "-TERM");
    assert_eq!(exit_code(&mut server, Duration::from_secs(60)), 0);

    let logs: Vec<String> = lines.try_iter().collect();
    assert!(
        logs.len() > 20,
        "only {} lines: too little logged to mean anything",
        logs.len()
    );
    for line in &logs {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("not JSON: {line}"));
    }
    for (what, token) in [
        ("header", &header.token),
        ("subprotocol", &proto.token),
        ("forged", &forged),
        ("admin", &admin),
    ] {
        // The signature is the part unique to each token.
        let signature = token.rsplit('.').next().expect("signature");
        let leak = logs.iter().find(|l| l.contains(signature));
        assert!(leak.is_none(), "{what} token in the logs: {leak:?}");
    }
    let audit = logs
        .iter()
        .find(|l| l.contains("tickwire::audit") && l.contains("match timing changed"))
        .expect("an audit line for the change");
    assert!(
        audit.contains("admin:ops-alice") && audit.contains("\"tick_rate\":45"),
        "{audit}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains(&format!("\"match_id\":\"{}\"", ticket.match_id)))
    );
}
