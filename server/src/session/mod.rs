//! WebSocket sessions: the checked handshake and the per-connection task.

pub mod connection;
pub mod frames;
pub mod link;
pub mod per_ip;
pub mod rate_limit;
pub mod upgrade;

/// Most bytes tungstenite may hold unsent for one connection. Without a cap, a client that
/// never reads but sends pings makes it queue a pong per ping, without bound (270 MiB in 2 s).
/// Capped, a pong that does not fit waits (replaced by newer ones) and a message that does not
/// fit fails the write. A session writes one message at a time and waits until it is flushed,
/// so this only has to hold the largest message the server sends (the Welcome, with its map).
pub const WRITE_BUFFER_CAP: usize = 64 * 1024;
