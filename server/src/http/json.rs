//! `JsonBody<T>`: axum's `Json` extractor with its rejections turned into `AppError`s: 400
//! `bad_request` for any body that is not the JSON the route takes (413 when over the limit).
//! `OptionsBody<T>`: the same for match options, where valid JSON that is not the options (an
//! unknown key, a wrong type) is 400 `invalid_options`, serde's text naming the field.

use axum::Json;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON request body; a bad one is a 400 in the usual error shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// The status for a rejected body: 413 stays, 415 (no JSON content type) stays, anything else
/// (syntax, wrong types, unknown fields: axum says 400 or 422) is 400.
fn status_for(e: &axum::extract::rejection::JsonRejection) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match e.status() {
        s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A JSON body of match options: as [`JsonBody`], but JSON that is not the options is
/// `invalid_options`, as an out-of-range value is (docs/protocol.md, `POST /v1/matches`).
#[derive(Debug)]
pub struct OptionsBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionsBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(OptionsBody(v)),
            Err(e @ JsonRejection::JsonDataError(_)) => {
                Err(AppError::bad_request("invalid_options", e.body_text()))
            }
            Err(e) => Err(AppError::new(status_for(&e), "bad_request", e.body_text())),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(e) => Err(AppError::new(status_for(&e), "bad_request", e.body_text())),
        }
    }
}
