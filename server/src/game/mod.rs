//! One match: a task that owns a bevy_ecs World and runs it at a fixed tick. Sessions talk to it
//! only through [`messages::MatchCmd`]; it answers through each client's bounded outbox.

pub mod clients;
pub mod components;
pub mod history;
pub mod messages;
pub mod options;
pub mod replicate;
pub mod report;
pub mod runner;
pub mod sim;
pub mod stats;
pub mod systems;
