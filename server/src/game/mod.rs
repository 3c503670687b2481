//! One match: a synchronous core ([`core::MatchCore`]) that owns a bevy_ecs World, driven at a
//! fixed tick by an async shell ([`runner`]). Sessions talk to it only through
//! [`messages::MatchCmd`]; it answers through each client's [`link::Link`].

pub mod admin;
pub mod clients;
pub mod components;
pub mod core;
pub mod finish;
#[cfg(feature = "harness")]
pub mod harness;
pub mod history;
pub mod info;
pub mod interest;
pub mod link;
pub mod messages;
pub mod options;
pub mod recording;
pub mod replicate;
pub mod report;
pub mod runner;
pub mod session_link;
pub mod sim;
pub mod spectators;
pub mod stats;
pub mod systems;
pub mod timing;
pub mod world_hash;
