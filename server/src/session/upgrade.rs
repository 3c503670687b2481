//! `GET /v1/ws?match=ID`: every check (token, match, seat) happens before the 101.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::api::Rejection;
use shared::protocol::{BEARER_SUBPROTOCOL_PREFIX, SUBPROTOCOL};
use tracing::debug;

use crate::auth::token::Claims;
use crate::auth::{AuthError, TokenKind};
use crate::error::AppError;
use crate::game::info::SpectatorRefusal;
use crate::http::bearer::{from_authorization, from_subprotocols, offered_subprotocols};
use crate::http::path::ApiQuery;
use crate::listener::{Conn, Peer};
use crate::net::WRITE_BUFFER_CAP;
use crate::registry::{MatchHandle, Seat};
use crate::session::connection::{self, Role, Session};
use crate::state::AppState;

/// Bytes tungstenite reads into per `read` call. Its default (128 KiB) is zero-filled before
/// every read, which cost 40 % of the server's CPU under 512 bots (perf: `memset`) and 128 KiB
/// of memory per connection. Client messages are a few bytes (at most `max_message_bytes`,
/// which a longer message still reaches over several reads), so 1 KiB holds dozens of them.
const READ_BUFFER: usize = 1024;

#[derive(Deserialize, Debug)]
pub struct WsParams {
    #[serde(rename = "match")]
    match_id: Option<String>,
    /// A private match's ticket.
    ticket: Option<String>,
    /// `1` or `true`: watch the match as a spectator (`0` or `false`: play).
    spectate: Option<String>,
}

/// Refuses the handshake for `why`, counted in the metrics.
fn reject(state: &AppState, why: Rejection) -> Response {
    reject_as(state, why, why.into())
}

/// Refuses the handshake with `err` (its status and code are `why`'s), counted in the metrics.
fn reject_as(state: &AppState, why: Rejection, err: AppError) -> Response {
    state.metrics.reject(why);
    debug!(
        reason = why.label(),
        status = err.status.as_u16(),
        "handshake rejected"
    );
    err.into_response()
}

/// Checks the handshake and upgrades, or answers 400 / 401 / 404 / 409 without upgrading.
pub async fn ws_handler(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<WsParams>,
    peer: Option<axum::Extension<Peer>>,
    conn: Option<axum::Extension<Conn>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let conn = conn.map(|axum::Extension(c)| c);
    if state.drain.is_draining() {
        return reject(&state, Rejection::Draining);
    }
    if !origin_allowed(&state, &headers) {
        return reject(&state, Rejection::OriginNotAllowed);
    }
    if !speaks_our_version(&headers) {
        return reject(&state, Rejection::UnsupportedProtocol);
    }
    let token = from_authorization(&headers).or_else(|| from_subprotocols(&headers));
    let claims = match token.ok_or(AuthError::Missing).and_then(|t| {
        state
            .auth
            .verify_any(t, &[TokenKind::Player, TokenKind::Spectator])
    }) {
        Ok(c) => c,
        Err(e) => return reject_as(&state, e.rejection(), e.into()),
    };
    let Some(match_id) = params.match_id else {
        return reject(&state, Rejection::BadRequest);
    };
    let Some(handle) = state.registry.get(&match_id).filter(|m| !m.is_ended()) else {
        return reject(&state, Rejection::NoSuchMatch);
    };
    let ip = peer.map(|axum::Extension(Peer(addr))| addr.ip());
    let asked = match params.spectate.as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return reject(&state, Rejection::BadRequest),
    };
    let spectate = asked || claims.kind == TokenKind::Spectator;
    if spectate {
        let role = match spectator_place(&state, &handle, &claims, ip, params.ticket.as_deref()) {
            Ok(role) => role,
            Err(why) => return reject(&state, why),
        };
        return upgrade(&state, ws, handle, claims, role, conn);
    }
    if let Some(cluster) = &state.cluster
        && let Err(why) =
            cluster_seat(cluster, &handle, &claims.sub, ip, params.ticket.as_deref()).await
    {
        return reject(&state, why);
    }
    // The seat is a guard from here on: every early return below gives it back by dropping it.
    let (seat, mut guard) = match handle.take_seat(&claims.sub, ip, params.ticket.as_deref()) {
        Ok(taken) => taken,
        Err(refusal) => return reject(&state, refusal.into()),
    };
    // The connection's place under its address's cap: the one its reservation kept, or a new
    // one. A player taking back a seat they hold may go past the cap for a moment (the old
    // connection's place is given back when this one takes over), but only with one
    // connection at a time: a second handshake in flight for the same seat needs a place of
    // its own, so a reconnect storm is held to the cap.
    if let Some(ip) = ip
        && !guard.has_ip_place()
    {
        let slot = if seat == Seat::Held && handle.seats().guards(&claims.sub) <= 2 {
            Some(state.registry.per_ip.acquire_over_cap(ip))
        } else {
            state.registry.acquire_ip(ip)
        };
        if slot.is_none() {
            return reject(&state, Rejection::TooManyFromAddress);
        }
        guard.hold_ip(slot);
    }
    upgrade(&state, ws, handle, claims, Role::Player(guard), conn)
}

/// False when the client offers `tickwire.*` protocol versions and none is the server's
/// ([`SUBPROTOCOL`]): answering 101 would select none, and the client would misread every frame.
/// A client that offers no version (only a bearer entry, or nothing) gets the server's current
/// one, as docs/protocol.md says; `tickwire.bearer.*` entries carry a token, not a version.
fn speaks_our_version(headers: &HeaderMap) -> bool {
    let mut versions = offered_subprotocols(headers)
        .filter(|p| {
            p.starts_with("tickwire.")
                && !p.starts_with(BEARER_SUBPROTOCOL_PREFIX.trim_end_matches('.'))
        })
        .peekable();
    versions.peek().is_none() || versions.any(|p| p == SUBPROTOCOL)
}

