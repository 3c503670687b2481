//! Tickwire's demo client: the bots load generator and the soak test, built on the
//! `tickwire-client` library (which games use directly).

pub mod bots;
pub mod matchmake_bench;
pub mod procfs;
pub mod soak;
pub mod stats;
