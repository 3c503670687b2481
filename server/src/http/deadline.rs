//! Every request has a deadline (`request_timeout`): a body trickled a byte at a time, or a
//! handler that hangs, ends with 408 and the connection closed, in the usual error shape.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONNECTION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// Runs the rest of the stack for `req` (reading its body included) within `timeout`.
/// WebSocket handshakes answer at once; the connection after the 101 is not a request.
pub async fn within(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            let err = AppError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("the request took longer than {timeout:?}"),
            );
            // What is left of the body is never read: this connection cannot carry another.
            ([(CONNECTION, "close")], err).into_response()
        }
    }
}
