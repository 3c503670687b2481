//! Attacks that held before issue 22 and must keep holding, each run here: a 10 MB body, hostile
//! JSON and names, a player naming a map file, request smuggling shapes, static-file traversal
//! and private-ticket guessing. (Elsewhere: hostile JWTs in `jwt_matrix.rs` and
//! `handshake.rs`, malformed frames in `malformed.rs`, floods in `rate_limit.rs` and
//! `server/tests/it/hostile_memory.rs`, slowloris and idle h2c in `hostile.rs` and
//! `deadlines.rs`, lying `view_tick` in `lag_compensation.rs`, seat and reservation caps and
//! ghosts in `budgets.rs`.)

use std::time::Duration;

use axum::http::Method;
use serde_json::json;
use tests::in_process::{BodyOf, InProcess};
use tests::tcp::read_to_close;
use tests::{TestServer, refusal};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn a_10_mb_body_is_refused_with_413() {
    let server = InProcess::new(|_| {});
    let huge = format!("{{\"name\":\"{}\"}}", "a".repeat(10 << 20));
    for path in ["/v1/auth/guest", "/v1/matches"] {
        let token = server.player_token("big");
        let a = server
            .call(Method::POST, path, Some(&token), Some(BodyOf::Raw(&huge)))
            .await;
        assert_eq!(a.status.as_u16(), 413, "{path}");
    }
}

#[tokio::test]
async fn hostile_json_and_names_are_400() {
    let server = InProcess::new(|_| {});
    // Nested far past serde_json's recursion limit (128), within the 16 KiB body limit.
    let deep = format!("{}{}", "[".repeat(8000), "]".repeat(8000));
    let a = server
        .call(
            Method::POST,
            "/v1/auth/guest",
            None,
            Some(BodyOf::Raw(&deep)),
        )
        .await;
    assert_eq!(a.status.as_u16(), 400);
    for name in [
        "",
        " ",
        "\u{200b}",
        "\u{3164}",
        "a\u{0}b",
        "\u{202e}evil",
        "<script>",
        "a very long name over sixteen",
    ] {
        let body = json!({ "name": name });
        let a = server
            .call(
                Method::POST,
                "/v1/auth/guest",
                None,
                Some(BodyOf::Json(&body)),
            )
            .await;
        assert_eq!(
            (a.status.as_u16(), a.error_code().as_str()),
            (400, "invalid_name"),
            "{name:?}"
        );
    }
}

#[tokio::test]
async fn a_player_cannot_name_a_map_file() {
    let server = InProcess::new(|_| {});
    let token = server.player_token("mapper");
    for body in [
        json!({ "map": "file" }),
        json!({ "map": "../../etc/passwd" }),
        json!({ "map_file": "/etc/passwd" }),
    ] {
        let a = server
            .call(
                Method::POST,
                "/v1/matches",
                Some(&token),
                Some(BodyOf::Json(&body)),
            )
            .await;
        assert_eq!(
            (a.status.as_u16(), a.error_code().as_str()),
            (400, "invalid_options"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn static_files_do_not_traverse() {
    let server = InProcess::new(|_| {});
    for path in [
        "/js/..%2F..%2FCargo.toml",
        "/js/%2e%2e/%2e%2e/Cargo.toml",
        "/js/../Cargo.toml",
        "/js/main.js%00.png",
        "/js/.%2e/server/src/main.rs",
        "/sdk/..%2F..%2FCargo.toml",
        "/sdk/wire.js%00.png",
    ] {
        let a = server.call(Method::GET, path, None, None).await;
        assert_eq!(a.status.as_u16(), 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&a.body).contains("[package]"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_js_sdk_and_the_arena_rule_are_served_as_modules() {
    let server = InProcess::new(|_| {});
    for path in ["/sdk/wire.js", "/js/arena-rule.js"] {
        let a = server.call(Method::GET, path, None, None).await;
        assert_eq!(a.status.as_u16(), 200, "{path}");
        assert_eq!(
            a.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/javascript; charset=utf-8"),
            "{path}"
        );
    }
    let rule = server
        .call(Method::GET, "/js/arena-rule.js", None, None)
        .await;
    assert!(String::from_utf8_lossy(&rule.body).contains("from \"../sdk/wire.js\""));
}

/// Writes `request` raw and returns everything the server sent before it closed.
async fn raw(server: &TestServer, request: &str) -> String {
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let got = read_to_close(&mut tcp, Duration::from_secs(15)).await;
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn smuggling_shapes_are_refused_and_smuggle_nothing() {
    let server = TestServer::start().await;
    // Each carries a second request hidden where a front end and a back end might disagree
    // about where the first one ends: it must never be answered.
    let hidden = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    for (what, head) in [
        (
            "CL and TE",
            "POST /v1/auth/guest HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        (
            "two Content-Lengths",
            "POST /v1/auth/guest HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n",
        ),
        (
            "TE not chunked last",
            "POST /v1/auth/guest HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        ),
        (
            "space before the colon",
            "POST /v1/auth/guest HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n",
        ),
        (
            "bare LF line",
            "POST /v1/auth/guest HTTP/1.1\r\nHost: t\nContent-Length: 0\r\n\r\n",
        ),
    ] {
        let answer = raw(&server, &format!("{head}0\r\n\r\n{hidden}")).await;
        // The hidden GET would be a 404 `not_found`: it is never answered, and every answer
        // there is is a refusal (the first request's, then a 400 for what follows it).
        assert!(!answer.contains("not_found"), "{what}: {answer}");
        let statuses: Vec<&str> = answer
            .match_indices("HTTP/1.1 ")
            .map(|(i, _)| &answer[i + 9..i + 12])
            .collect();
        assert!(
            statuses.iter().all(|s| s.starts_with('4')),
            "{what}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_private_ticket_is_not_guessed() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "private": true })).await;
    let ticket = m.ticket.clone().expect("a ticket");
    assert_eq!(ticket.len(), 32, "128 random bits, hex");
    let guest = server.login("guesser").await;
    let base = server.ws_url(&m.match_id);
    // Wrong tickets of every near shape: a prefix, one digit off, empty, upper case.
    let mut near = ticket.clone();
    let last = near.pop().expect("a digit");
    near.push(if last == '0' { '1' } else { '0' });
    for wrong in [&ticket[..31], &near, "", &ticket.to_uppercase()] {
        if wrong == ticket {
            continue;
        }
        let url = format!("{base}&ticket={wrong}");
        assert_eq!(
            refusal(&url, &guest.token).await,
            (403, "ticket_required".into()),
            "{wrong:?}"
        );
    }
}
