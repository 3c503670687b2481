//! Match figures for the admin API and the operator console.

use serde::Serialize;
use shared::ids::{NetId, PlayerId};

use crate::game::stats::TickFigures;

/// One match as operators see it.
#[derive(Serialize, Debug, Clone)]
pub struct MatchReport {
    pub id: String,
    /// `running` or `ending`.
    pub state: &'static str,
    pub players: usize,
    pub capacity: u16,
    pub tick_rate: u16,
    pub snapshot_interval: u16,
    pub tick: u32,
    /// Tick duration over the last 10 s.
    pub tick_time: TickFigures,
    /// The tick budget, 1000 / tick_rate.
    pub budget_ms: f64,
    pub overruns: u64,
    pub bytes_out_per_sec: f64,
    pub snapshots_per_sec: f64,
    /// The map's name.
    pub map: String,
    /// Radius of each player's area of interest in world units (0: everything).
    pub interest_radius: u32,
    /// How far back shots are tested (0: no lag compensation).
    pub lag_compensation_ms: u16,
    /// Spectators watching, their cap and how far behind they watch.
    pub spectators: usize,
    pub max_spectators: u16,
    pub spectator_delay_ms: u32,
    /// With `GET /v1/admin/matches/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_details: Option<Vec<PlayerReport>>,
    /// With `GET /v1/admin/matches/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectator_details: Option<Vec<SpectatorReport>>,
}

/// One spectator as operators see it.
#[derive(Serialize, Debug, Clone)]
pub struct SpectatorReport {
    pub player_id: PlayerId,
    pub name: String,
    /// How long it has been watching.
    pub watching_secs: f64,
    /// Round trip of the server's WebSocket pings; `None` before the first answer.
    pub rtt_ms: Option<f64>,
}

/// One player as operators see it.
#[derive(Serialize, Debug, Clone)]
pub struct PlayerReport {
    pub entity: NetId,
    pub player_id: PlayerId,
    pub name: String,
    /// Round trip of the server's WebSocket pings; `None` before the first answer.
    pub rtt_ms: Option<f64>,
    pub bytes_out_per_sec: f64,
    pub snapshots_per_sec: f64,
    pub snapshots_skipped: u64,
    pub score: u16,
    pub deaths: u16,
}
