//! `AppError`: the one HTTP error shape, [`shared::api::ErrorBody`], hiding internals. The
//! errors handlers meet convert into it with `?`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::api::{ErrorBody, Rejection};

use crate::auth::AuthError;
use crate::cluster::ClusterError;
use crate::game::messages::TimingError;
use crate::game::options::InvalidOptions;
use crate::registry::CreateError;

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
        Rejection::Draining.into()
    }

    /// 404 for a match id that names no running match.
    pub fn no_such_match() -> AppError {
        Rejection::NoSuchMatch.into()
    }

    /// A refused handshake with its own message.
    pub fn rejected(why: Rejection, message: impl Into<String>) -> AppError {
        let status = StatusCode::from_u16(why.status()).unwrap_or(StatusCode::BAD_REQUEST);
        AppError::new(status, why.error_code(), message)
    }

    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl From<Rejection> for AppError {
    fn from(why: Rejection) -> AppError {
        AppError::rejected(why, why.message())
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> AppError {
        AppError::rejected(e.rejection(), e.to_string())
    }
}

impl From<CreateError> for AppError {
    fn from(e: CreateError) -> AppError {
        match e {
            CreateError::TooManyMatches => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_matches",
                "the server runs as many matches as it may",
            ),
            CreateError::TooManyCreatedByPlayer => AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_matches_created",
                "you already have as many live matches as you may create",
            ),
            CreateError::TooManyCreatedFromAddress => AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_matches_created",
                "players from this address already have as many live matches as they may create",
            ),
            CreateError::TooManyFromAddress => Rejection::TooManyFromAddress.into(),
        }
    }
}

impl From<ClusterError> for AppError {
    fn from(e: ClusterError) -> AppError {
        match e {
            ClusterError::Redis(_) => Rejection::ClusterUnavailable.into(),
            ClusterError::Node(why) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "node_unavailable",
                format!("no node could start a match: {why}"),
            ),
        }
    }
}

impl From<InvalidOptions> for AppError {
    fn from(e: InvalidOptions) -> AppError {
        AppError::bad_request("invalid_options", e.to_string())
    }
}

impl From<TimingError> for AppError {
    fn from(e: TimingError) -> AppError {
        AppError::bad_request("invalid_options", e.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}
