//! The match's view of each connected client: its entity, outbox and replication baseline.

use std::collections::HashMap;

use bevy_ecs::entity::Entity;
use tokio::sync::{mpsc, oneshot};

use crate::game::messages::Outgoing;

pub struct Client {
    pub entity: Entity,
    pub net_id: u32,
    pub player_id: String,
    pub outbox: mpsc::Sender<Outgoing>,
    close: Option<oneshot::Sender<u16>>,
    /// Tick of the last snapshot put in the outbox; the next delta is against it.
    pub baseline: Option<u32>,
    /// Snapshots skipped in a row because the outbox was full.
    pub skipped_in_row: u32,
}

impl Client {
    pub fn new(
        entity: Entity,
        net_id: u32,
        player_id: String,
        outbox: mpsc::Sender<Outgoing>,
        close: oneshot::Sender<u16>,
    ) -> Client {
        Client {
            entity,
            net_id,
            player_id,
            outbox,
            close: Some(close),
            baseline: None,
            skipped_in_row: 0,
        }
    }

    /// Tells the session to close now with `code`, even if it is stuck writing.
    pub fn close_now(&mut self, code: u16) {
        if let Some(tx) = self.close.take() {
            let _ = tx.send(code);
        }
    }
}

/// Connected clients by connection id.
pub type Clients = HashMap<u64, Client>;
