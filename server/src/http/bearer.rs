//! Reading a bearer token from a request: the `Authorization` header, or for browsers the
//! WebSocket subprotocol list entry `tickwire.bearer.<jwt>`.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use shared::protocol::BEARER_SUBPROTOCOL_PREFIX;

use crate::auth::{AuthError, Claims, TokenKind};
use crate::error::AppError;
use crate::state::AppState;

/// The token from `Authorization: Bearer <jwt>`, if any.
pub fn from_authorization(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Every entry of every `Sec-WebSocket-Protocol` header, trimmed.
pub fn offered_subprotocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// The token from a `Sec-WebSocket-Protocol` entry `tickwire.bearer.<jwt>`, if any.
pub fn from_subprotocols(headers: &HeaderMap) -> Option<&str> {
    offered_subprotocols(headers).find_map(|p| p.strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
}

/// Verifies the request's bearer token as `kind`. Missing or invalid: 401. Of the other kind:
/// `wrong_kind` (the admin API answers 403: authenticated, not allowed).
fn verified(
    parts: &Parts,
    state: &AppState,
    kind: TokenKind,
    wrong_kind: StatusCode,
) -> Result<Claims, AppError> {
    let token = from_authorization(&parts.headers)
        .ok_or_else(|| AppError::unauthorized("missing bearer token"))?;
    state.auth.verify(token, kind).map_err(|e| match e {
        AuthError::WrongKind if wrong_kind == StatusCode::FORBIDDEN => AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            if kind == TokenKind::Node {
                "a node token is required"
            } else {
                "an admin token is required"
            },
        ),
        e => AppError::unauthorized(e.to_string()),
    })
}

/// A request made with a valid player token.
#[derive(Debug)]
pub struct PlayerAuth(pub Claims);

impl FromRequestParts<AppState> for PlayerAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        verified(parts, state, TokenKind::Player, StatusCode::UNAUTHORIZED).map(PlayerAuth)
    }
}

/// A request made with a valid admin token: none or a bad one is 401, a player's is 403.
#[derive(Debug)]
pub struct AdminAuth(pub Claims);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        verified(parts, state, TokenKind::Admin, StatusCode::FORBIDDEN).map(AdminAuth)
    }
}

/// A request from another node of the cluster (a node token, signed with the shared secret).
#[derive(Debug)]
pub struct NodeAuth(pub Claims);

impl FromRequestParts<AppState> for NodeAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        verified(parts, state, TokenKind::Node, StatusCode::FORBIDDEN).map(NodeAuth)
    }
}