/// A spectator's place: not banned, the ticket of a private match (a spectator token needs
/// none), a place under `max_spectators` and one under the address's cap.
fn spectator_place(
    state: &AppState,
    handle: &MatchHandle,
    claims: &Claims,
    ip: Option<std::net::IpAddr>,
    ticket: Option<&str>,
) -> Result<Role, Rejection> {
    if handle
        .seats()
        .banned(&claims.sub, ip, std::time::Instant::now())
    {
        return Err(Rejection::Banned);
    }
    let caster = claims.kind == TokenKind::Spectator;
    if !caster && !handle.ticket_ok(ticket) {
        return Err(Rejection::TicketRequired);
    }
    // With interest management, watching the match you play in shows what your own view
    // hides: a player token holding a seat or a reservation here may not. (A player on the
    // same address is caught by the match itself, which sees every address:
    // `MatchCore::watch`.) Without it, players already see the whole world.
    if !caster
        && handle.options.interest_radius > 0
        && handle.seats().holds_or_reserved(&claims.sub)
    {
        return Err(Rejection::PlayingInMatch);
    }
    let place = handle
        .take_spectator_place(caster, ip)
        .map_err(|why| match why {
            SpectatorRefusal::Full => Rejection::SpectatorsFull,
            SpectatorRefusal::AddressShare => Rejection::SpectatorsFromAddress,
        })?;
    let ip_slot = match ip {
        Some(ip) => Some(
            state
                .registry
                .acquire_ip(ip)
                .ok_or(Rejection::TooManyFromAddress)?,
        ),
        None => None,
    };
    Ok(Role::Spectator { place, ip_slot })
}

/// Upgrades a checked handshake into a session.
fn upgrade(
    state: &AppState,
    ws: WebSocketUpgrade,
    handle: Arc<MatchHandle>,
    claims: Claims,
    role: Role,
    conn: Option<Conn>,
) -> Response {
    let limit = state.config.max_message_bytes;
    // Before the 101 goes out: from the client's next byte on, its frames are counted, which
    // needs the counter to start where the frames do.
    if let Some(c) = &conn
        && c.watch.websocket().is_err()
    {
        // What the client sent early is no request: nothing more is read from it.
        let mut refusal = reject(state, Rejection::DataBeforeUpgrade);
        refusal.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return refusal;
    }
    let handle_rate = handle.options.tick_rate;
    let session = Session {
        conn: state.next_conn_id(),
        handle,
        player_id: shared::ids::PlayerId(claims.sub),
        // Tokens from an external issuer carry names we did not check: the same rule as guest
        // names applies before anyone sees them.
        name: crate::http::guest::normalize_name(&claims.name)
            .unwrap_or_else(|_| "player".to_owned()),
        metrics: state.metrics.clone(),
        outbox_frames: state.config.outbox_frames,
        input_rate_limit: input_rate(state.config.input_rate_limit, handle_rate),
        keepalive_timeout: state.config.keepalive_timeout,
        role,
        tcp: conn,
    };
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER)
        // Written through at once (each send is flushed anyway), so the cap is all it holds.
        .write_buffer_size(0)
        .max_write_buffer_size(WRITE_BUFFER_CAP)
        .max_message_size(limit)
        .max_frame_size(limit)
        // A failed upgrade drops the callback, and the seat guard in it with it.
        .on_upgrade(move |socket| connection::run(socket, session))
        .into_response()
}

/// In a cluster, Redis counts the seats (a node may have reserved one here for a player it
/// placed): a player with no seat on this node gets one only if the cluster grants it, and it
/// is then reserved locally for the take that follows. A player holding a seat here (a
/// reconnect) needs no Redis, so reconnections work while Redis is away.
async fn cluster_seat(
    cluster: &crate::cluster::Cluster,
    handle: &crate::registry::MatchHandle,
    player: &str,
    ip: Option<std::net::IpAddr>,
    ticket: Option<&str>,
) -> Result<(), Rejection> {
    let now = std::time::Instant::now();
    if handle.seats().banned(player, ip, now) {
        return Err(Rejection::Banned);
    }
    if handle.seats().holds(player) {
        return Ok(());
    }
    let ticket_ok = handle.ticket_ok(ticket);
    match cluster
        .take(&handle.id, player, ticket_ok, handle.options.max_players)
        .await
    {
        Ok(crate::cluster::Take::Granted) => {
            handle.seats().reserve(player, ip, &mut None, now);
            Ok(())
        }
        Ok(crate::cluster::Take::Full) => Err(Rejection::MatchFull),
        Ok(crate::cluster::Take::NeedsTicket) => Err(Rejection::TicketRequired),
        Err(e) => {
            debug!(error = %e, "no seat from the cluster");
            Err(Rejection::ClusterUnavailable)
        }
    }
}

/// Messages per second a connection may send: the configured limit, or twice the tick rate plus
/// five (one input a tick, a ping, and room for jitter).
fn input_rate(configured: u32, tick_rate: u16) -> u32 {
    if configured == 0 {
        2 * u32::from(tick_rate) + 5
    } else {
        configured
    }
}

/// Browsers send Origin: it must be the server's own origin or an allowed one, compared
/// exactly. Native clients send none: allowed when `allow_missing_origin` is on.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return state.config.allow_missing_origin;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let allowed = &state.config.allowed_origins;
    if allowed.iter().any(|a| a == "*" || a == origin) {
        return true;
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"))
}
