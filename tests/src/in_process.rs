//! The router in this process, without a socket: HTTP-only checks call it with
//! `tower::ServiceExt::oneshot` (as axum's testing example does), each request carrying the
//! extensions the listener would set (the peer's and the reached address).

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use server::app::{AppState, app};
use server::config::{Config, random_secret};
use server::listener::{Peer, Reached};
use tower::ServiceExt;

/// Where in-process requests claim to come from and to have reached.
pub const PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);
pub const REACHED: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

/// A server's router and state, called in process.
pub struct InProcess {
    pub state: AppState,
    router: Router,
}

/// One answer: status, headers and the whole body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON (fails the test when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {:?}", self.status, self.body))
    }

    /// The `error` code of an error answer, after checking it has the one error shape (JSON,
    /// `error` and `message` strings).
    pub fn error_code(&self) -> String {
        let ctype = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            ctype.starts_with("application/json"),
            "{}: {ctype}",
            self.status
        );
        let body = self.json();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
        body["error"].as_str().unwrap_or_default().to_owned()
    }
}

impl InProcess {
    /// The router of a server with the default config changed by `tune` (the per-address
    /// request budget off unless `tune` sets it, as for [`crate::TestServer`]).
    pub fn new(tune: impl FnOnce(&mut Config)) -> InProcess {
        let mut config = Config::with_secret(random_secret());
        config.http_rate_limit = 0;
        tune(&mut config);
        let state = AppState::new(config).expect("state");
        InProcess {
            router: app(state.clone()),
            state,
        }
    }

    /// An admin-kind token signed with this server's secret.
    pub fn admin_token(&self) -> String {
        crate::admin_token(&self.state)
    }

    /// A player-kind token for `name`.
    pub fn player_token(&self, name: &str) -> String {
        self.state
            .auth
            .issue(&format!("g_{name}"), name, server::auth::TokenKind::Player)
            .expect("player token")
            .0
    }

    /// Sends one request: `token` as a bearer, `body` as JSON when it is a value, as raw bytes
    /// (content type JSON) when it is a string.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<BodyOf<'_>>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            None => Body::empty(),
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                match b {
                    BodyOf::Json(v) => Body::from(v.to_string()),
                    BodyOf::Raw(s) => Body::from(s.to_owned()),
                }
            }
        };
        self.send(req.body(body).expect("request")).await
    }

    /// Sends a request built by the caller (extra headers and the like).
    pub async fn send(&self, mut req: Request<Body>) -> Answer {
        req.extensions_mut().insert(Peer(PEER));
        req.extensions_mut().insert(Reached(REACHED));
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .expect("body");
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// A request body for [`InProcess::call`].
pub enum BodyOf<'a> {
    Json(&'a serde_json::Value),
    Raw(&'a str),
}
