//! Malformed input closes that one client with the protocol-error code while another client in
//! the same match keeps receiving snapshots.

use std::time::Duration;

use futures_util::FutureExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::close_code::CloseCode;
use shared::codec::{decode_client, encode_client};
use shared::protocol::ClientMsg;
use tests::{TestServer, close_code, read_until, snapshots};
use tickwire_client::{Connection, Event};
use tokio_tungstenite::tungstenite::Message;

/// Bytes from a seeded RNG that are certainly not a valid client message.
fn random_invalid_bytes() -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(7);
    loop {
        let len = rng.random_range(1..40);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if decode_client(&bytes).is_err() {
            return bytes;
        }
    }
}

fn trailing_bytes() -> Vec<u8> {
    let mut b = encode_client(&ClientMsg::Ping { client_time: 1 });
    b.push(0);
    b
}

/// A masked binary WebSocket frame header declaring a 1 TiB payload, then nothing.
const HUGE_FRAME_HEADER: [u8; 14] = [0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4];

enum Bad {
    Frame(Message),
    RawBytes(&'static [u8]),
}

async fn send_bad(c: &mut Connection, bad: Bad) {
    match bad {
        Bad::Frame(m) => c.send_raw(m).await.expect("send"),
        Bad::RawBytes(b) => c.write_raw_bytes(b).await.expect("raw write"),
    }
}

async fn check_case(what: &str, bad: Bad) {
    let server = TestServer::start().await;
    let m = server.create_match(json!({ "tick_rate": 30 })).await;
    let mut victim = server.join(&m.match_id, "victim").await;
    let mut other = server.join(&m.match_id, "other").await;
    snapshots(&mut other, 3, Duration::from_secs(5)).await;

    send_bad(&mut victim, bad).await;
    assert_eq!(
        close_code(&mut victim, Duration::from_secs(5)).await,
        CloseCode::ProtocolError,
        "{what}"
    );

    // The other player carries on: its mirror loses the victim and snapshots keep coming.
    let gone = victim.welcome.entity;
    read_until(
        &mut other,
        "victim removed",
        Duration::from_secs(5),
        |_, c| c.mirror.entity(gone).is_none().then_some(()),
    )
    .await;
    snapshots(&mut other, 15, Duration::from_secs(5)).await;
    // No error is pending on the healthy connection.
    assert!(
        other
            .next_event()
            .now_or_never()
            .is_none_or(|e| matches!(e, Ok(Event::Snapshot { .. })))
    );
}

#[tokio::test]
async fn random_bytes() {
    check_case(
        "random bytes",
        Bad::Frame(Message::Binary(random_invalid_bytes().into())),
    )
    .await;
}

#[tokio::test]
async fn huge_varint_in_place_of_a_variant_tag() {
    let bytes = vec![253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    check_case("huge varint", Bad::Frame(Message::Binary(bytes.into()))).await;
}

#[tokio::test]
async fn huge_frame_length_prefix() {
    check_case("huge frame length", Bad::RawBytes(&HUGE_FRAME_HEADER)).await;
}

#[tokio::test]
async fn oversized_message() {
    check_case(
        "oversized",
        Bad::Frame(Message::Binary(vec![0u8; 64 * 1024].into())),
    )
    .await;
}

#[tokio::test]
async fn unknown_variant() {
    check_case(
        "unknown variant",
        Bad::Frame(Message::Binary(vec![9].into())),
    )
    .await;
}

#[tokio::test]
async fn trailing_bytes_after_a_valid_message() {
    check_case(
        "trailing bytes",
        Bad::Frame(Message::Binary(trailing_bytes().into())),
    )
    .await;
}

#[tokio::test]
async fn text_frame() {
    check_case(
        "text frame",
        Bad::Frame(Message::Text("{\"input\":1}".into())),
    )
    .await;
}
