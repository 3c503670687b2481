//! The HTTP API's contract: every JSON body the server sends or accepts on the player routes,
//! the one error body, and the reasons a WebSocket handshake is refused. The server serializes
//! these types and clients deserialize the same ones, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

/// `POST /v1/auth/guest` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GuestRequest {
    /// A display name: 1–16 characters after NFC normalization, no invisible characters.
    pub name: String,
}

/// `POST /v1/auth/guest` answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct GuestLogin {
    /// A player-kind JWT.
    pub token: String,
    pub player_id: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// `POST /v1/matches` body; every field optional (server defaults fill the gaps).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MatchOptionsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_players: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick_rate: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_interval: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_limit: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit_secs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matchmaking: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    /// A map name: `arena` (2000 × 2000), `large` (8000 × 8000), or `file` (the server's
    /// `map_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    /// Radius of each player's area of interest in world units; 0 replicates everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interest_radius: Option<u32>,
    /// How far back a shot may be tested against what its shooter saw, ms; 0 turns lag
    /// compensation off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_compensation_ms: Option<u16>,
    /// Spectators allowed at once (0: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_spectators: Option<u16>,
    /// How far behind the match spectators watch, ms (0: live), so they cannot be used to
    /// ghost in competitive matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectator_delay_ms: Option<u32>,
}

/// Where to connect for a match: the answer of `POST /v1/matchmake` and `POST /v1/matches`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MatchTicket {
    pub match_id: String,
    /// The WebSocket URL to open, ticket included for a private match's creator.
    pub ws_url: String,
    /// A private match's join ticket (creator only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The match as created (`POST /v1/matches` only).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<MatchSummary>,
}

/// Whether a listed match still runs.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MatchState {
    Running,
    Ended,
}

/// One line of `GET /v1/matches`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MatchSummary {
    pub id: String,
    /// Players holding seats (connected, or within their reconnect grace).
    pub players: u32,
    pub capacity: u16,
    pub tick_rate: u16,
    pub snapshot_interval: u16,
    pub tick: u32,
    pub state: MatchState,
    pub matchmaking: bool,
    pub private: bool,
    /// In a cluster: the id of the node that runs the match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Where to connect to this match (no ticket): set by `GET /v1/matches/{id}` and in a
    /// cluster's listings, so a client can find its match again after a drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_url: Option<String>,
}

/// Every error answer: a stable machine-readable `error` code and a human `message`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// `/healthz` and `/readyz` answer.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub status: HealthStatus,
}

/// What `/healthz` (`ok`) and `/readyz` (`ready`, or `draining` with 503) say.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Ready,
    Draining,
}

/// The answer of an admin action that completes later (`202 Accepted`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_id: Option<String>,
    /// `ending` (a match was told to end) or `draining` (the server drains).
    pub state: String,
}

/// Why a WebSocket handshake (`GET /v1/ws`) was refused before the upgrade: each has an HTTP
/// status, the `error` code of its [`ErrorBody`], and a label in the server's
/// `tickwire_handshakes_rejected_total` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// The server is draining and takes no new players.
    Draining,
    /// The address already holds `max_connections_per_ip` places.
    TooManyFromAddress,
    /// A browser's Origin is neither the server's nor an allowed one.
    OriginNotAllowed,
    /// No token in `Authorization` or `Sec-WebSocket-Protocol`.
    TokenMissing,
    /// The token is longer than any the server issues.
    TokenTooLong,
    /// Bad signature, expired, wrong issuer or audience, or an unknown critical header.
    TokenInvalid,
    /// An admin token where a player token is needed.
    TokenWrongKind,
    /// No `?match=ID`, or a malformed query.
    BadRequest,
    NoSuchMatch,
    MatchFull,
    /// `spectate=1` (or a spectator token) when the match already has `max_spectators`.
    SpectatorsFull,
    /// Kicked with a ban that has not run out.
    Banned,
    /// A private match, without its ticket or a reservation.
    TicketRequired,
    /// A cluster node cannot reach Redis, so it cannot give a new seat (players already
    /// holding one get back in).
    ClusterUnavailable,
    /// `Sec-WebSocket-Protocol` offers `tickwire.*` versions but not the server's
    /// ([`crate::protocol::SUBPROTOCOL`]): the client would misread every frame.
    UnsupportedProtocol,
    /// `spectate=1` with a player token from an address that already holds its share of the
    /// match's spectator places (an eighth of `max_spectators`, at least two).
    SpectatorsFromAddress,
    /// `spectate=1` with a player token that holds a seat (or a reservation) in the match: a
    /// player may not watch the match they play in.
    PlayingInMatch,
    /// The client sent bytes after its upgrade request before the 101 (RFC 6455 §4.1: a
    /// client waits for the server's answer before it sends anything more).
    DataBeforeUpgrade,
}

impl Rejection {
    /// Every rejection, in the order the metrics list them.
    pub const ALL: [Rejection; 18] = [
        Rejection::Draining,
        Rejection::TooManyFromAddress,
        Rejection::OriginNotAllowed,
        Rejection::TokenMissing,
        Rejection::TokenTooLong,
        Rejection::TokenInvalid,
        Rejection::TokenWrongKind,
        Rejection::BadRequest,
        Rejection::NoSuchMatch,
        Rejection::MatchFull,
        Rejection::SpectatorsFull,
        Rejection::Banned,
        Rejection::TicketRequired,
        Rejection::ClusterUnavailable,
        Rejection::UnsupportedProtocol,
        Rejection::SpectatorsFromAddress,
        Rejection::PlayingInMatch,
        Rejection::DataBeforeUpgrade,
    ];

