//! The application: shared state, the router, and `serve` (what `main` and tests both run).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use shared::arena::Arena;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::config::Config;
use crate::drain::{Drain, drain_on};
use crate::error::AppError;
use crate::http::{
    admin, console, deadline, guest, health, matches, rate_limit, security_headers, web,
};
use crate::listener::HttpLimits;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::results::ResultsLog;
use crate::session::upgrade::ws_handler;

/// The map every match is played on, embedded so one binary deploys.
pub const DEFAULT_MAP: &str = include_str!("../maps/arena.json");

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub auth: Arc<Auth>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub drain: Arc<Drain>,
    /// Loaded at start when `tls_cert` / `tls_key` are set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// One permit per open connection (HTTP or WebSocket); a WebSocket session holds its
    /// connection's permit until it ends.
    pub connection_slots: Arc<Semaphore>,
    /// Requests per address to the routes that create state; `None`: no limit.
    pub http_budget: Option<
        Arc<
            tower_governor::governor::GovernorConfig<
                rate_limit::PeerIp,
                governor::middleware::NoOpMiddleware,
            >,
        >,
    >,
    conn_ids: Arc<AtomicU64>,
}

impl AppState {
    /// Builds the state; fails on a bad map, results log, public key or TLS files.
    pub fn new(config: Config) -> Result<AppState, String> {
        let arena = match &config.map_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("map_file {}: {e}", path.display()))
                .and_then(|text| {
                    Arena::from_json(&text).map_err(|e| format!("map_file {}: {e}", path.display()))
                })?,
            None => Arena::from_json(DEFAULT_MAP)?,
        };
        check_welcome_fits(&arena).map_err(|e| match &config.map_file {
            Some(path) => format!("map_file {}: {e}", path.display()),
            None => e,
        })?;
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let mut auth = Auth::new(
            &config.jwt_secret,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.token_lifetime,
        );
        if let Some(pem) = &config.jwt_public_key {
            auth = auth.with_public_key(pem)?;
        }
        let auth = Arc::new(auth);
        let connection_slots = Arc::new(Semaphore::new(config.max_connections as usize));
        let tls = match &config.tls {
            Some((cert, key)) => Some(crate::listener::load(cert, key)?),
            None => None,
        };
        let results = match &config.results_log {
            Some(path) => {
                Some(Arc::new(ResultsLog::open(path).map_err(|e| {
                    format!("results_log {}: {e}", path.display())
                })?))
            }
            None => None,
        };
        let registry = Arc::new(Registry::new(
            config.clone(),
            metrics.clone(),
            results,
            arena,
        ));
        let http_budget = rate_limit::budget(config.http_rate_limit, config.http_rate_burst);
        Ok(AppState {
            config,
            auth,
            registry,
            metrics,
            drain: Arc::new(Drain::default()),
            tls,
            connection_slots,
            http_budget,
            conn_ids: Arc::new(AtomicU64::new(1)),
        })
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> shared::ids::ConnId {
        shared::ids::ConnId(self.conn_ids.fetch_add(1, Relaxed))
    }
}

/// The Welcome carries the map, and a connection holds at most `WRITE_BUFFER_CAP` unsent bytes:
/// a map whose Welcome would not fit could never be sent, so it is refused at start.
fn check_welcome_fits(arena: &Arena) -> Result<(), String> {
    use shared::protocol::{ServerMsg, Welcome};
    let welcome = ServerMsg::Welcome(Welcome {
        protocol_version: shared::protocol::PROTOCOL_VERSION,
        match_id: String::new(),
        player_id: String::new(),
        entity: u32::MAX,
        tick_rate: u16::MAX,
        snapshot_interval: u16::MAX,
        tick: u32::MAX,
        score_limit: u16::MAX,
        time_limit_secs: u32::MAX,
        arena: arena.clone(),
    });
    // Room for the match and player ids (12 and 18 bytes today) and then some.
    let size = shared::codec::encode_server(&welcome).len() + 256;
    let cap = crate::session::upgrade::WRITE_BUFFER_CAP;
    if size > cap {
        return Err(format!(
            "the map makes a {size}-byte Welcome; a connection sends at most {cap} bytes at once"
        ));
    }
    Ok(())
}

/// How long, after the listener stops, sessions get to finish closing.
const SESSIONS_GOODBYE: std::time::Duration = std::time::Duration::from_secs(5);

