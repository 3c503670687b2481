//! The JWT matrix: each of these is a 401 at the WebSocket handshake, with no upgrade —
//! `alg: none` in any letter case, HS256 signed with the RSA public key when RS256 is
//! configured, HS384/HS512, `kid`/`jku`/`x5u`/`jwk` headers pointing at an attacker's key,
//! `exp`/`nbf` of the wrong JSON type, `nbf` or `iat` in the future, a lifetime over the cap (a
//! century), a flipped signature byte, an empty signature, a fourth segment, padding, a
//! character outside base64url, a header or claims that are not a JSON object, no `sub` or
//! `exp`, a `crit` header (30 here; wrong iss/aud, wrong kind, expired, oversized and 6 more:
//! tests/it/handshake.rs). Then every kind of token where it does not belong (16 uses: a player
//! or spectator token on the admin API, admin and node tokens on player routes, ...), 401 or 403.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tests::{TestServer, base64url, handshake_status};

const PRIVATE: &str = include_str!("../keys/rsa-test-private.pem");
const PUBLIC: &str = include_str!("../keys/rsa-test-public.pem");

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn claims(edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = json!({ "sub": "p-1", "name": "matrix", "iat": now(), "exp": now() + 600,
        "iss": "tickwire", "aud": "tickwire", "kind": "player" });
    edit(&mut c);
    c
}

fn hs256(secret: &[u8], c: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

#[tokio::test]
async fn every_bad_token_is_401_and_the_good_ones_pass() {
    let server =
        TestServer::start_with(|c| c.jwt_public_key = Some(PUBLIC.as_bytes().to_vec())).await;
    let secret = server.state.config.jwt_secret.clone();
    let m = server.create_match(json!({})).await;
    let url = m.ws_url.clone();

    let mut bad: Vec<(String, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({ "alg": alg, "typ": "JWT" }).to_string();
        let token = format!(
            "{}.{}.",
            base64url(header.as_bytes()),
            base64url(claims(|_| {}).to_string().as_bytes())
        );
        bad.push((format!("alg {alg}"), token));
    }
    bad.push((
        "HS256 with the RSA public key as secret".into(),
        hs256(PUBLIC.as_bytes(), &claims(|_| {})),
    ));
    bad.push((
        "exp as a string".into(),
        hs256(
            &secret,
            &claims(|c| c["exp"] = json!((now() + 600).to_string())),
        ),
    ));
    bad.push((
        "nbf as a string".into(),
        hs256(&secret, &claims(|c| c["nbf"] = json!(now().to_string()))),
    ));
    bad.push((
        "nbf in the future".into(),
        hs256(&secret, &claims(|c| c["nbf"] = json!(now() + 600))),
    ));
    bad.push((
        "valid for a century (exp - iat over the cap)".into(),
        hs256(
            &secret,
            &claims(|c| c["exp"] = json!(now() + 100 * 365 * 86_400)),
        ),
    ));
    bad.push((
        "iat in the future".into(),
        hs256(&secret, &claims(|c| c["iat"] = json!(now() + 3_600))),
    ));
    // RFC 7515 §4.1.11: a `crit` header naming extensions the server does not understand (it
    // understands none) makes the token invalid, however well signed.
    for crit in [json!(["exp"]), json!(["x-unknown"]), json!([])] {
        let mut header = Header::new(Algorithm::HS256);
        header.crit = serde_json::from_value(crit.clone()).ok();
        let token =
            jsonwebtoken::encode(&header, &claims(|_| {}), &EncodingKey::from_secret(&secret))
                .expect("sign");
        bad.push((format!("crit {crit}"), token));
    }
    // Algorithms the server does not take with its secret, and headers it must not follow.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = jsonwebtoken::encode(
            &Header::new(alg),
            &claims(|_| {}),
            &EncodingKey::from_secret(&secret),
        )
        .expect("sign");
        bad.push((format!("{alg:?} with the secret"), token));
    }
    for (field, value) in [
        ("kid", json!("../../../dev/null")),
        ("jku", json!("https://evil.example/keys.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", json!({ "kty": "oct", "k": "AAAA" })),
    ] {
        let header = json!({ "alg": "HS256", "typ": "JWT", field: value });
        // Signed with the attacker's key, which the header points at: the server never
        // follows a header to find a key, so the token fails like any other forgery.
        bad.push((
            format!("header {field}"),
            hand_signed(&[9u8; 32], &header, &claims(|_| {})),
        ));
    }
    let plain = json!({ "alg": "HS256", "typ": "JWT" });
    let good = hs256(&secret, &claims(|_| {}));
    let (head_and_body, _) = good.rsplit_once('.').expect("three parts");
    for (what, token) in [
        ("an empty signature", format!("{head_and_body}.")),
        ("four segments", format!("{good}.e30")),
        ("base64 padding", format!("{good}==")),
        (
            "a character outside base64url",
            format!("{head_and_body}.*{}", &good[good.len() - 10..]),
        ),
    ] {
        bad.push((what.into(), token));
    }
    let raw = |header: &[u8], body: &[u8]| -> String {
        let signing = format!("{}.{}", base64url(header), base64url(body));
        let sig = hmac_sha256(&secret, signing.as_bytes());
        format!("{signing}.{}", base64url(&sig))
    };
    bad.push((
        "a header that is not JSON".into(),
        raw(b"not json", claims(|_| {}).to_string().as_bytes()),
    ));
    bad.push((
        "claims that are not JSON".into(),
        raw(plain.to_string().as_bytes(), b"{oops"),
    ));
    bad.push((
        "claims that are an array".into(),
        raw(plain.to_string().as_bytes(), b"[1,2]"),
    ));
    for missing in ["sub", "exp"] {
        bad.push((
            format!("no {missing}"),
            hs256(
                &secret,
                &claims(|c| {
                    c.as_object_mut().expect("object").remove(missing);
                }),
            ),
        ));
    }
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 2; // inside the signature, away from base64 padding bits
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    bad.push((
        "a flipped signature byte".into(),
        String::from_utf8(flipped).expect("ascii"),
    ));

    for (what, token) in &bad {
        assert_eq!(handshake_status(&url, token).await, 401, "{what}");
    }
    // The same claims, signed properly, pass: HS256 with the secret, RS256 with the private key.
    assert_eq!(handshake_status(&url, &good).await, 101, "HS256");
    let rs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(|c| c["sub"] = json!("p-2")),
        &EncodingKey::from_rsa_pem(PRIVATE.as_bytes()).expect("rsa key"),
    )
    .expect("sign");
    assert_eq!(
        handshake_status(&url, &rs256).await,
        101,
        "RS256 from the external issuer"
    );
}

