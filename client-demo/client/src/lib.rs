//! Tickwire's Rust client library: what a game needs to play on a Tickwire server.
//!
//! - [`Api`]: guest login, matchmaking, creating and listing matches (the bodies are
//!   [`shared::api`]'s, the server's own types).
//! - [`Connection`]: the match's WebSocket over `ws://` or `wss://` (rustls): sends inputs and
//!   pings, applies every snapshot to a [`Mirror`] of the world, measures the round trip, and
//!   [`Connection::reconnect`]s to the same entity after a drop.
//! - [`Predictor`] and [`Interpolator`]: the player's own movement predicted with the server's
//!   rule and reconciled on every snapshot; everyone else drawn smoothly between snapshots.
//! - [`ClientError`]: typed errors with their sources; [`ClientError::close_code`] tells why
//!   the server closed.
//!
//! # Quick start
//!
//! ```no_run
//! use tickwire_client::{Api, ConnectOptions, Connection, Event};
//! use tickwire_client::shared::rules::buttons;
//!
//! # async fn play() -> Result<(), tickwire_client::ClientError> {
//! let api = Api::new("http://127.0.0.1:8080");
//! let login = api.guest_login("ada").await?;
//! let ticket = api.matchmake(&login.token).await?;
//! let mut conn = Connection::connect(&ticket.ws_url, &login.token, ConnectOptions::default()).await?;
//! println!("playing entity {} in match {}", conn.welcome.entity, conn.welcome.match_id);
//! loop {
//!     conn.send_input(buttons::RIGHT, 0).await?;
//!     match conn.next_event().await? {
//!         Event::Snapshot { tick, .. } => {
//!             let me = conn.mirror.entity(conn.welcome.entity);
//!             println!("tick {tick}: at {:?}", me.map(|e| (e.x, e.y)));
//!         }
//!         Event::MatchEnded(end) => println!("over: {:?}", end.reason),
//!         Event::Closed { code, .. } => break println!("closed with {code}"),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! For `wss://` with a private certificate authority, put its roots in a
//! `rustls::ClientConfig` and pass it as [`ConnectOptions::tls`].

pub mod api;
pub mod connection;
pub mod error;
pub mod interp;
pub mod predict;

pub use api::Api;
pub use connection::{
    ConnectOptions, Connection, Event, Rejoined, TokenTransport, connect_with_retry,
};
pub use error::ClientError;
pub use interp::Interpolator;
pub use predict::Predictor;
pub use shared::mirror::Mirror;

/// The wire types, rules and ranges the client shares with the server.
pub use shared;
