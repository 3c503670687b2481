//! What every HTTP answer looks like to a client it should not trust: security headers on pages
//! and API answers, the one error shape for every rejection (unknown route, wrong method, bad
//! path id, bad body), a `ws_url` that ignores a forged Host, and `/metrics` kept off the
//! public listener when it has its own address.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use tests::TestServer;
use tests::in_process::{BodyOf, InProcess, REACHED};

#[tokio::test]
async fn pages_and_api_answers_carry_security_headers() {
    let server = InProcess::new(|_| {});
    for path in ["/", "/admin"] {
        let resp = server.call(Method::GET, path, None, None).await;
        assert_eq!(resp.status.as_u16(), 200);
        let h = &resp.headers;
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
    let resp = server.call(Method::GET, "/healthz", None, None).await;
    let h = &resp.headers;
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn every_rejection_has_the_error_shape() {
    let server = InProcess::new(|_| {});
    let admin = server.admin_token();
    let player = server.player_token("p");
    let created = server
        .call(
            Method::POST,
            "/v1/matches",
            Some(&player),
            Some(BodyOf::Json(&json!({}))),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let match_id = created.json()["match_id"]
        .as_str()
        .expect("match_id")
        .to_owned();
    let refusal = |method: Method, path: String, token: Option<String>, body: Option<Value>| {
        let server = &server;
        async move {
            let body = body.as_ref().map(BodyOf::Json);
            let a = server.call(method, &path, token.as_deref(), body).await;
            (a.status.as_u16(), a.error_code(), a)
        }
    };

    let (s, e, _) = refusal(Method::GET, "/nope".into(), None, None).await;
    assert_eq!((s, e.as_str()), (404, "not_found"));
    let (s, e, _) = refusal(Method::PUT, "/v1/matchmake".into(), None, None).await;
    assert_eq!((s, e.as_str()), (405, "method_not_allowed"));
    let (s, e, _) = refusal(Method::GET, "/js/nope.js".into(), None, None).await;
    assert_eq!((s, e.as_str()), (404, "not_found"));
    // A path id that is not a number.
    let path = format!("/v1/admin/matches/{match_id}/players/abc");
    let (s, e, _) = refusal(Method::DELETE, path, Some(admin.clone()), None).await;
    assert_eq!((s, e.as_str()), (400, "invalid_path"));
    // Bodies that are not a timing patch: 400 invalid_options, as the docs say.
    let path = format!("/v1/admin/matches/{match_id}");
    for body in [
        json!({ "tick_rate": "fast" }),
        json!({ "speed": 2 }),
        json!([1]),
    ] {
        let (s, e, _) = refusal(
            Method::PATCH,
            path.clone(),
            Some(admin.clone()),
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, e.as_str()), (400, "invalid_options"), "{body}");
    }
    // A body that is not JSON at all, to a player route.
    let a = server
        .call(
            Method::POST,
            "/v1/matches",
            Some(&player),
            Some(BodyOf::Raw("{not json")),
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.error_code().as_str()),
        (400, "bad_request")
    );
    // JSON that is not match options: invalid options, naming the field.
    for (body, field) in [
        (json!({ "max_playerz": 4 }), "max_playerz"),
        (json!({ "tick_rate": "fast" }), "string \"fast\""),
    ] {
        let (s, e, a) = refusal(
            Method::POST,
            "/v1/matches".into(),
            Some(player.clone()),
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, e.as_str()), (400, "invalid_options"), "{body}");
        let message = a.json()["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(field), "{body}: {message}");
    }
    let body = json!({ "name": 7 });
    let (s, e, _) = refusal(Method::POST, "/v1/auth/guest".into(), None, Some(body)).await;
    assert_eq!((s, e.as_str()), (400, "bad_request"));
}

#[tokio::test]
async fn ws_url_ignores_a_forged_host() {
    let server = InProcess::new(|_| {});
    let token = server.player_token("p");
    let matchmake = |host: String| {
        let req = Request::post("/v1/matchmake")
            .header("host", host)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let server = &server;
        async move {
            let a = server.send(req).await;
            a.json()["ws_url"].as_str().unwrap_or_default().to_owned()
        }
    };
    for host in ["evil.example", "evil.example:1234", "localhost:1"] {
        let url = matchmake(host.into()).await;
        assert!(
            url.starts_with(&format!("ws://{REACHED}/v1/ws?match=")),
            "Host {host}: {url}"
        );
    }
    // A Host that names this server (as a browser on http://localhost:PORT sends) is kept.
    let local = format!("localhost:{}", REACHED.port());
    let url = matchmake(local.clone()).await;
    assert!(url.starts_with(&format!("ws://{local}/")), "{url}");
}

#[tokio::test]
async fn metrics_leave_the_public_listener_when_they_have_their_own() {
    let private = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let metrics_addr = private.local_addr().expect("addr");
    drop(private);
    let server = TestServer::start_with(|c| c.metrics_bind = Some(metrics_addr)).await;
    let public = server
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .expect("request");
    assert_eq!(public.status().as_u16(), 404);
    let url = format!("http://{metrics_addr}/metrics");
    let body = tests::eventually(
        "the metrics listener",
        std::time::Duration::from_secs(5),
        || async { reqwest::get(&url).await.ok()?.text().await.ok() },
    )
    .await;
    assert!(body.contains("tickwire_ticks_total"));
}
