//! WebSocket sessions: the checked handshake and the per-connection task.

pub mod connection;
pub mod rate_limit;
pub mod upgrade;
