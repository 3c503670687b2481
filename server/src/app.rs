//! The application: the router over every handler, and `serve` (what `main` and tests both
//! run). The state handlers share is in [`crate::state`].

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;

use crate::address_budget;
use crate::drain::drain_on;
use crate::error::AppError;
use crate::http::{
    admin, cluster, console, deadline, guest, health, matches, recordings, security_headers, web,
};
use crate::listener::HttpLimits;
use crate::session::upgrade::ws_handler;

pub use crate::state::{AppState, DEFAULT_MAP};

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
        creating = creating.route_layer(address_budget::layer(budget.clone()));
    }
    // Reads of the listings have a budget of their own (GET only; the one above is POST only).
    if let Some(budget) = &state.read_budget {
        creating = creating.route_layer(address_budget::layer(budget.clone()));
    }
    let mut reads = Router::new().route("/v1/matches/{id}", get(matches::one));
    if let Some(budget) = &state.read_budget {
        reads = reads.route_layer(address_budget::layer(budget.clone()));
    }
    // WebSocket handshakes have a budget of their own: a reconnect loop cannot make 400
    // upgrades a second, and a matchmake does not use up the handshake that follows it.
    let mut handshakes = Router::new().route("/v1/ws", get(ws_handler));
    if let Some(budget) = &state.handshake_budget {
        handshakes = handshakes.route_layer(address_budget::layer(budget.clone()));
    }
    // Actions on one match: answered by the node that runs it (routed there in a cluster).
    let one_match = Router::new()
        .route(
            "/v1/admin/matches/{id}",
            get(admin::detail).patch(admin::patch).delete(admin::end),
        )
        .route(
            "/v1/admin/matches/{id}/players/{entity}",
            delete(admin::kick),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cluster::route_to_owner,
        ));
    let mut router = Router::new()
        .route("/", get(web::index))
        .route("/replay", get(web::replay))
        .route("/style.css", get(web::styles))
        .route("/js/{file}", get(web::module))
        .route("/sdk/{file}", get(web::sdk_module))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/admin", get(console::page))
        .route("/admin.js", get(console::script))
        .route("/admin.css", get(console::styles))
        .route("/v1/admin/matches", get(admin::list))
        .route("/v1/admin/drain", post(admin::drain))
        .route("/v1/admin/spectator-tokens", post(admin::spectator_token))
        .route("/v1/admin/recordings", get(recordings::list))
        .route(
            "/v1/admin/recordings/{id}",
            get(recordings::download).delete(recordings::delete),
        )
        .route(
            "/v1/admin/recordings/{id}/replay",
            get(recordings::replay_stream),
        )
        .route("/v1/admin/cluster", get(cluster::admin_view))
        .route("/v1/cluster/matches", post(cluster::create_for))
        .merge(one_match)
        .merge(handshakes)
        .merge(reads)
        .merge(creating);
    // With its own address (`metrics_bind`, e.g. an internal interface), /metrics is served
    // only there; without one it stays here, as on the default loopback bind.
    if state.config.metrics_bind.is_none() {
        router = router.route("/metrics", get(health::metrics));
    }
    let policies = security_headers::Policies::new(
        state.config.public_url.as_deref(),
        &state.config.connect_src,
    );
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
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state
        .join_cluster(listener.local_addr()?)
        .map_err(std::io::Error::other)?;
    let (stopped, stop) = tokio::sync::oneshot::channel::<()>();
    let membership = tokio::spawn(crate::node::sync::run(state.clone(), async {
        let _ = stop.await;
    }));
    let drained = drain_on(
        shutdown,
        state.drain.clone(),
        state.registry.clone(),
        state.config.drain_timeout,
    );
    if let Some(budget) = state.http_budget.clone() {
        tokio::spawn(address_budget::forget_quiet(budget));
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
        write_timeout: state.config.write_timeout,
    };
    let tls = state.tls.clone();
    let places = state.places.clone();
    let sessions = state.metrics.clone();
    let metrics = state.metrics.clone();
    let refused = move |why| {
        let counter = match why {
            crate::places::Refused::Full => &metrics.connections_refused,
            crate::places::Refused::Address => &metrics.connections_refused_address,
        };
        counter.fetch_add(1, Relaxed);
    };
    crate::listener::serve(
        listener,
        app(state),
        tls,
        limits,
        places.clone(),
        refused,
        drained,
    )
    .await?;
    // Let WebSocket sessions finish saying goodbye (MatchEnded, the closing handshake) before
    // returning. Idle HTTP keep-alives and lingering sockets are not waited for: they have
    // nothing to say. (Polled: a session ends by decrementing the gauge, nothing to await.)
    let goodbye = async {
        while sessions.connections.load(Relaxed) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let _ = tokio::time::timeout(SESSIONS_GOODBYE, goodbye).await;
    // Leave the cluster at once rather than by expiry.
    let _ = stopped.send(());
    let _ = membership.await;
    Ok(())
}
