//! What every HTTP answer looks like to a client it should not trust: security headers on pages
//! and API answers, the one error shape for every rejection (unknown route, wrong method, bad
//! path id, bad body), a `ws_url` that ignores a forged Host, and `/metrics` kept off the
//! public listener when it has its own address.

use reqwest::Method;
use serde_json::{Value, json};
use tests::TestServer;

#[tokio::test]
async fn pages_and_api_answers_carry_security_headers() {
    let server = TestServer::start().await;
    for path in ["/", "/admin"] {
        let resp = server
            .request(Method::GET, path, None)
            .send()
            .await
            .expect("page");
        assert_eq!(resp.status().as_u16(), 200);
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().expect("csp");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    let resp = server
        .request(Method::GET, "/healthz", None)
        .send()
        .await
        .expect("api");
    let h = resp.headers();
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
}

/// Status and JSON body of a request.
async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ctype.starts_with("application/json"), "{status}: {ctype}");
    let body: Value = resp.json().await.expect("json body");
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{body}"
    );
    (status, body)
}

#[tokio::test]
async fn every_rejection_has_the_error_shape() {
    let server = TestServer::start().await;
    let admin = server.admin_token();
    let m = server.create_match(json!({})).await;
    let code = |b: &Value| b["error"].as_str().unwrap_or_default().to_owned();

    let (s, b) = call(server.request(Method::GET, "/nope", None)).await;
    assert_eq!((s, code(&b)), (404, "not_found".into()));
    let (s, b) = call(server.request(Method::PUT, "/v1/matchmake", None)).await;
    assert_eq!((s, code(&b)), (405, "method_not_allowed".into()));
    let (s, b) = call(server.request(Method::GET, "/js/nope.js", None)).await;
    assert_eq!((s, code(&b)), (404, "not_found".into()));
    // A path id that is not a number.
    let path = format!("/v1/admin/matches/{}/players/abc", m.match_id);
    let (s, b) = call(server.request(Method::DELETE, &path, Some(&admin))).await;
    assert_eq!((s, code(&b)), (400, "invalid_path".into()));
    // Bodies that are not a timing patch: 400 invalid_options, as the docs say.
    let path = format!("/v1/admin/matches/{}", m.match_id);
    for body in [
        json!({ "tick_rate": "fast" }),
        json!({ "speed": 2 }),
        json!([1]),
    ] {
        let req = server
            .request(Method::PATCH, &path, Some(&admin))
            .json(&body);
        let (s, b) = call(req).await;
        assert_eq!((s, code(&b)), (400, "invalid_options".into()), "{body}");
    }
    // A body that is not JSON at all, to a player route.
    let login = server.login("p").await;
    let req = server
        .request(Method::POST, "/v1/matches", Some(&login.token))
        .header("content-type", "application/json")
        .body("{not json");
    let (s, b) = call(req).await;
    assert_eq!((s, code(&b)), (400, "bad_request".into()));
    // JSON that is not match options: invalid options, naming the field.
    for (body, field) in [
        (json!({ "max_playerz": 4 }), "max_playerz"),
        (json!({ "tick_rate": "fast" }), "string \"fast\""),
    ] {
        let req = server
            .request(Method::POST, "/v1/matches", Some(&login.token))
            .json(&body);
        let (s, b) = call(req).await;
        assert_eq!((s, code(&b)), (400, "invalid_options".into()), "{body}");
        let message = b["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let req = server
        .request(Method::POST, "/v1/auth/guest", None)
        .json(&json!({ "name": 7 }));
    let (s, b) = call(req).await;
    assert_eq!((s, code(&b)), (400, "bad_request".into()));
}

#[tokio::test]
async fn ws_url_ignores_a_forged_host() {
    let server = TestServer::start().await;
    let login = server.login("p").await;
    for host in ["evil.example", "evil.example:1234", "localhost:1"] {
        let resp = server
            .request(Method::POST, "/v1/matchmake", Some(&login.token))
            .header("host", host)
            .send()
            .await
            .expect("matchmake");
        let body: Value = resp.json().await.expect("json");
        let url = body["ws_url"].as_str().expect("ws_url");
        assert!(
            url.starts_with(&format!("ws://{}/v1/ws?match=", server.addr)),
            "Host {host}: {url}"
        );
    }
    // A Host that names this server (as a browser on http://localhost:PORT sends) is kept.
    let local = format!("localhost:{}", server.addr.port());
    let resp = server
        .request(Method::POST, "/v1/matchmake", Some(&login.token))
        .header("host", &local)
        .send()
        .await
        .expect("matchmake");
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["ws_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("ws://{local}/"))),
        "{body}"
    );
}

#[tokio::test]
async fn metrics_leave_the_public_listener_when_they_have_their_own() {
    let private = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let metrics_addr = private.local_addr().expect("addr");
    drop(private);
    let server = TestServer::start_with(|c| c.metrics_bind = Some(metrics_addr)).await;
    let (s, _) = call(server.request(Method::GET, "/metrics", None)).await;
    assert_eq!(s, 404);
    let url = format!("http://{metrics_addr}/metrics");
    let body = tests::eventually(
        "the metrics listener",
        std::time::Duration::from_secs(5),
        || async { reqwest::get(&url).await.ok()?.text().await.ok() },
    )
    .await;
    assert!(body.contains("tickwire_ticks_total"));
}
