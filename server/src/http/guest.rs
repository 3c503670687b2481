//! `POST /v1/auth/guest`: a player token for a chosen display name.

use axum::Json;
use axum::extract::State;
use shared::api::{GuestLogin, GuestRequest};

use crate::auth::TokenKind;
use crate::error::AppError;
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Longest display name, in characters (after normalization).
pub const MAX_NAME_CHARS: usize = 16;

/// Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt, Unicode 16):
/// characters that render as nothing, such as the Hangul fillers U+3164 and U+1160 (which are
/// letters, so "alphanumeric" alone lets them through), zero-width spaces and joiners,
/// bidirectional controls and variation selectors.
const INVISIBLE: [(char, char); 17] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

fn is_invisible(c: char) -> bool {
    INVISIBLE.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
}

/// The name as it will be shown: NFC-normalized, then checked. 1..=16 characters of letters,
/// digits, space, `_`, `-` or `.`; none invisible (Default_Ignorable_Code_Point); at least
/// one that is not a space; no leading or trailing space.
pub fn normalize_name(name: &str) -> Result<String, String> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.nfc().collect();
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
        .find(|c| is_invisible(*c) || !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
    {
        return Err(format!("name may not contain {c:?}"));
    }
    Ok(name)
}

pub async fn guest_login(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<GuestRequest>,
) -> Result<Json<GuestLogin>, AppError> {
    if !state.config.guest_login {
        return Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            "guest_login_disabled",
            "guest login is turned off on this server",
        ));
    }
    let name = normalize_name(&req.name).map_err(|m| AppError::bad_request("invalid_name", m))?;
    let player_id = format!("g_{:016x}", rand::random::<u64>());
    let (token, expires_at) = state
        .auth
        .issue(&player_id, &name, TokenKind::Player)
        .map_err(|_| {
            AppError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not sign a token",
            )
        })?;
    Ok(Json(GuestLogin {
        token,
        player_id,
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::normalize_name;

    #[test]
    fn names() {
        assert_eq!(normalize_name("Ada_L. 2").as_deref(), Ok("Ada_L. 2"));
        assert!(normalize_name("").is_err());
        assert!(normalize_name(" ada").is_err());
        assert!(normalize_name("a<script>").is_err());
        assert!(normalize_name(&"x".repeat(17)).is_err());
    }

    #[test]
    fn invisible_names_are_refused() {
        for name in [
            "\u{3164}",
            "\u{1160}\u{1160}",
            "a\u{200B}b",
            "\u{FFA0}",
            "x\u{FE0F}",
            "\u{202E}abc",
        ] {
            assert!(normalize_name(name).is_err(), "{name:?} accepted");
        }
    }

    #[test]
    fn names_are_normalized_to_nfc() {
        // "é" as e + combining acute (two code points) becomes the one code point U+00E9, so
        // the two spellings are one name and the combining mark is no longer a separate char.
        assert_eq!(
            normalize_name("Ame\u{301}lie").as_deref(),
            Ok("Am\u{E9}lie")
        );
    }
}
