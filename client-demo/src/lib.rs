//! Tickwire's Rust client: guest login and matchmaking over HTTP, a WebSocket connection that
//! sends inputs and keeps a mirror of the world from snapshots, prediction and interpolation
//! helpers for a native game, and the bots load generator.

pub mod api;
pub mod bots;
pub mod connection;
pub mod error;
pub mod interp;
pub mod predict;
pub mod procfs;
pub mod soak;
pub mod stats;

pub use api::Api;
pub use connection::{ConnectOptions, Connection, Event, TokenTransport, connect_with_retry};
pub use error::ClientError;
pub use interp::Interpolator;
pub use predict::Predictor;
pub use shared::mirror::Mirror;
