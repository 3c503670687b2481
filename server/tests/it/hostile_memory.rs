//! What a hostile WebSocket client costs the real server process in memory: clients that never
//! read and flood 125-byte pings (each of which asks for a pong). Before the write buffer was
//! capped this grew the server by ~270 MiB per connection in 2 s.
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use crate::common;

use std::time::{Duration, Instant};

use common::{rss_kib, start};
use shared::protocol::SUBPROTOCOL;
use tickwire_client::Api;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Flooding connections (under the default per-address cap of 32).
const FLOODERS: usize = 16;
/// What one flooding connection may add to the server's RSS: the capped write buffer (64 KiB)
/// plus the rest of a connection (~30 KiB, ARCHITECTURE.md), with room for the allocator.
const BOUND_KIB_PER_CONNECTION: u64 = 160;

/// A masked client ping frame with the largest control payload (125 bytes).
fn ping_frame() -> Vec<u8> {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut f = vec![0x89, 0x80 | 125];
    f.extend_from_slice(&mask);
    f.extend((0..125).map(|i| b'p' ^ mask[i % 4]));
    f
}

/// Upgrades a raw TCP connection by hand and returns it (the 101 head read and dropped).
async fn upgrade(addr: &str, token: &str, match_id: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("tcp");
    let req = format!(
        "GET /v1/ws?match={match_id} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.expect("101 head");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    tcp
}

#[tokio::test]
async fn non_reading_ping_flooders_cost_bounded_memory() {
    flood_costs_bounded_memory(&[]).await;
}

/// With the flood limit out of the way, the write buffer's cap alone bounds the memory.
#[tokio::test]
async fn the_write_buffer_cap_alone_bounds_memory() {
    flood_costs_bounded_memory(&["--set", "input_rate_limit=10000"]).await;
}

async fn flood_costs_bounded_memory(args: &[&str]) {
    // Sixteen guests from one address log in faster than the request budget allows.
    let args = [args, &["--set", "http_rate_limit=0"]].concat();
    let (server, addr) = start(&args);
    let pid = server.0.id();
    let api = Api::new(&format!("http://{addr}"));
    let mut sockets = Vec::new();
    for i in 0..FLOODERS {
        let login = api.guest_login(&format!("f{i}")).await.expect("login");
        let ticket = api.matchmake(&login.token).await.expect("matchmake");
        sockets.push(upgrade(&addr, &login.token, &ticket.match_id).await);
    }
    let before = rss_kib(pid);
    // Every socket writes pings as fast as the server takes them and never reads, for 3 s.
    let burst: Vec<u8> = ping_frame().repeat(256);
    let until = Instant::now() + Duration::from_secs(3);
    let floods: Vec<_> = sockets
        .into_iter()
        .map(|mut tcp| {
            let burst = burst.clone();
            tokio::spawn(async move {
                let mut sent = 0usize;
                while Instant::now() < until {
                    let left = until.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, tcp.write_all(&burst)).await {
                        Ok(Ok(())) => sent += burst.len(),
                        _ => break, // closed by the server, or it stopped reading
                    }
                }
                (sent, tcp) // held open (unread) until the sampling is over
            })
        })
        .collect();
    let mut peak = before;
    while Instant::now() < until + Duration::from_millis(500) {
        peak = peak.max(rss_kib(pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut sent = 0;
    for f in floods {
        sent += f.await.expect("flooder").0;
    }
    let per_conn = peak.saturating_sub(before) / FLOODERS as u64;
    println!(
        "RSS before {before} KiB, peak during the flood {peak} KiB: {per_conn} KiB per \
         connection; {} KiB of pings sent",
        sent / 1024
    );
    assert!(
        per_conn <= BOUND_KIB_PER_CONNECTION,
        "{per_conn} KiB per flooding connection (bound {BOUND_KIB_PER_CONNECTION})"
    );
}
