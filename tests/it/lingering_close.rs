//! Every close frame arrives and no connection ends in a reset: fifty raw clients per close
//! code keep writing until the server's close frame, and each reads that frame and then the
//! end of the stream (FIN). Without the lingering close (server/src/linger.rs) the server drops
//! sockets with the client's bytes unread and the kernel answers with RST, which a client that
//! is still writing (or Windows) sees as a reset before the close frame.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use shared::close_code::CloseCode;
use shared::codec::encode_client;
use shared::protocol::{ClientMsg, SUBPROTOCOL};
use tests::TestServer;
use tests::raw::{BINARY, FrameReader, TEXT, client_frame, upgrade};
use tokio::io::AsyncWriteExt;

const TRIES: usize = 50;
const PER_MATCH: usize = 10;

/// What makes the server close.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cause {
    /// A 1 MiB binary frame, over the 4 KiB limit: the server stops reading mid-frame.
    Oversized,
    /// Messages far over the input rate limit.
    Flood,
    /// A text frame.
    Malformed,
    /// An admin kick.
    Kick,
    /// An admin ends the match.
    MatchEnd,
}

impl Cause {
    fn code(self) -> CloseCode {
        match self {
            Cause::Oversized | Cause::Malformed => CloseCode::ProtocolError,
            Cause::Flood => CloseCode::RateLimited,
            Cause::Kick => CloseCode::Kicked,
            Cause::MatchEnd => CloseCode::MatchEnded,
        }
    }

    /// What the client writes first, before its steady stream of pings.
    fn opening(self) -> Vec<u8> {
        match self {
            Cause::Oversized => client_frame(BINARY, &vec![0u8; 1 << 20]),
            Cause::Malformed => client_frame(TEXT, b"hello"),
            Cause::Flood | Cause::Kick | Cause::MatchEnd => Vec::new(),
        }
    }

    /// Pings per 10 ms: a flood for `Flood`, well under the limit for the rest.
    fn pings_per_10ms(self) -> usize {
        if self == Cause::Flood { 5 } else { 0 }
    }
}

/// One raw client's run: the close code it read, and how its stream ended.
struct Outcome {
    code: Option<u16>,
    end: std::io::Result<usize>,
}

async fn every_close_arrives(cause: Cause) {
    let server = TestServer::start_with(|c| {
        c.max_connections_per_ip = 4 * TRIES as u32;
    })
    .await;
    let mut matches = Vec::new();
    for _ in 0..TRIES.div_ceil(PER_MATCH) {
        matches.push(server.create_match(json!({})).await.match_id);
    }
    let mut clients = Vec::new();
    let mut entities = Vec::new();
    for i in 0..TRIES {
        let match_id = matches[i / PER_MATCH].clone();
        let login = server.login(&format!("p{i}")).await;
        let up = upgrade(server.addr, &login.token, &match_id, SUBPROTOCOL)
            .await
            .expect("handshake");
        assert_eq!(up.status(), 101, "{}", up.head);
        let (read, mut write) = up.tcp.into_split();
        let mut frames = FrameReader::new(read, up.rest);
        let welcome = frames.next().await.expect("the Welcome");
        let decoded = shared::codec::decode_server(&welcome.payload).expect("a server message");
        let shared::protocol::ServerMsg::Welcome(w) = decoded else {
            panic!("expected the Welcome, got {decoded:?}");
        };
        entities.push((match_id, w.entity));
        let stop = Arc::new(AtomicBool::new(false));
        // The writer keeps writing until the reader has seen the end of the stream.
        let writer = tokio::spawn({
            let stop = stop.clone();
            async move {
                let opening = cause.opening();
                if !opening.is_empty() && write.write_all(&opening).await.is_err() {
                    return;
                }
                let ping =
                    client_frame(BINARY, &encode_client(&ClientMsg::Ping { client_time: 1 }));
                let mut tick = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    // One ping per 50 ms keeps a quiet client's bytes in flight; a flood adds more.
                    let n = cause.pings_per_10ms() + usize::from(tick.is_multiple_of(5));
                    for _ in 0..n {
                        if write.write_all(&ping).await.is_err() {
                            return;
                        }
                    }
                    tick += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        clients.push(tokio::spawn(async move {
            let code = frames.until_close().await.ok().flatten();
            let end = frames.to_end().await;
            stop.store(true, Ordering::Relaxed);
            let _ = writer.await;
            Outcome { code, end }
        }));
    }
    let admin = server.admin_token();
    match cause {
        Cause::Kick => {
            for (match_id, entity) in &entities {
                let path = format!("/v1/admin/matches/{match_id}/players/{entity}");
                let resp = server
                    .request(Method::DELETE, &path, Some(&admin))
                    .send()
                    .await;
                assert_eq!(resp.expect("kick").status().as_u16(), 204);
            }
        }
        Cause::MatchEnd => {
            for match_id in &matches {
                let path = format!("/v1/admin/matches/{match_id}");
                let resp = server
                    .request(Method::DELETE, &path, Some(&admin))
                    .send()
                    .await;
                assert!(resp.expect("end").status().is_success());
            }
        }
        _ => {}
    }
    let mut failures = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let outcome = tokio::time::timeout(Duration::from_secs(30), client)
            .await
            .expect("every client done within 30 s")
            .expect("client task");
        let closed_right = outcome.code == Some(cause.code().code());
        if !closed_right || outcome.end.is_err() {
            failures.push(format!(
                "try {i}: close {:?}, end {:?}",
                outcome.code, outcome.end
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{cause:?}: {} of {TRIES} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn an_oversized_frame_gets_its_close_frame_and_a_fin() {
    every_close_arrives(Cause::Oversized).await;
}

#[tokio::test]
async fn a_flood_gets_its_close_frame_and_a_fin() {
    every_close_arrives(Cause::Flood).await;
}

#[tokio::test]
async fn a_malformed_frame_gets_its_close_frame_and_a_fin() {
    every_close_arrives(Cause::Malformed).await;
}

#[tokio::test]
async fn a_kick_gets_its_close_frame_and_a_fin() {
    every_close_arrives(Cause::Kick).await;
}

#[tokio::test]
async fn the_end_of_a_match_gets_its_close_frame_and_a_fin() {
    every_close_arrives(Cause::MatchEnd).await;
}
