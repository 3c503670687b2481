//! The JWT matrix: each of these is a 401 at the WebSocket handshake, with no upgrade —
//! `alg: none` in any letter case, HS256 signed with the RSA public key when RS256 is
//! configured, `exp`/`nbf` of the wrong JSON type, `nbf` or `iat` in the future, a lifetime over
//! the cap (a century), a flipped signature
//! byte, a `crit` header. (Wrong iss/aud, wrong kind, expired, oversized: tests/it/handshake.rs; player token on the
//! admin API: tests/it/admin.rs.)

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
    let good = hs256(&secret, &claims(|_| {}));
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
