//! The recording file format (docs/recording.md): a header, then records appended tick by tick.
//! Inputs, nearly every record, have a compact form of their own; the rare commands are bincode.

use bincode::{Decode, Encode};
use shared::arena::Arena;
use shared::protocol::{EndReason, PlayerResult};

/// The first bytes of every recording: "TWRC" and the format version.
pub const MAGIC: [u8; 5] = *b"TWRC\x01";

/// A world hash is recorded after every tick that is a multiple of this.
pub const HASH_EVERY: u32 = 8;

/// One tick ran.
pub const STEP: u8 = 0x00;
/// Several ticks ran with nothing applied between them: a varint count follows.
pub const STEPS: u8 = 0x01;
/// The world hash after the tick just run: 4 bytes, little-endian.
pub const HASH: u8 = 0x02;
/// A command other than an input: a bincode [`Op`] follows.
pub const OP: u8 = 0x03;
/// An input: `INPUT | flags` (the low four bits), then the fields the flags do not elide.
pub const INPUT: u8 = 0x10;
/// The input's sequence number is the player's last recorded one plus one (else a varint).
pub const SEQ_NEXT: u8 = 1;
/// Same buttons as the player's last recorded input (else one byte).
pub const SAME_BUTTONS: u8 = 2;
/// Same aim as the player's last recorded input (else two bytes, little-endian).
pub const SAME_AIM: u8 = 4;
/// Same view age (tick applied at minus view tick) as the player's last input (else a zigzag
/// varint).
pub const SAME_VIEW_AGE: u8 = 8;

/// Everything needed to run the match again: the match as created, its map and seed.
#[derive(Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The wire protocol the match spoke (`tickwire.v3`).
    pub protocol: String,
    /// The server build that recorded it (the crate version): the simulation of another build
    /// may differ, which `replay --verify` then reports.
    pub build: String,
    pub match_id: String,
    /// Unix milliseconds.
    pub started_at_ms: u64,
    pub options: RecordedOptions,
    /// The map itself, not its name: a map file may change after the match.
    pub arena: Arena,
    pub hash_every: u32,
}

/// The match options that shape the simulation and its replication.
#[derive(Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub struct RecordedOptions {
    pub max_players: u16,
    pub tick_rate: u16,
    pub snapshot_interval: u16,
    pub score_limit: u16,
    pub time_limit_secs: u32,
    pub seed: u64,
    pub map: String,
    pub interest_radius: u32,
    pub lag_compensation_ms: u16,
    pub private: bool,
}

/// Why a player's entity left the match.
#[derive(Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// Closed the connection properly.
    Left,
    /// Dropped and did not come back within the reconnect grace.
    GraceExpired,
    /// Removed by an operator.
    Kicked,
    /// Did not take snapshots for `slow_client_timeout`.
    TooSlow,
}

/// A command applied between two ticks, other than an input.
#[derive(Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A player joined and was given entity `id` (a replay must give the same).
    Join {
        id: u32,
        name: String,
        player_id: String,
    },
    /// A player's connection dropped: the entity stands still for the reconnect grace.
    Freeze { id: u32 },
    /// A player's entity left.
    Remove { id: u32, why: Departure },
    /// The tick rate changed (an operator's timing change).
    TickRate { rate: u16 },
    /// The snapshot interval changed (replication only; the world does not depend on it).
    SnapshotInterval { interval: u16 },
    /// The match was ordered to end (an operator, a shutdown).
    End { reason: EndReason },
    /// The last record: how the match ended, at which tick, and its results table.
    Results {
        tick: u32,
        reason: EndReason,
        results: Vec<PlayerResult>,
    },
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 varint at `*at`, moving past it; `None` if cut short or too long.
pub fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Zigzag: small signed numbers as small unsigned ones.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The file's first bytes: magic, header length (u32 LE), header.
pub fn header_bytes(header: &Header) -> Vec<u8> {
    let body = bincode::encode_to_vec(header, bincode::config::standard()).unwrap_or_default();
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut at = 0;
            assert_eq!(get_varint(&out, &mut at), Some(v));
            assert_eq!(at, out.len());
        }
        for v in [0i64, 1, -1, 63, -64, i64::from(i32::MIN), i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(get_varint(&[0x80], &mut 0), None, "cut short");
    }
}
