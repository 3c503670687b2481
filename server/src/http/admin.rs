//! The admin API (admin-kind token): inspect matches, change their timing live, end them, kick
//! players, and drain the server. Every change is audit-logged with who made it.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde::Deserialize;
use shared::api::Accepted;
use shared::protocol::EndReason;
use tokio::sync::oneshot;
use tracing::info;

use crate::error::AppError;
use crate::game::messages::{Command, MatchCmd, Reply, TimingChange};
use crate::game::report::MatchReport;
use crate::http::bearer::AdminAuth;
use crate::http::path::{ApiPath, ApiQuery};
use crate::registry::MatchHandle;
use crate::state::AppState;

/// A match answers within a tick; at 1 Hz that is a second.
const REPLY_WITHIN: Duration = Duration::from_secs(3);

fn find(state: &AppState, id: &str) -> Result<std::sync::Arc<MatchHandle>, AppError> {
    state.registry.get(id).ok_or_else(AppError::no_such_match)
}

/// Sends a command with a reply channel and waits for the answer (404 if the match is gone).
async fn ask<T>(
    m: &MatchHandle,
    make: impl FnOnce(oneshot::Sender<T>) -> MatchCmd,
) -> Result<T, AppError> {
    let (tx, rx) = oneshot::channel();
    m.inbox
        .send(make(tx))
        .await
        .map_err(|_| AppError::no_such_match())?;
    tokio::time::timeout(REPLY_WITHIN, rx)
        .await
        .map_err(|_| {
            AppError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "match_busy",
                "the match did not answer in time",
            )
        })?
        .map_err(|_| AppError::no_such_match())
}

/// Applies a change at the match's next tick and waits for what it did.
async fn apply(
    m: &MatchHandle,
    cmd: Command<crate::game::session_link::SessionLink>,
) -> Result<Reply, AppError> {
    ask(m, |reply| MatchCmd::Apply {
        cmd,
        reply: Some(reply),
    })
    .await
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
    ApiPath(id): ApiPath<String>,
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
    ApiPath(id): ApiPath<String>,
    body: Result<crate::http::json::JsonBody<TimingPatch>, AppError>,
) -> Result<Json<MatchReport>, AppError> {
    // A body that is not a timing patch is invalid options, as out-of-range values are.
    let crate::http::json::JsonBody(body) =
        body.map_err(|e| AppError::new(e.status, "invalid_options", e.message))?;
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
    let cmd = Command::Configure {
        change,
        by: admin.sub.clone(),
    };
    match apply(&m, cmd).await? {
        Reply::Configured(applied) => Ok(Json(*applied?)),
        // The core answers a timing change with `Configured`; anything else is a server bug.
        other => Err(AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("unexpected answer to a timing change: {other:?}"),
        )),
    }
}

/// `DELETE /v1/admin/matches/{id}`: ends the match (results are written as usual).
pub async fn end(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    let m = find(&state, &id)?;
    let cmd = MatchCmd::apply(Command::End {
        reason: EndReason::Admin,
        by: admin.sub,
    });
    m.inbox
        .send(cmd)
        .await
        .map_err(|_| AppError::no_such_match())?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            match_id: Some(id),
            state: "ending".into(),
        }),
    ))
}

/// How long a kicked player (and their address) may not rejoin the match, unless `ban` says.
pub const DEFAULT_KICK_BAN: Duration = Duration::from_secs(300);
/// The longest ban a kick may give.
pub const MAX_KICK_BAN: Duration = Duration::from_secs(7 * 86_400);

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct KickParams {
    /// A duration such as `"30s"`, `"10m"`; `"0s"` kicks without a ban.
    pub ban: Option<String>,
}

/// `DELETE /v1/admin/matches/{id}/players/{entity}?ban=DURATION`: kicks a player (close 4003)
/// and bans them and their address from the match for `ban` (default 5 minutes).
pub async fn kick(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath((id, entity)): ApiPath<(String, u32)>,
    ApiQuery(params): ApiQuery<KickParams>,
) -> Result<StatusCode, AppError> {
    let ban = match params.ban.as_deref() {
        None => DEFAULT_KICK_BAN,
        Some(text) => crate::config::duration::parse(text)
            .ok()
            .filter(|d| *d <= MAX_KICK_BAN)
            .ok_or_else(|| {
                AppError::bad_request(
                    "bad_request",
                    format!("ban = {text:?}: give a duration such as \"10m\", at most 7 days"),
                )
            })?,
    };
    let m = find(&state, &id)?;
    let cmd = Command::Kick {
        entity: shared::ids::NetId(entity),
        ban,
        by: admin.sub.clone(),
    };
    let kicked = matches!(apply(&m, cmd).await?, Reply::Kicked(true));
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
) -> (StatusCode, Json<Accepted>) {
    if state.drain.start() {
        info!(target: "tickwire::audit", admin = %admin.sub, "drain requested");
    }
    // In a cluster, the answer comes once Redis says this node is draining: from then on no
    // node places players here. (If Redis is away, the next refresh that reaches it does.)
    if let Err(e) = crate::node::sync::refresh(&state).await {
        tracing::warn!(error = %e, "draining: could not tell the cluster yet");
    }
    let accepted = Accepted {
        match_id: None,
        state: "draining".into(),
    };
    (StatusCode::ACCEPTED, Json(accepted))
}

/// `POST /v1/admin/spectator-tokens` body.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SpectatorTokenRequest {
    /// Shown to operators in the match detail (the guest name rule applies).
    pub name: String,
}

/// `POST /v1/admin/spectator-tokens`: a spectator-kind token (a caster, a broadcast) that
/// watches any match on this server or cluster, private ones included, and never plays.
pub async fn spectator_token(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    crate::http::json::JsonBody(req): crate::http::json::JsonBody<SpectatorTokenRequest>,
) -> Result<Json<shared::api::GuestLogin>, AppError> {
    let name = crate::http::guest::normalize_name(&req.name)
        .map_err(|m| AppError::bad_request("invalid_name", m))?;
    let id = format!("s_{:016x}", rand::random::<u64>());
    let (token, expires_at) = state
        .auth
        .issue(&id, &name, crate::auth::TokenKind::Spectator)
        .map_err(|_| {
            AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not sign a token",
            )
        })?;
    info!(target: "tickwire::audit", admin = %admin.sub, spectator = %id, name = %name, "spectator token issued");
    Ok(Json(shared::api::GuestLogin {
        token,
        player_id: id,
        expires_at,
    }))
}
