//! Every end-to-end and harness test of Tickwire in one binary (one link instead of one per
//! file, as rust-analyzer does): a real server on `127.0.0.1:0` with real WebSocket clients
//! and raw sockets, and the match on the in-memory harness.

mod admin;
mod auth_config;
mod authority;
mod budgets;
mod closing_handshake;
mod connection_flood;
mod deadlines;
mod determinism;
mod faults;
mod fragments;
mod handshake;
mod held;
mod hostile;
mod http_surface;
mod interest;
mod jwt_matrix;
mod kick_and_private;
mod lag_compensation;
mod lingering_close;
mod malformed;
mod match_end;
mod match_logic;
mod metrics_exposition;
mod prediction;
mod rate_limit;
mod reconnect;
mod recording;
mod recordings_api;
mod spectators;
mod spectators_e2e;
mod tls;
mod wire_v4;
