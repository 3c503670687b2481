//! JWT issue and verify: HS256 (and a configured external RS256/ES256 key), with `iss`, `aud`,
//! `exp`, `nbf`, `crit` and a token kind checked.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token lets its bearer do; a token of one kind is never accepted as the other.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Player,
    Admin,
    /// One cluster node calling another (creating a match there); minted per call, HS256 only.
    Node,
    /// Watches matches and never plays (a caster, a broadcast): joins every match as a
    /// spectator, private ones included. Minted by the admin API.
    Spectator,
}

/// The claims Tickwire puts in and expects of a token.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Player id (or admin name).
    pub sub: String,
    /// Display name.
    pub name: String,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    pub kind: TokenKind,
}

/// Why a token was refused. The message never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    TooLong,
    /// Bad signature, algorithm, expiry, issuer, audience or shape.
    Invalid(String),
    WrongKind,
}

impl AuthError {
    /// The handshake rejection this is (for the answer's status and the metrics).
    pub fn rejection(&self) -> shared::api::Rejection {
        use shared::api::Rejection;
        match self {
            AuthError::Missing => Rejection::TokenMissing,
            AuthError::TooLong => Rejection::TokenTooLong,
            AuthError::Invalid(_) => Rejection::TokenInvalid,
            AuthError::WrongKind => Rejection::TokenWrongKind,
        }
    }
}

impl std::error::Error for AuthError {}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::Missing => write!(f, "no bearer token"),
            AuthError::TooLong => write!(f, "token too long"),
            AuthError::Invalid(why) => write!(f, "invalid token: {why}"),
            AuthError::WrongKind => write!(f, "token of the wrong kind"),
        }
    }
}

/// Longest token accepted; real ones are a few hundred bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 5;
/// Clock skew allowed on `iat`: wider, as a token minted by another node (or an external
/// issuer) a few seconds ahead of this clock must not turn a new player away.
const IAT_LEEWAY_SECS: u64 = 60;
/// Node tokens are minted per call and used at once: issued for a minute, accepted for at most
/// five (a slow clock between nodes), so a leaked one is soon worthless.
const NODE_LIFETIME: Duration = Duration::from_secs(60);
const NODE_MAX_LIFETIME: Duration = Duration::from_secs(300);
/// The longest `exp - iat` accepted for player, spectator and admin tokens when the configured
/// `token_lifetime` is shorter: an external issuer may mint a day's tokens, never a century's.
pub const MAX_LIFETIME: Duration = Duration::from_secs(86_400);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs tokens with the HS256 secret; verifies HS256 tokens with it and, when configured,
/// RS256 or ES256 tokens from an external issuer with its public key. A token's algorithm picks
/// the key, so an HS256 token can never be checked against the public key.
pub struct Auth {
    encoding: EncodingKey,
    hs256: DecodingKey,
    external: Option<(Algorithm, DecodingKey)>,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime: Duration,
}