/// Request bodies are small JSON objects.
const BODY_LIMIT: usize = 16 * 1024;

/// Every route.
pub fn app(state: AppState) -> Router {
    // The routes that create state share one budget per address.
    let mut creating = Router::new()
        .route("/v1/auth/guest", post(guest::guest_login))
        .route("/v1/matchmake", post(matches::matchmake))
        .route("/v1/matches", post(matches::create).get(matches::list));
    if let Some(budget) = &state.http_budget {
        creating = creating.route_layer(rate_limit::layer(budget.clone()));
    }
    let mut router = Router::new()
        .route("/", get(web::index))
        .route("/style.css", get(web::styles))
        .route("/js/{file}", get(web::module))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/admin", get(console::page))
        .route("/admin.js", get(console::script))
        .route("/admin.css", get(console::styles))
        .route("/v1/admin/matches", get(admin::list))
        .route(
            "/v1/admin/matches/{id}",
            get(admin::detail).patch(admin::patch).delete(admin::end),
        )
        .route(
            "/v1/admin/matches/{id}/players/{entity}",
            delete(admin::kick),
        )
        .route("/v1/admin/drain", post(admin::drain))
        .route("/v1/ws", get(ws_handler))
        .merge(creating);
    // With its own address (`metrics_bind`, e.g. an internal interface), /metrics is served
    // only there; without one it stays here, as on the default loopback bind.
    if state.config.metrics_bind.is_none() {
        router = router.route("/metrics", get(health::metrics));
    }
    let policies = security_headers::Policies::new(state.config.public_url.as_deref());
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.config.request_timeout,
            deadline::within,
        ))
        .layer(axum::middleware::from_fn_with_state(
            policies,
            security_headers::add,
        ))
        .with_state(state)
}

/// Any other path: 404 in the error shape.
async fn not_found() -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// A known path with another method: 405 in the error shape.
async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// `/metrics` alone, for `metrics_bind`.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// Serves until `shutdown` completes (or a drain is requested) and the drain is over: new
/// players are refused, matches end on their own or at the drain timeout. Accepted sockets get
/// TCP_NODELAY and a modest send buffer. With `metrics_bind` set, `/metrics` is served there too.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let drained = drain_on(
        shutdown,
        state.drain.clone(),
        state.registry.clone(),
        state.config.drain_timeout,
    );
    if let Some(budget) = state.http_budget.clone() {
        tokio::spawn(rate_limit::forget_quiet(budget));
    }
    if let Some(addr) = state.config.metrics_bind {
        let metrics_listener = TcpListener::bind(addr).await?;
        tokio::spawn(axum::serve(metrics_listener, metrics_app(state.clone())).into_future());
    }
    let limits = HttpLimits {
        send_buffer: state.config.socket_send_buffer,
        header_read_timeout: state.config.header_read_timeout,
        max_header_bytes: state.config.max_header_bytes,
        handshake_timeout: state.config.handshake_timeout,
    };
    let tls = state.tls.clone();
    let slots = state.connection_slots.clone();
    let all = state.config.max_connections;
    let metrics = state.metrics.clone();
    let refused = move || {
        metrics.connections_refused.fetch_add(1, Relaxed);
    };
    crate::listener::serve(
        listener,
        app(state),
        tls,
        limits,
        slots.clone(),
        refused,
        drained,
    )
    .await?;
    // Let sessions finish saying goodbye (MatchEnded, the closing handshake) before returning:
    // every one holds a connection permit until it ends.
    let _ = tokio::time::timeout(SESSIONS_GOODBYE, slots.acquire_many(all)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Arena, DEFAULT_MAP, check_welcome_fits};
    use shared::arena::Point;

    #[test]
    fn a_map_whose_welcome_cannot_be_sent_is_refused() {
        let mut arena = Arena::from_json(DEFAULT_MAP).expect("default map");
        assert!(check_welcome_fits(&arena).is_ok());
        // Spawn points are not capped by the map rules; 20 000 of them make a list well over 64 KiB.
        let spawn = arena.spawns[0];
        arena.spawns = vec![Point { x: 99_000, ..spawn }; 20_000];
        let err = check_welcome_fits(&arena).expect_err("too big");
        assert!(err.contains("Welcome"), "{err}");
    }
}
