//! The identities the server and clients pass around, as types of their own so one cannot be
//! given where another is meant. On the wire they stay plain integers and strings.

use serde::{Deserialize, Serialize};

/// One WebSocket connection, numbered by the server from 1. A reconnect is a new connection.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(transparent)]
pub struct ConnId(pub u64);

/// An entity's network id within a match (players and projectiles): what snapshots, events
/// and the Welcome's `entity` carry as a `u32`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(transparent)]
pub struct NetId(pub u32);

/// A player's stable id: the `sub` of their token (`g_…` for guests). The same player on a
/// second connection is the same `PlayerId`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(transparent)]
pub struct PlayerId(pub String);

impl PlayerId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for NetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for PlayerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
