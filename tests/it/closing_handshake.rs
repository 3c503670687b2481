//! RFC 6455 §5.5.1 from a raw client: a client's Close is answered with a Close of the server's
//! own (the code echoed, 1002 for a code the RFC forbids on the wire), the server then ends the
//! TCP connection, and the player has left the match (no reconnect grace).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use shared::protocol::SUBPROTOCOL;
use tests::{TestServer, eventually};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn raw_client(server: &TestServer, match_id: &str) -> Ws {
    let login = server.login("closer").await;
    let mut req = server
        .ws_url(match_id)
        .into_client_request()
        .expect("request");
    let headers = req.headers_mut();
    let bearer = format!("Bearer {}", login.token);
    headers.insert("authorization", HeaderValue::from_str(&bearer).expect("hv"));
    headers.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    ws
}

/// Sends `close` after the Welcome and returns the close frame the server answers with, after
/// checking the server then ends the connection.
async fn answer_to(close: Option<CloseFrame>) -> Option<CloseFrame> {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let mut ws = raw_client(&server, &m.match_id).await;
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
    assert!(
        matches!(first, Ok(Some(Ok(Message::Binary(_))))),
        "expected the Welcome, got {first:?}"
    );
    let handle = server.state.registry.get(&m.match_id).expect("match");
    eventually(
        "the player in the match",
        Duration::from_secs(5),
        || async { (handle.players() == 1).then_some(()) },
    )
    .await;
    ws.send(Message::Close(close)).await.expect("send close");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let answer = loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the server answers within 5 s");
        match msg {
            // Snapshots already in flight before our Close arrived.
            Some(Ok(Message::Binary(_) | Message::Ping(_))) => {}
            Some(Ok(Message::Close(frame))) => break frame,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    // After the exchange the server closes TCP: the stream ends without an error.
    let end = tokio::time::timeout_at(deadline, ws.next())
        .await
        .expect("TCP closed");
    assert!(
        matches!(
            end,
            None | Some(Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed))
        ),
        "{end:?}"
    );
    // A proper close is a departure: no reconnect grace holds the seat.
    eventually("the player to leave", Duration::from_secs(3), || async {
        (handle.players() == 0).then_some(())
    })
    .await;
    answer
}

fn frame(code: u16) -> Option<CloseFrame> {
    Some(CloseFrame {
        code: CloseCode::from(code),
        reason: "bye".into(),
    })
}

async fn answered_code(code: u16) -> u16 {
    let answer = answer_to(frame(code)).await.expect("a status code");
    u16::from(answer.code)
}

#[tokio::test]
async fn normal_closure_is_echoed() {
    assert_eq!(answered_code(1000).await, 1000);
}

#[tokio::test]
async fn going_away_is_echoed() {
    assert_eq!(answered_code(1001).await, 1001);
}

#[tokio::test]
async fn an_application_code_is_echoed() {
    assert_eq!(answered_code(4321).await, 4321);
}

#[tokio::test]
async fn an_empty_close_is_answered_with_an_empty_close() {
    assert_eq!(answer_to(None).await, None);
}

#[tokio::test]
async fn a_code_reserved_for_apis_is_a_protocol_error() {
    // 1005 means "no status" to an API and must never be sent in a frame (RFC 6455 §7.4.1).
    assert_eq!(answered_code(1005).await, 1002);
}

#[tokio::test]
async fn a_code_below_the_range_is_a_protocol_error() {
    assert_eq!(answered_code(999).await, 1002);
}

#[tokio::test]
async fn a_code_above_the_range_is_a_protocol_error() {
    assert_eq!(answered_code(5000).await, 1002);
}
