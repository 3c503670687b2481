//! The admin API (admin-kind token): inspect matches, change their timing live, end them, kick
//! players, and drain the server. Every change is audit-logged with who made it.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::protocol::EndReason;
use tokio::sync::oneshot;
use tracing::info;

use crate::app::AppState;
use crate::auth::bearer::AdminAuth;
use crate::error::AppError;
use crate::game::messages::{MatchCmd, TimingChange};
use crate::game::report::MatchReport;
use crate::registry::MatchHandle;

/// A match answers within a tick; at 1 Hz that is a second.
const REPLY_WITHIN: Duration = Duration::from_secs(3);

fn no_such_match() -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "no_such_match", "no such match")
}

fn find(state: &AppState, id: &str) -> Result<std::sync::Arc<MatchHandle>, AppError> {
    state.registry.get(id).ok_or_else(no_such_match)
}

/// Sends a command with a reply channel and waits for the answer (404 if the match is gone).
async fn ask<T>(
    m: &MatchHandle,
    make: impl FnOnce(oneshot::Sender<T>) -> MatchCmd,
) -> Result<T, AppError> {
    let (tx, rx) = oneshot::channel();
    m.inbox.send(make(tx)).await.map_err(|_| no_such_match())?;
    tokio::time::timeout(REPLY_WITHIN, rx)
        .await
        .map_err(|_| {
            AppError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "match_busy",
                "the match did not answer in time",
            )
        })?
        .map_err(|_| no_such_match())
}

/// `GET /v1/admin/matches`: every match's figures.
pub async fn list(
    State(state): State<AppState>,
    AdminAuth(_): AdminAuth,
) -> Json<Vec<MatchReport>> {
    let handles = state.registry.list();
    let asks = handles.iter().map(|m| {
        ask(m, |reply| MatchCmd::Inspect {
            detail: false,
            reply,
        })
    });
    // A match that ended meanwhile is simply left out.
    Json(
        join_all(asks)
            .await
            .into_iter()
            .filter_map(Result::ok)
            .collect(),
    )
}

/// `GET /v1/admin/matches/{id}`: figures plus one line per player.
pub async fn detail(
    State(state): State<AppState>,
    AdminAuth(_): AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<MatchReport>, AppError> {
    let m = find(&state, &id)?;
    ask(&m, |reply| MatchCmd::Inspect {
        detail: true,
        reply,
    })
    .await
    .map(Json)
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct TimingPatch {
    pub tick_rate: Option<u16>,
    pub snapshot_interval: Option<u16>,
}

/// `PATCH /v1/admin/matches/{id}`: new tick rate and/or snapshot interval from the next tick.
pub async fn patch(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(id): Path<String>,
    crate::http::json::JsonBody(body): crate::http::json::JsonBody<TimingPatch>,
) -> Result<Json<MatchReport>, AppError> {
    if body.tick_rate.is_none() && body.snapshot_interval.is_none() {
        return Err(AppError::bad_request(
            "invalid_options",
            "give tick_rate and/or snapshot_interval",
        ));
    }
    let m = find(&state, &id)?;
    let change = TimingChange {
        tick_rate: body.tick_rate,
        snapshot_interval: body.snapshot_interval,
    };
    ask(&m, |reply| MatchCmd::Configure {
        change,
        by: admin.sub.clone(),
        reply,
    })
    .await?
    .map(Json)
    .map_err(|m| AppError::bad_request("invalid_options", m))
}

/// `DELETE /v1/admin/matches/{id}`: ends the match (results are written as usual).
pub async fn end(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let m = find(&state, &id)?;
    let cmd = MatchCmd::End {
        reason: EndReason::Admin,
        by: admin.sub,
    };
    m.inbox.send(cmd).await.map_err(|_| no_such_match())?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "match_id": id, "state": "ending" })),
    ))
}

/// `DELETE /v1/admin/matches/{id}/players/{entity}`: kicks a player (close 4003).
pub async fn kick(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path((id, entity)): Path<(String, u32)>,
) -> Result<StatusCode, AppError> {
    let m = find(&state, &id)?;
    let kicked = ask(&m, |reply| MatchCmd::Kick {
        entity,
        by: admin.sub.clone(),
        reply,
    })
    .await?;
    if kicked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::new(
            StatusCode::NOT_FOUND,
            "no_such_player",
            "no such player in the match",
        ))
    }
}

/// `POST /v1/admin/drain`: starts a graceful drain, as SIGTERM does.
pub async fn drain(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> (StatusCode, Json<Value>) {
    if state.drain.start() {
        info!(target: "tickwire::audit", admin = %admin.sub, "drain requested");
    }
    (StatusCode::ACCEPTED, Json(json!({ "state": "draining" })))
}
