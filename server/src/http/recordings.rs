//! The recordings of this node's finished matches (admin token): list, download, the replay
//! stream the `/replay` viewer plays, delete.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::error::AppError;
use crate::http::bearer::AdminAuth;
use crate::http::path::ApiPath;
use crate::record::store::{self, RecordingSummary};
use crate::state::AppState;

fn dir(state: &AppState) -> Result<PathBuf, AppError> {
    state.config.record_dir.clone().ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            "recording_off",
            "this server does not record matches (record_dir is not set)",
        )
    })
}

fn no_such_recording() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "no_such_recording",
        "no finished recording of that match",
    )
}

fn io_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "recording_unreadable",
        format!("the recordings cannot be read: {e}"),
    )
}

async fn read(state: &AppState, id: &str) -> Result<Vec<u8>, AppError> {
    let path = store::path_of(&dir(state)?, id).ok_or_else(no_such_recording)?;
    tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(io_error)?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => no_such_recording(),
            _ => io_error(e),
        })
}

fn binary(bytes: Vec<u8>, file_name: Option<String>) -> Response {
    let mut res = (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response();
    if let Some(name) = file_name
        && let Ok(v) = format!("attachment; filename=\"{name}\"").parse()
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `GET /v1/admin/recordings` answer.
#[derive(Serialize, Debug)]
pub struct RecordingList {
    /// Whether this node records matches (`record_dir` is set).
    pub enabled: bool,
    /// Finished recordings, newest first.
    pub recordings: Vec<RecordingSummary>,
}

/// `GET /v1/admin/recordings`: this node's finished recordings, newest first (`enabled:
/// false` and none when it does not record, as the cluster view does without a cluster).
pub async fn list(
    State(state): State<AppState>,
    AdminAuth(_): AdminAuth,
) -> Result<Json<RecordingList>, AppError> {
    let Some(dir) = state.config.record_dir.clone() else {
        return Ok(Json(RecordingList {
            enabled: false,
            recordings: Vec::new(),
        }));
    };
    let recordings = tokio::task::spawn_blocking(move || store::list(&dir))
        .await
        .map_err(io_error)?
        .map_err(io_error)?;
    Ok(Json(RecordingList {
        enabled: true,
        recordings,
    }))
}

/// `GET /v1/admin/recordings/{id}`: the recording file itself.
pub async fn download(
    State(state): State<AppState>,
    AdminAuth(_): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, AppError> {
    let bytes = read(&state, &id).await?;
    let name = format!("{id}.{}", crate::record::store::EXTENSION);
    Ok(binary(bytes, Some(name)))
}

/// `GET /v1/admin/recordings/{id}/replay`: the recording run again, as the stream the viewer
/// plays (422 if it does not replay to its own hashes and results).
pub async fn replay_stream(
    State(state): State<AppState>,
    AdminAuth(_): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, AppError> {
    // At most two builds at once: each runs a whole match again on a blocking thread.
    let Ok(building) = state.replay_builds.clone().try_acquire_owned() else {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "replay_busy",
            "two replays are being built already; try again shortly",
        ));
    };
    let bytes = read(&state, &id).await?;
    // The header and the first chunk are checked before the answer starts, so a recording
    // that does not open is a 422; one that diverges later cuts the stream off (the viewer
    // reports an incomplete stream).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, String>>(4);
    tokio::task::spawn_blocking(move || {
        let _building = building;
        let done =
            crate::replay::stream::build_into(&bytes, |chunk| tx.blocking_send(Ok(chunk)).is_ok());
        if let Err(e) = done {
            let _ = tx.blocking_send(Err(e.to_string()));
        }
    });
    let first = match rx.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "recording_diverges",
                format!("the recording does not replay: {e}"),
            ));
        }
        None => return Err(io_error(std::io::Error::other("the replay stopped"))),
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map_err(std::io::Error::other), rx))
    });
    let body = futures_util::stream::once(async { Ok::<_, std::io::Error>(first) })
        .chain(rest)
        .map_ok(axum::body::Bytes::from);
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from_stream(body),
    )
        .into_response())
}

/// `DELETE /v1/admin/recordings/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    let path = store::path_of(&dir(&state)?, &id).ok_or_else(no_such_recording)?;
    tokio::task::spawn_blocking(move || std::fs::remove_file(path))
        .await
        .map_err(io_error)?
        .map_err(io_error)?;
    tracing::info!(target: "tickwire::audit", admin = %admin.sub, match_id = %id, "recording deleted");
    Ok(StatusCode::NO_CONTENT)
}
