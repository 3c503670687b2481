//! The messages clients and the server exchange, one binary WebSocket frame each.
//!
//! Byte layouts are in docs/protocol.md; encoding goes through [`crate::codec`] only.

use bincode::{Decode, Encode};

use crate::arena::Arena;
use crate::delta::Delta;

/// Protocol version carried in [`Welcome`]; bumped on any incompatible wire change.
pub const PROTOCOL_VERSION: u16 = 3;
/// The WebSocket subprotocol a client must offer and the server selects.
pub const SUBPROTOCOL: &str = "tickwire.v3";
/// Prefix of the subprotocol entry that carries a JWT for clients that cannot set headers.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "tickwire.bearer.";

/// A message from a client.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMsg {
    /// The player's controls for one tick.
    Input(Input),
    /// Asks for a [`ServerMsg::Pong`] echoing `client_time`, to measure round-trip time.
    Ping { client_time: u64 },
}

/// One tick's controls. The server applies at most one input per player per tick, in sequence
/// order, and repeats the last one when none arrived.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Input {
    /// Increasing per connection; inputs at or below the last applied one are ignored.
    pub seq: u32,
    /// Bit set of [`crate::rules::buttons`]; unknown bits are ignored.
    pub buttons: u8,
    /// Aim angle, a full turn in 65536 steps, 0 = +x, counter-clockwise towards +y.
    pub aim: u16,
    /// The server tick at which the client was showing the other players when it sampled this
    /// input (its interpolation point); 0 = not known. The server rewinds targets to it for
    /// this input's shots, at most `lag_compensation_max_ms` back (docs/protocol.md).
    pub view_tick: u32,
}

/// A message from the server.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub enum ServerMsg {
    /// First message after the upgrade.
    Welcome(Welcome),
    /// The world at one tick, as a delta against a snapshot this client already has.
    Snapshot(Snapshot),
    /// Answer to [`ClientMsg::Ping`].
    Pong { client_time: u64, server_tick: u32 },
    /// The match is over; the server closes with `MATCH_ENDED` right after.
    MatchEnded(MatchEnded),
    /// An operator changed the match's timing; it applies from tick `tick` on.
    MatchSettings {
        tick: u32,
        tick_rate: u16,
        snapshot_interval: u16,
    },
}

/// What a client needs to know to take part in a match.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub protocol_version: u16,
    pub match_id: String,
    pub player_id: String,
    /// The network id of this player's entity.
    pub entity: u32,
    pub tick_rate: u16,
    /// A snapshot is sent every this many ticks.
    pub snapshot_interval: u16,
    /// The server's tick when the player joined.
    pub tick: u32,
    pub score_limit: u16,
    pub time_limit_secs: u32,
    /// Radius of this player's area of interest in world units: only entities within it (and
    /// the player's own projectiles) are replicated. 0 = the whole arena.
    pub interest_radius: u32,
    pub arena: Arena,
}

/// A world snapshot as a delta against the previous snapshot this client received (over one
/// reliable ordered stream, that is always its baseline), or in full. `ack` is the only
/// per-client field and comes last, so the server can encode everything before it once and
/// share the bytes between clients. The byte layout is in [`crate::snapshot_wire`].
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub base: SnapshotBase,
    pub delta: Delta,
    /// Game events since the baseline (empty in a full snapshot).
    pub events: Vec<GameEvent>,
    /// Full snapshot: the last input sequence number the server applied for this client.
    /// Delta: how much that number grew since the baseline (wrapping).
    pub ack: u32,
}

/// What a snapshot applies to.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotBase {
    /// The whole world at `tick`: apply to nothing.
    Full { tick: u32 },
    /// The world `ticks` (at least 1) after the previous snapshot.
    Since { ticks: u32 },
}

/// Something that happened, for kill feeds and sounds; the state itself is in the delta.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameEvent {
    Kill {
        tick: u32,
        killer: u32,
        victim: u32,
    },
    /// `shooter` hit `victim` for `damage` hit points with `weapon` (hit markers, sounds).
    Hit {
        tick: u32,
        shooter: u32,
        victim: u32,
        damage: u8,
        weapon: Weapon,
    },
    /// `shooter` fired the rail along `aim`; the beam stopped `length` world units from the
    /// shooter (at a wall, a player it hit, or its range). For drawing the beam.
    Rail {
        tick: u32,
        shooter: u32,
        aim: u16,
        length: u16,
    },
}

impl GameEvent {
    /// The entities an event is about: a client is sent it when one of them is in its view.
    pub fn entities(&self) -> [u32; 2] {
        match *self {
            GameEvent::Kill { killer, victim, .. } => [killer, victim],
            GameEvent::Hit {
                shooter, victim, ..
            } => [shooter, victim],
            GameEvent::Rail { shooter, .. } => [shooter, shooter],
        }
    }
}

/// What dealt a hit.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weapon {
    /// The projectile gun (fire button).
    Gun,
    /// The hitscan rail (rail button).
    Rail,
}

/// Why a match ended.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    ScoreLimit,
    TimeLimit,
    /// Nobody was in the match for the empty timeout.
    Empty,
    /// An operator ended it.
    Admin,
    /// The server is shutting down.
    Shutdown,
    /// A server fault stopped it.
    Error,
}

/// The final table of a match.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct MatchEnded {
    pub reason: EndReason,
    pub tick: u32,
    /// Sorted by score (highest first), then deaths (fewest first).
    pub results: Vec<PlayerResult>,
}

/// One player's line in [`MatchEnded`].
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PlayerResult {
    pub entity: u32,
    pub name: String,
    pub score: u16,
    pub deaths: u16,
}
