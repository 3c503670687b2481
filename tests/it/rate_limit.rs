//! A client flooding messages has the excess dropped and counted, then is closed with the
//! rate-limited code (WebSocket pings and pongs count too; junk binary frames are a protocol
//! error); another client in the match keeps receiving
//! snapshots.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde_json::json;
use shared::close_code::CloseCode;
use tests::{TestServer, close_code, snapshots};

#[tokio::test]
async fn a_flood_is_dropped_then_closed() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "tick_rate": 30 })).await;
    let mut flooder = server.join(&m.match_id, "flooder").await;
    let mut other = server.join(&m.match_id, "other").await;
    snapshots(&mut other, 3, Duration::from_secs(5)).await;
    // The limit at 30 Hz is 65 messages a second; send a thousand at once.
    for _ in 0..1000 {
        if flooder.send_ping().await.is_err() {
            break; // the server closed on us mid-flood
        }
    }
    assert_eq!(
        close_code(&mut flooder, Duration::from_secs(10)).await,
        CloseCode::RateLimited
    );
    assert!(server.state.metrics.messages_rate_limited.load(Relaxed) > 100);
    snapshots(&mut other, 15, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_ping_flood_is_closed_like_any_flood() {
    use tokio_tungstenite::tungstenite::Message;
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "tick_rate": 30 })).await;
    let mut flooder = server.join(&m.match_id, "pinger").await;
    let mut other = server.join(&m.match_id, "other").await;
    // WebSocket control frames, not protocol pings: each costs the server a pong.
    for _ in 0..1000 {
        let ping = Message::Ping(vec![7u8; 125].into());
        if flooder.send_raw(ping).await.is_err() {
            break;
        }
    }
    assert_eq!(
        close_code(&mut flooder, Duration::from_secs(10)).await,
        CloseCode::RateLimited
    );
    snapshots(&mut other, 15, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_pong_or_binary_frame_flood_is_closed_like_any_flood() {
    use tokio_tungstenite::tungstenite::Message;
    for (what, frame) in [
        ("pong", Message::Pong(vec![7u8; 125].into())),
        // Binary frames that are not messages at all: each is still a frame to pay for.
        ("binary", Message::Binary(vec![0xffu8; 1].into())),
    ] {
        let server = TestServer::start().await;
        let m = server.create_match(json!({ "tick_rate": 30 })).await;
        let mut flooder = server.join(&m.match_id, "flooder").await;
        let mut other = server.join(&m.match_id, "other").await;
        for _ in 0..1000 {
            if flooder.send_raw(frame.clone()).await.is_err() {
                break;
            }
        }
        let code = close_code(&mut flooder, Duration::from_secs(10)).await;
        // Unsolicited pongs are paid for and dropped; a binary frame that is not a message
        // is a protocol error at once.
        let want = if what == "pong" {
            CloseCode::RateLimited
        } else {
            CloseCode::ProtocolError
        };
        assert_eq!(code, want, "{what}");
        snapshots(&mut other, 15, Duration::from_secs(5)).await;
    }
}
