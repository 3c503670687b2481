//! The arena shooter as a game on Tickwire's schema-driven wire: what its entities, events and
//! inputs are made of ([`schema`]), typed access to them ([`wire`]), and the rule every client
//! predicts players and shots with ([`predict`]).
//!
//! The cut is under way (docs/game-api.md): the map type and the movement rule still live in
//! `shared`, and the simulation in `server`, until the server runs games through the game API.

pub mod predict;
pub mod schema;
pub mod v3;
pub mod wire;
