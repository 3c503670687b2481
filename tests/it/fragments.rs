//! Fragmented messages (attack 9 of issue 22): every frame counts against the message budget,
//! continuation fragments included, and a message in more than 16 frames closes the connection
//! with 4000, while another player in the match keeps receiving snapshots. The count starts
//! where the frames do: a client that sends bytes before the 101 is refused.

use std::time::Duration;

use serde_json::json;
use shared::codec::encode_client;
use shared::protocol::{ClientMsg, SUBPROTOCOL};
use tests::raw::{BINARY, FrameReader, client_frame_fin, upgrade, upgrade_sending};
use tests::{TestServer, snapshots};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_message_that_never_finishes_is_closed_with_4000() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let mut other = server.join(&m.match_id, "other").await;
    let login = server.login("frag").await;
    let up = upgrade(server.addr, &login.token, &m.match_id, SUBPROTOCOL)
        .await
        .expect("handshake");
    assert_eq!(up.status(), 101, "{}", up.head);
    let (read, mut write) = up.tcp.into_split();
    let mut frames = FrameReader::new(read, up.rest);
    frames.next().await.expect("the Welcome");
    // A binary frame without FIN, then empty continuations that never finish (6 bytes each):
    // 10 000 of them, far past the 16 a message may have.
    let mut flood = client_frame_fin(false, BINARY, b"");
    for _ in 0..10_000 {
        flood.extend(client_frame_fin(false, 0, b""));
    }
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&flood).await;
        write
    });
    let code = tokio::time::timeout(Duration::from_secs(5), frames.until_close())
        .await
        .expect("closed in time")
        .expect("a close frame");
    assert_eq!(code, Some(4000));
    drop(writer.await);
    snapshots(&mut other, 3, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn fragments_count_against_the_message_budget() {
    // 30 messages a second allowed; each message below comes in 16 frames.
    let server = TestServer::start_with(|c| c.input_rate_limit = 30).await;
    let m = server.create_match(json!({})).await;
    let login = server.login("frag").await;
    let up = upgrade(server.addr, &login.token, &m.match_id, SUBPROTOCOL)
        .await
        .expect("handshake");
    let (read, mut write) = up.tcp.into_split();
    let mut frames = FrameReader::new(read, up.rest);
    frames.next().await.expect("the Welcome");
    let ping = encode_client(&ClientMsg::Ping { client_time: 1 });
    // The whole ping in the first frame, then 15 empty continuations, the last with FIN.
    let mut message = client_frame_fin(false, BINARY, &ping);
    for i in 1..16 {
        message.extend(client_frame_fin(i == 15, 0, b""));
    }
    // 20 such messages: 20 whole messages would be within the budget, their frames are not.
    let burst = message.repeat(20);
    write.write_all(&burst).await.expect("write");
    let code = tokio::time::timeout(Duration::from_secs(5), frames.until_close())
        .await
        .expect("closed in time")
        .expect("a close frame");
    assert_eq!(code, Some(4002));
}

/// Bytes written behind the upgrade request, before its answer, would reach the WebSocket
/// library through the HTTP parser's buffer, past the frame counter, which would then count
/// out of step (a header split across the 101 lets a client hide its frames). RFC 6455 §4.1
/// says a client waits for the answer: such a handshake is refused, and the same player
/// waiting for the answer gets in.
#[tokio::test]
async fn bytes_sent_before_the_101_refuse_the_upgrade() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let mut other = server.join(&m.match_id, "other").await;
    let login = server.login("early").await;
    let query = format!("match={}", m.match_id);
    // The first two bytes of a masked binary frame's header, or a whole frame.
    let whole = client_frame_fin(true, BINARY, b"x");
    for early in [&[0x82u8, 0x8b][..], &whole[..]] {
        let tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("tcp");
        let up = upgrade_sending(tcp, server.addr, &login.token, &query, SUBPROTOCOL, early)
            .await
            .expect("an answer");
        assert_eq!(up.status(), 400, "{}", up.head);
        let len: usize = up
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .expect("a content-length");
        assert_eq!(up.header("connection"), Some("close"));
        let (mut tcp, mut body) = (up.tcp, up.rest);
        while body.len() < len {
            let mut chunk = [0u8; 512];
            let n = tcp.read(&mut chunk).await.expect("the body");
            assert!(n > 0, "the body ends early");
            body.extend_from_slice(&chunk[..n]);
        }
        let body: serde_json::Value = serde_json::from_slice(&body[..len]).expect("json");
        assert_eq!(body["error"], "data_before_upgrade");
    }
    let up = upgrade(server.addr, &login.token, &m.match_id, SUBPROTOCOL)
        .await
        .expect("handshake");
    assert_eq!(up.status(), 101, "{}", up.head);
    snapshots(&mut other, 3, Duration::from_secs(5)).await;
}
