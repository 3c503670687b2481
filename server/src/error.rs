//! `AppError`: the one HTTP error shape, `{"error": code, "message": text}`, hiding internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An HTTP error with a stable machine-readable code.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 503 while the server drains.
    pub fn draining() -> AppError {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "the server is shutting down and takes no new players",
        )
    }

    /// 429: the address already holds `max_connections_per_ip` places (connections,
    /// reservations, held players).
    pub fn too_many_from_address() -> AppError {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections_from_address",
            "this address already holds as many seats as it may",
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}
