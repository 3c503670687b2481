//! Operator auth settings: player tokens from an external ES256 issuer via its public key (and
//! the key-confusion attack refused), the browser Origin allow-list, guest login turned off.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::Method;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use tests::in_process::{BodyOf, InProcess};
use tests::{TestServer, handshake_status};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn claims() -> serde_json::Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({ "sub": "ext-42", "name": "external", "iat": now, "exp": now + 600,
            "iss": "tickwire", "aud": "tickwire", "kind": "player" })
}

#[tokio::test]
async fn external_es256_tokens_are_accepted_and_key_confusion_is_not() {
    let key = rcgen::KeyPair::generate().expect("P-256 key");
    let public_pem = key.public_key_pem();
    let path = std::env::temp_dir().join(format!("tickwire-es256-{}.pem", std::process::id()));
    std::fs::write(&path, &public_pem).expect("write");
    let pem_bytes = std::fs::read(&path).expect("read");
    let server = TestServer::start_with(move |c| c.jwt_public_key = Some(pem_bytes)).await;
    let m = server.create_match(json!({})).await;

    let es256 = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims(),
        &EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).expect("private key"),
    )
    .expect("sign");
    assert_eq!(
        handshake_status(&m.ws_url, &es256).await,
        101,
        "a token from the external issuer"
    );

    // HS256 with the public key as the HMAC secret: the classic key-confusion attack.
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .expect("sign");
    assert_eq!(handshake_status(&m.ws_url, &confused).await, 401);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn browser_origins_are_matched_exactly() {
    let server =
        TestServer::start_with(|c| c.allowed_origins = vec!["https://game.example".into()]).await;
    let m = server.create_match(json!({})).await;
    let player = server.login("browser").await;
    let try_origin = |origin: Option<&str>| {
        let mut req = m.ws_url.as_str().into_client_request().expect("request");
        let h = req.headers_mut();
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {}", player.token)).expect("h"),
        );
        h.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("tickwire.v3"),
        );
        if let Some(o) = origin {
            h.insert("origin", HeaderValue::from_str(o).expect("origin header"));
        }
        async move {
            match tokio_tungstenite::connect_async(req).await {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status().as_u16(),
                Err(e) => panic!("{e}"),
            }
        }
    };
    assert_eq!(try_origin(Some("https://game.example")).await, 101);
    assert_eq!(try_origin(Some("https://game.example.evil.com")).await, 403);
    assert_eq!(try_origin(Some("https://evil.com")).await, 403);
    // The server's own origin (the page it serves) and native clients without Origin.
    let own = format!("http://{}", server.addr);
    assert_eq!(try_origin(Some(&own)).await, 101);
    assert_eq!(try_origin(None).await, 101);
}

#[tokio::test]
async fn guest_login_can_be_turned_off() {
    let server = InProcess::new(|c| c.guest_login = false);
    let body = json!({ "name": "nobody" });
    let a = server
        .call(
            Method::POST,
            "/v1/auth/guest",
            None,
            Some(BodyOf::Json(&body)),
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    assert_eq!(a.error_code(), "guest_login_disabled");
}
