//! Every handshake rejection gets its status and no upgrade; a good token works from the header
//! or the subprotocol list, and the server selects `tickwire.v3` without echoing the token.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use tests::{TestServer, base64url, handshake_status};
use tickwire_client::{ConnectOptions, Connection, TokenTransport};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Claims like the server's, with `edit` applied.
fn claims(edit: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut c = json!({
        "sub": "g_test", "name": "tester", "iat": now(), "exp": now() + 600,
        "iss": "tickwire", "aud": "tickwire", "kind": "player",
    });
    edit(&mut c);
    c
}

fn sign(secret: &[u8], claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

async fn status_of(url: &str, token: Option<&str>) -> u16 {
    match token {
        Some(t) => handshake_status(url, t).await,
        None => {
            let req = url.into_client_request().expect("request");
            match tokio_tungstenite::connect_async(req).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
                Err(e) => panic!("expected an HTTP status, got {e}"),
                Ok(_) => 101,
            }
        }
    }
}

#[tokio::test]
async fn bad_tokens_get_401_without_upgrade() {
    let server = TestServer::start().await;
    let secret = server.state.config.jwt_secret.clone();
    let m = server.create_match(json!({})).await;
    let url = server.ws_url(&m.match_id);

    let alg_none = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(claims(|_| {}).to_string().as_bytes())
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("garbage", Some("not.a.jwt".into())),
        ("alg none", Some(alg_none)),
        ("other secret", Some(sign(&[9u8; 32], &claims(|_| {})))),
        (
            "expired",
            Some(sign(&secret, &claims(|c| c["exp"] = json!(now() - 120)))),
        ),
        (
            "wrong aud",
            Some(sign(&secret, &claims(|c| c["aud"] = json!("someone-else")))),
        ),
        (
            "wrong iss",
            Some(sign(&secret, &claims(|c| c["iss"] = json!("evil")))),
        ),
        (
            "admin kind",
            Some(sign(&secret, &claims(|c| c["kind"] = json!("admin")))),
        ),
        (
            "no kind",
            Some(sign(
                &secret,
                &claims(|c| {
                    c.as_object_mut().expect("object").remove("kind");
                }),
            )),
        ),
        (
            "oversized",
            Some(sign(
                &secret,
                &claims(|c| c["name"] = json!("x".repeat(5000))),
            )),
        ),
    ];
    for (what, token) in cases {
        assert_eq!(status_of(&url, token.as_deref()).await, 401, "{what}");
    }
    // The same valid-looking claims signed right are accepted: the cases above failed for the
    // reason they name, not for something else.
    let good = sign(&secret, &claims(|_| {}));
    assert_eq!(status_of(&url, Some(&good)).await, 101);
}

#[tokio::test]
async fn unknown_match_is_404_and_full_match_is_409() {
    let server = TestServer::start().await;
    let player = server.login("p").await;
    assert_eq!(
        status_of(&server.ws_url("nope"), Some(&player.token)).await,
        404
    );

    let m = server.create_match(json!({ "max_players": 1 })).await;
    let _first = server.join(&m.match_id, "first").await;
    let second = server.login("second").await;
    assert_eq!(status_of(&m.ws_url, Some(&second.token)).await, 409);
}

#[tokio::test]
async fn subprotocol_token_is_accepted_and_never_echoed() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let player = server.login("browser").await;
    let mut req = m.ws_url.as_str().into_client_request().expect("request");
    let offer = format!("tickwire.v3, tickwire.bearer.{}", player.token);
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&offer).expect("header"),
    );
    let (_ws, resp) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    let selected: Vec<_> = resp
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .collect();
    assert_eq!(selected, vec![HeaderValue::from_static("tickwire.v3")]);
    let signature = player.token.rsplit('.').next().expect("signature");
    for (name, v) in resp.headers() {
        assert!(
            !String::from_utf8_lossy(v.as_bytes()).contains(signature),
            "token echoed in {name}"
        );
    }
    // The client library's subprotocol transport gets a Welcome.
    let opts = ConnectOptions {
        transport: TokenTransport::Subprotocol,
        ..Default::default()
    };
    let c = Connection::connect(&m.ws_url, &player.token, opts)
        .await
        .expect("connect");
    assert_eq!(c.welcome.match_id, m.match_id);
    assert_eq!(
        c.welcome.protocol_version,
        shared::protocol::PROTOCOL_VERSION
    );
}

#[tokio::test]
async fn an_offer_without_the_servers_version_is_refused_with_the_version_named() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let player = server.login("old client").await;
    // Offers versions, none of them ours: refused, the answer names the version spoken.
    for offer in [
        "tickwire.v2",
        "tickwire.v2, tickwire.v4",
        "tickwire.v1, tickwire.bearer.x",
    ] {
        let mut up = tests::raw::upgrade(server.addr, &player.token, &m.match_id, offer)
            .await
            .expect("answer");
        assert_eq!(up.status(), 400, "{offer}");
        let len: usize = up
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .expect("content-length");
        let mut body = std::mem::take(&mut up.rest);
        let missing = len.saturating_sub(body.len());
        let mut tail = vec![0u8; missing];
        tokio::io::AsyncReadExt::read_exact(&mut up.tcp, &mut tail)
            .await
            .expect("body");
        body.extend_from_slice(&tail);
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("\"unsupported_protocol\""), "{offer}: {body}");
        assert!(body.contains(shared::protocol::SUBPROTOCOL), "{body}");
    }
    // Ours among others, or no version at all (the server's current one): 101.
    for offer in ["tickwire.v2, tickwire.v3", "", "tickwire.bearer.x, chat"] {
        let up = tests::raw::upgrade(server.addr, &player.token, &m.match_id, offer)
            .await
            .expect("answer");
        assert_eq!(up.status(), 101, "{offer}");
        let selected = up.header("sec-websocket-protocol");
        let want = offer.contains("tickwire.v3").then_some("tickwire.v3");
        assert_eq!(selected, want, "{offer}");
    }
}