/// A JWT with a header of our own making, signed HS256 with `secret`.
fn hand_signed(secret: &[u8], header: &Value, claims: &Value) -> String {
    let signing = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let sig = hmac_sha256(secret, signing.as_bytes());
    format!("{signing}.{}", base64url(&sig))
}

/// HMAC-SHA256 (RFC 2104) through jsonwebtoken's own HS256 signer.
fn hmac_sha256(secret: &[u8], message: &[u8]) -> Vec<u8> {
    let sig =
        jsonwebtoken::crypto::sign(message, &EncodingKey::from_secret(secret), Algorithm::HS256)
            .expect("sign");
    base64url_decode(&sig)
}

fn base64url_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for b in s.bytes() {
        let v = ALPHABET.iter().position(|a| *a == b).expect("base64url") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

#[tokio::test]
async fn every_kind_of_token_is_refused_where_it_does_not_belong() {
    use axum::http::Method;
    use server::auth::TokenKind;
    use tests::in_process::{BodyOf, InProcess};
    let server = InProcess::new(|_| {});
    let token = |kind| {
        server
            .state
            .auth
            .issue("someone", "someone", kind)
            .expect("a token")
            .0
    };
    let empty = json!({});
    let caster = json!({ "name": "caster" });
    // (kind, method, path, body): each use outside the kind's place is 401 or 403.
    let uses = [
        (TokenKind::Player, Method::GET, "/v1/admin/matches", None),
        (TokenKind::Player, Method::POST, "/v1/admin/drain", None),
        (
            TokenKind::Player,
            Method::POST,
            "/v1/admin/spectator-tokens",
            Some(&empty),
        ),
        (TokenKind::Player, Method::GET, "/v1/admin/recordings", None),
        (
            TokenKind::Player,
            Method::POST,
            "/v1/cluster/matches",
            Some(&empty),
        ),
        (TokenKind::Spectator, Method::POST, "/v1/matchmake", None),
        (
            TokenKind::Spectator,
            Method::POST,
            "/v1/matches",
            Some(&empty),
        ),
        (TokenKind::Spectator, Method::GET, "/v1/admin/matches", None),
        (
            TokenKind::Spectator,
            Method::POST,
            "/v1/cluster/matches",
            Some(&empty),
        ),
        (TokenKind::Admin, Method::POST, "/v1/matchmake", None),
        (TokenKind::Admin, Method::POST, "/v1/matches", Some(&empty)),
        (
            TokenKind::Admin,
            Method::POST,
            "/v1/cluster/matches",
            Some(&empty),
        ),
        (TokenKind::Node, Method::POST, "/v1/matchmake", None),
        (TokenKind::Node, Method::POST, "/v1/matches", Some(&empty)),
        (TokenKind::Node, Method::GET, "/v1/admin/matches", None),
        (
            TokenKind::Node,
            Method::POST,
            "/v1/admin/spectator-tokens",
            Some(&empty),
        ),
    ];
    for (kind, method, path, body) in uses {
        let t = token(kind);
        let a = server
            .call(method.clone(), path, Some(&t), body.map(BodyOf::Json))
            .await;
        let status = a.status.as_u16();
        assert!(
            matches!(status, 401 | 403),
            "{kind:?} {method} {path}: {status}"
        );
    }
    // And each kind where it belongs is let in.
    for (kind, method, path, body) in [
        (TokenKind::Player, Method::POST, "/v1/matchmake", None),
        (TokenKind::Admin, Method::GET, "/v1/admin/matches", None),
        (
            TokenKind::Admin,
            Method::POST,
            "/v1/admin/spectator-tokens",
            Some(&caster),
        ),
    ] {
        let t = token(kind);
        let a = server
            .call(method.clone(), path, Some(&t), body.map(BodyOf::Json))
            .await;
        assert!(
            a.status.is_success(),
            "{kind:?} {method} {path}: {}",
            a.status
        );
    }
}
