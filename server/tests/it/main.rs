//! The server's process tests in one binary: the real `tickwire-server` executable (dedicated
//! mode, SIGTERM drain, logs), memory under a ping flood, the JS fixtures, and a two-node
//! cluster on a real `redis-server`. (`agones.rs` is its own binary: it needs the `agones`
//! feature, and so `protoc`.)

#[path = "../common/mod.rs"]
mod common;

mod cluster;
mod fixtures;
mod hostile_memory;
mod process;
mod wire_doc;
