//! Per-address request budgets: one on the routes that create state (guest login, matchmake,
//! create match), one of its own on WebSocket handshakes: tower_governor (GCRA, keyed by the peer's IP address), answered 429 with
//! `Retry-After` in the usual error shape.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use crate::error::AppError;
use crate::listener::Peer;

/// Keys a request by the IP address its connection came from (the listener sets [`Peer`]).
#[derive(Debug, Clone, Copy)]
pub struct PeerIp;

impl KeyExtractor for PeerIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        req.extensions()
            .get::<Peer>()
            .map(|Peer(addr)| addr.ip())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// A budget per address.
pub type Budget = Arc<GovernorConfig<PeerIp, NoOpMiddleware>>;

/// A budget of `per_second` requests per address, after a burst of `burst`, counting only
/// requests of `method`. `None` when `per_second` is 0 (no limit).
pub fn budget(per_second: u32, burst: u32, method: Method) -> Option<Budget> {
    if per_second == 0 {
        return None;
    }
    GovernorConfigBuilder::default()
        .key_extractor(PeerIp)
        .period(Duration::from_secs(1) / per_second)
        .burst_size(burst.max(1))
        .methods(vec![method])
        .finish()
        .map(Arc::new)
}

/// The layer for `config`.
pub fn layer(config: Budget) -> tower_governor::GovernorLayer<PeerIp, NoOpMiddleware, Body> {
    tower_governor::GovernorLayer::new(config).error_handler(refusal)
}

/// A refusal in the documented shape: 429 `too_many_requests` with `Retry-After` (seconds).
fn refusal(e: GovernorError) -> Response<Body> {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let wait = wait_time.max(1);
            let err = AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many requests from this address; retry in {wait} s"),
            );
            let mut response = err.into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(wait));
            response
        }
        _ => AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "could not tell where the request came from",
        )
        .into_response(),
    }
}

/// Forgets addresses that have been quiet long enough to have their whole burst back, once a
/// minute, so the table does not grow with every address ever seen.
pub async fn forget_quiet(config: Arc<GovernorConfig<PeerIp, NoOpMiddleware>>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        config.limiter().retain_recent();
        config.limiter().shrink_to_fit();
    }
}