    /// The HTTP status of the refusal.
    pub const fn status(self) -> u16 {
        match self {
            Rejection::Draining | Rejection::ClusterUnavailable => 503,
            Rejection::TooManyFromAddress | Rejection::SpectatorsFromAddress => 429,
            Rejection::OriginNotAllowed
            | Rejection::Banned
            | Rejection::TicketRequired
            | Rejection::PlayingInMatch => 403,
            Rejection::TokenMissing
            | Rejection::TokenTooLong
            | Rejection::TokenInvalid
            | Rejection::TokenWrongKind => 401,
            Rejection::BadRequest
            | Rejection::UnsupportedProtocol
            | Rejection::DataBeforeUpgrade => 400,
            Rejection::NoSuchMatch => 404,
            Rejection::MatchFull | Rejection::SpectatorsFull => 409,
        }
    }

    /// The `error` field of the answer's [`ErrorBody`].
    pub const fn error_code(self) -> &'static str {
        match self {
            Rejection::Draining => "draining",
            Rejection::TooManyFromAddress => "too_many_connections_from_address",
            Rejection::OriginNotAllowed => "origin_not_allowed",
            Rejection::TokenMissing
            | Rejection::TokenTooLong
            | Rejection::TokenInvalid
            | Rejection::TokenWrongKind => "unauthorized",
            Rejection::BadRequest => "bad_request",
            Rejection::NoSuchMatch => "no_such_match",
            Rejection::MatchFull => "match_full",
            Rejection::SpectatorsFull => "spectators_full",
            Rejection::Banned => "banned",
            Rejection::TicketRequired => "ticket_required",
            Rejection::ClusterUnavailable => "cluster_unavailable",
            Rejection::UnsupportedProtocol => "unsupported_protocol",
            Rejection::SpectatorsFromAddress => "too_many_spectators_from_address",
            Rejection::PlayingInMatch => "playing_in_match",
            Rejection::DataBeforeUpgrade => "data_before_upgrade",
        }
    }

    /// The `reason` label of `tickwire_handshakes_rejected_total`.
    pub const fn label(self) -> &'static str {
        match self {
            Rejection::Draining => "draining",
            Rejection::TooManyFromAddress => "too_many_from_ip",
            Rejection::OriginNotAllowed => "origin_not_allowed",
            Rejection::TokenMissing => "token_missing",
            Rejection::TokenTooLong => "token_too_long",
            Rejection::TokenInvalid => "token_invalid",
            Rejection::TokenWrongKind => "token_wrong_kind",
            Rejection::BadRequest => "bad_request",
            Rejection::NoSuchMatch => "no_such_match",
            Rejection::MatchFull => "match_full",
            Rejection::SpectatorsFull => "spectators_full",
            Rejection::Banned => "banned",
            Rejection::TicketRequired => "ticket_required",
            Rejection::ClusterUnavailable => "cluster_unavailable",
            Rejection::UnsupportedProtocol => "unsupported_protocol",
            Rejection::SpectatorsFromAddress => "spectators_from_ip",
            Rejection::PlayingInMatch => "playing_in_match",
            Rejection::DataBeforeUpgrade => "data_before_upgrade",
        }
    }

    /// The answer's human message (token rejections say more: see the server's auth errors).
    pub const fn message(self) -> &'static str {
        match self {
            Rejection::Draining => "the server is shutting down and takes no new players",
            Rejection::TooManyFromAddress => "this address already holds as many seats as it may",
            Rejection::OriginNotAllowed => "origin not allowed",
            Rejection::TokenMissing => "missing token",
            Rejection::TokenTooLong => "token too long",
            Rejection::TokenInvalid => "invalid token",
            Rejection::TokenWrongKind => "wrong token kind",
            Rejection::BadRequest => "missing ?match=ID",
            Rejection::NoSuchMatch => "no such match",
            Rejection::MatchFull => "the match is full",
            Rejection::SpectatorsFull => "the match has as many spectators as it allows",
            Rejection::Banned => "you were kicked from this match and may not rejoin yet",
            Rejection::TicketRequired => "this match is private: joining it needs its ticket",
            Rejection::ClusterUnavailable => {
                "the cluster's shared state (Redis) is unreachable: no new seats for now, try again shortly"
            }
            Rejection::UnsupportedProtocol => {
                "this server speaks only the protocol tickwire.v3 (Sec-WebSocket-Protocol)"
            }
            Rejection::SpectatorsFromAddress => {
                "this address already watches this match with as many spectators as it may"
            }
            Rejection::PlayingInMatch => "you play in this match: you may not also watch it",
            Rejection::DataBeforeUpgrade => {
                "data came after the upgrade request before its answer; wait for the 101 \
                 (RFC 6455 section 4.1)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unsupported_protocol_refusal_names_the_version_spoken() {
        let message = Rejection::UnsupportedProtocol.message();
        assert!(message.contains(crate::protocol::SUBPROTOCOL), "{message}");
    }
}
