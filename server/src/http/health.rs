//! `/healthz` (alive), `/readyz` (taking players), and `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use shared::api::{Health, HealthStatus};

use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}

/// Whether the server takes new players: 503 while draining.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (code, status) = if state.drain.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, HealthStatus::Draining)
    } else {
        (StatusCode::OK, HealthStatus::Ready)
    };
    (code, Json(Health { status }))
}

/// Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    if let Some(cluster) = &state.cluster {
        cluster.render_metrics(&mut text);
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
