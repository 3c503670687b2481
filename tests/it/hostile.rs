//! Hostile connections: a per-IP WebSocket cap answered 429 before the upgrade, oversized
//! request headers answered 431, and slowloris (hundreds of connections trickling a header)
//! cut off by the header-read timeout while normal requests are served.

use std::time::Duration;

use serde_json::json;
use tests::TestServer;
use tickwire_client::{ClientError, ConnectOptions, Connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

#[tokio::test]
async fn per_address_cap_is_429_before_the_upgrade() {
    let server = TestServer::start_with(|c| c.max_connections_per_ip = 2).await;
    let m = server.create_match(json!({})).await;
    let _a = server.join(&m.match_id, "a").await;
    let _b = server.join(&m.match_id, "b").await;
    let third = server.login("c").await;
    match Connection::connect(&m.ws_url, &third.token, ConnectOptions::default()).await {
        Err(ClientError::Status { status, .. }) => assert_eq!(status, 429),
        Err(e) => panic!("expected 429, got {e}"),
        Ok(_) => panic!("a third connection from one address was let in"),
    }
}

#[tokio::test]
async fn oversized_headers_are_431() {
    let server = TestServer::start().await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    let big = "x".repeat(32 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("answer")
        .expect("read");
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 431"), "{head}");
}

#[tokio::test]
async fn slowloris_connections_are_cut_and_others_served() {
    let server = TestServer::start_with(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let mut attackers = Vec::new();
    for _ in 0..200 {
        let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
            .await
            .expect("write");
        attackers.push(tcp);
    }
    // Trickle a byte per connection every 200 ms, never finishing the header, for at most 10 s.
    // A connection counts as cut when the server closes it (EOF, reset, or a write failing).
    let start = Instant::now();
    let mut cut = vec![false; attackers.len()];
    let mut served = false;
    while cut.iter().any(|c| !c) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} of 200 still open",
            cut.iter().filter(|c| !**c).count()
        );
        for (tcp, cut) in attackers
            .iter_mut()
            .zip(cut.iter_mut())
            .filter(|(_, c)| !**c)
        {
            let mut buf = [0u8; 256];
            let closed =
                match tokio::time::timeout(Duration::from_millis(1), tcp.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => true,
                    Ok(Ok(_)) => false,
                    Err(_) => tcp.write_all(b"X").await.is_err(),
                };
            *cut = closed;
        }
        if !served {
            // Meanwhile, an ordinary request gets its answer.
            let ok = reqwest::get(format!("http://{}/healthz", server.addr))
                .await
                .map(|r| r.status().as_u16());
            served = ok.ok() == Some(200);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        served,
        "a normal request should be served during the attack"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "cut before the timeout: {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let server = TestServer::start_with(|c| c.handshake_timeout = Duration::from_secs(1)).await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected the server to close: {read:?}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
}
