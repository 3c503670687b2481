//! Tickwire's server: HTTP API, JWT auth, WebSocket sessions, the match registry and the
//! fixed-tick simulation with delta replication. `main.rs` is a thin wrapper around [`app`].

pub mod address_budget;
pub mod address_counts;
#[cfg(feature = "agones")]
pub mod agones;
pub mod app;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod dedicated;
pub mod drain;
pub mod error;
pub mod frames;
pub mod game;
pub mod http;
pub mod linger;
pub mod listener;
pub mod lock;
pub mod maps;
pub mod metrics;
pub mod net;
pub mod node;
pub mod per_ip;
pub mod places;
pub mod record;
pub mod registry;
pub mod replay;
pub mod results;
pub mod seats;
pub mod session;
pub mod state;
pub mod watched;
