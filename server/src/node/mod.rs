//! This node's part in a cluster (docs/cluster.md), above the application state it reads: its
//! membership ([`sync`]: the refresh and the heartbeat), a seat anywhere ([`matchmaker`]), and
//! calls to other nodes ([`remote`]). The connection to Redis and the atomic questions asked of
//! it are `crate::cluster`, below the state that owns them.

pub mod matchmaker;
pub mod remote;
pub mod sync;
