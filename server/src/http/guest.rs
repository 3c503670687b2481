//! `POST /v1/auth/guest`: a player token for a chosen display name.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::TokenKind;
use crate::error::AppError;
use crate::http::json::JsonBody;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct GuestRequest {
    pub name: String,
}

#[derive(Serialize, Debug)]
pub struct GuestResponse {
    pub token: String,
    pub player_id: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 16;

/// 1..=16 characters of letters, digits, space, `_`, `-` or `.`, not starting or ending with a
/// space.
pub fn validate_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!(
            "name must be 1..={MAX_NAME_CHARS} characters, got {chars}"
        ));
    }
    if name.trim() != name {
        return Err("name must not start or end with spaces".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
    {
        return Err(format!("name may not contain {c:?}"));
    }
    Ok(())
}

pub async fn guest_login(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<GuestRequest>,
) -> Result<Json<GuestResponse>, AppError> {
    if !state.config.guest_login {
        return Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            "guest_login_disabled",
            "guest login is turned off on this server",
        ));
    }
    validate_name(&req.name).map_err(|m| AppError::bad_request("invalid_name", m))?;
    let player_id = format!("g_{:016x}", rand::random::<u64>());
    let (token, expires_at) = state
        .auth
        .issue(&player_id, &req.name, TokenKind::Player)
        .map_err(|_| {
            AppError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not sign a token",
            )
        })?;
    Ok(Json(GuestResponse {
        token,
        player_id,
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names() {
        assert!(validate_name("Ada_L. 2").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name(" ada").is_err());
        assert!(validate_name("a<script>").is_err());
        assert!(validate_name(&"x".repeat(17)).is_err());
    }
}
