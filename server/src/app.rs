//! The application: shared state, the router, and `serve` (what `main` and tests both run).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use shared::arena::Arena;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::config::Config;
use crate::http::{guest, health, matches};
use crate::metrics::Metrics;
use crate::registry::Registry;
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
    conn_ids: Arc<AtomicU64>,
}

impl AppState {
    /// Builds the state; fails only if the embedded map is invalid.
    pub fn new(config: Config) -> Result<AppState, String> {
        let arena = Arena::from_json(DEFAULT_MAP)?;
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let auth = Arc::new(Auth::new(
            &config.jwt_secret,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.token_lifetime,
        ));
        let registry = Arc::new(Registry::new(config.clone(), metrics.clone(), arena));
        Ok(AppState {
            config,
            auth,
            registry,
            metrics,
            conn_ids: Arc::new(AtomicU64::new(1)),
        })
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.conn_ids.fetch_add(1, Relaxed)
    }
}

/// Request bodies are small JSON objects.
const BODY_LIMIT: usize = 16 * 1024;

/// Every route.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/v1/auth/guest", post(guest::guest_login))
        .route("/v1/matchmake", post(matches::matchmake))
        .route("/v1/matches", post(matches::create).get(matches::list))
        .route("/v1/ws", get(ws_handler))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves until `shutdown` completes. Accepted sockets get TCP_NODELAY and a modest send buffer.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let send_buffer = state.config.socket_send_buffer;
    let listener = listener.tap_io(move |tcp| crate::net::tune(tcp, send_buffer));
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