impl Auth {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, lifetime: Duration) -> Auth {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Auth {
            encoding: EncodingKey::from_secret(secret),
            hs256: DecodingKey::from_secret(secret),
            external: None,
            validation,
            issuer: issuer.into(),
            audience: audience.into(),
            lifetime,
        }
    }

    /// Also accepts player tokens signed by an external issuer: RS256 for an RSA public key,
    /// ES256 for an EC (P-256) one. The error says why the PEM was refused.
    pub fn with_public_key(mut self, pem: &[u8]) -> Result<Auth, String> {
        let external = match DecodingKey::from_rsa_pem(pem) {
            Ok(key) => (Algorithm::RS256, key),
            Err(_) => DecodingKey::from_ec_pem(pem)
                .map(|key| (Algorithm::ES256, key))
                .map_err(|e| {
                    format!("jwt_public_key_file: not an RSA or EC public key in PEM: {e}")
                })?,
        };
        self.external = Some(external);
        Ok(self)
    }

    /// Signs a token for `sub`; returns it and its expiry (Unix seconds).
    pub fn issue(
        &self,
        sub: &str,
        name: &str,
        kind: TokenKind,
    ) -> Result<(String, u64), AuthError> {
        let now = unix_now();
        let lifetime = match kind {
            TokenKind::Node => NODE_LIFETIME.min(self.lifetime),
            _ => self.lifetime,
        };
        let claims = Claims {
            sub: sub.into(),
            name: name.into(),
            iat: now,
            exp: now + lifetime.as_secs(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            kind,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok((token, claims.exp))
    }

    /// Checks `token` and that it is of `kind`. Admin tokens must be HS256 (minted here).
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, AuthError> {
        self.verify_any(token, &[kind])
    }

    /// Checks `token` and that it is of one of `kinds`; an external issuer's key signs player
    /// and spectator tokens only.
    pub fn verify_any(&self, token: &str, kinds: &[TokenKind]) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let invalid =
            |e: jsonwebtoken::errors::Error| AuthError::Invalid(format!("{:?}", e.kind()));
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        // RFC 7515 §4.1.11: extensions listed in `crit` must be understood, and this server
        // understands none, so any `crit` (even an empty list, which RFC forbids) is refused.
        if header.crit.is_some() {
            return Err(AuthError::Invalid("crit: extensions not understood".into()));
        }
        let key = match (&self.external, header.alg) {
            (_, Algorithm::HS256) => &self.hs256,
            (Some((alg, key)), a)
                if a == *alg
                    && kinds
                        .iter()
                        .all(|k| matches!(k, TokenKind::Player | TokenKind::Spectator)) =>
            {
                key
            }
            _ => return Err(AuthError::Invalid("algorithm not allowed".into())),
        };
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(invalid)?;
        if !kinds.contains(&data.claims.kind) {
            return Err(AuthError::WrongKind);
        }
        self.check_lifetime(&data.claims)?;
        Ok(data.claims)
    }

    /// The longest lifetime (`exp - iat`) accepted for a token of `kind`.
    pub fn max_lifetime(&self, kind: TokenKind) -> Duration {
        match kind {
            TokenKind::Node => NODE_MAX_LIFETIME,
            _ => self.lifetime.max(MAX_LIFETIME),
        }
    }

    /// Refuses a token issued in the future or for longer than its kind may live (RFC 8725
    /// §3.10 leaves lifetimes to the application; OWASP: short-lived tokens).
    fn check_lifetime(&self, c: &Claims) -> Result<(), AuthError> {
        if c.iat > unix_now() + IAT_LEEWAY_SECS {
            return Err(AuthError::Invalid("iat is in the future".into()));
        }
        let max = self.max_lifetime(c.kind).as_secs();
        if c.exp.saturating_sub(c.iat) > max {
            return Err(AuthError::Invalid(format!(
                "lifetime (exp - iat) over {max} s, the most a {:?} token may have",
                c.kind
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(secret: &[u8]) -> Auth {
        Auth::new(secret, "tickwire", "tickwire", Duration::from_secs(60))
    }

    #[test]
    fn issued_tokens_verify_for_their_kind_only() {
        let a = auth(&[7; 32]);
        let (token, _) = a.issue("p1", "ada", TokenKind::Player).expect("sign");
        assert_eq!(
            a.verify(&token, TokenKind::Player).map(|c| c.sub),
            Ok("p1".into())
        );
        assert_eq!(
            a.verify(&token, TokenKind::Admin),
            Err(AuthError::WrongKind)
        );
        assert!(auth(&[8; 32]).verify(&token, TokenKind::Player).is_err());
    }

    fn signed(secret: &[u8], iat: u64, exp: u64, kind: TokenKind) -> String {
        let claims = Claims {
            sub: "p1".into(),
            name: "ada".into(),
            iat,
            exp,
            iss: "tickwire".into(),
            aud: "tickwire".into(),
            kind,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .expect("sign")
    }

    #[test]
    fn lifetimes_are_capped_per_kind_and_iat_is_not_in_the_future() {
        let a = auth(&[7; 32]);
        let now = unix_now();
        let day = MAX_LIFETIME.as_secs();
        let ok = signed(&[7; 32], now, now + day, TokenKind::Player);
        assert!(a.verify(&ok, TokenKind::Player).is_ok());
        let century = signed(&[7; 32], now, now + 100 * 365 * day, TokenKind::Player);
        assert!(matches!(
            a.verify(&century, TokenKind::Player),
            Err(AuthError::Invalid(why)) if why.contains("lifetime")
        ));
        let future = signed(&[7; 32], now + 3600, now + 7200, TokenKind::Player);
        assert!(matches!(
            a.verify(&future, TokenKind::Player),
            Err(AuthError::Invalid(why)) if why.contains("iat")
        ));
        // A node token lives minutes, not a day.
        let node = signed(&[7; 32], now, now + 3600, TokenKind::Node);
        assert!(a.verify(&node, TokenKind::Node).is_err());
        let (minted, exp) = a.issue("node:a", "a", TokenKind::Node).expect("sign");
        assert!(exp <= now + 60 + 1);
        assert!(a.verify(&minted, TokenKind::Node).is_ok());
    }
}
