//! How a match ends: its record for the results log, then MatchEnded and the close code for
//! every client.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use shared::close_code::CloseCode;
use shared::codec::encode_server;
use shared::protocol::{EndReason, MatchEnded, ServerMsg};
use tracing::info;

use crate::game::core::MatchCore;
use crate::game::link::{Flush, Link, Outgoing};
use crate::results::{MatchRecord, PlayerRecord, unix_ms};

/// The results log's name for an end reason.
pub fn reason_name(reason: EndReason) -> &'static str {
    match reason {
        EndReason::ScoreLimit => "score_limit",
        EndReason::TimeLimit => "time_limit",
        EndReason::Empty => "empty",
        EndReason::Admin => "admin",
        EndReason::Shutdown => "shutdown",
        EndReason::Error => "error",
    }
}

/// The close code that follows MatchEnded: 1001 when the server is going away.
pub fn close_code_for(reason: EndReason) -> CloseCode {
    match reason {
        EndReason::Shutdown => CloseCode::GoingAway,
        EndReason::Error => CloseCode::ServerError,
        _ => CloseCode::MatchEnded,
    }
}

impl<L: Link> MatchCore<L> {
    /// Ends the match for `reason`: no seat is given from now on, and the returned record is
    /// what the results log gets (before the players are told, see [`MatchCore::farewell`]).
    pub fn end(&mut self, reason: EndReason) -> MatchRecord {
        let results = self.sim.results();
        let tick = self.sim.tick();
        if let Some(j) = self.sim.journal() {
            j.op(&crate::record::format::Op::Results {
                tick,
                reason,
                results: results.clone(),
            });
        }
        info!(match_id = %self.info.id, ?reason, tick = self.sim.tick(), ?results, "match ended");
        let ended_at_ms = unix_ms();
        let player_ids: HashMap<u32, &str> = self
            .clients
            .values()
            .map(|c| (c.net_id.0, c.player_id.as_str()))
            .collect();
        let record = MatchRecord {
            match_id: self.info.id.clone(),
            reason: reason_name(reason).into(),
            started_at_ms: self.started_at_ms,
            ended_at_ms,
            duration_secs: ended_at_ms.saturating_sub(self.started_at_ms) as f64 / 1000.0,
            ticks: self.sim.tick(),
            tick_rate: self.timing.rate,
            players: results
                .iter()
                .map(|r| PlayerRecord {
                    player_id: player_ids
                        .get(&r.entity)
                        .map_or_else(String::new, |p| (*p).to_owned()),
                    name: r.name.clone(),
                    entity: r.entity,
                    score: r.score,
                    deaths: r.deaths,
                })
                .collect(),
        };
        self.info.set_ended(record.clone());
        record
    }

    /// Sends every player the results, then closes each connection with the reason's code
    /// once that is written, and lets every seat go.
    pub fn farewell(&mut self, reason: EndReason) {
        let frame = self.ended_frame(reason);
        let code = close_code_for(reason);
        for (_, mut client) in self.clients.drain() {
            let flush = match client.link.send(Outgoing::Frame(frame.clone())) {
                Ok(()) => Flush::Queued,
                Err(_) => Flush::Now,
            };
            client.link.close(code, flush);
            self.metrics.players.fetch_sub(1, Relaxed);
        }
        if self.spectators_waiting().is_none() {
            self.farewell_spectators(reason);
        }
    }

    /// With a spectator delay, spectators are still to be shown the end of the match: when the
    /// next of it is due (the shell calls [`MatchCore::show_spectators`] then).
    pub fn spectators_waiting(&self) -> Option<std::time::Instant> {
        self.spectators
            .has_pending()
            .then(|| self.spectators.next_due())
            .flatten()
    }

    /// What the spectator delay queue holds now, estimated in bytes.
    pub fn spectator_queue_bytes(&self) -> usize {
        self.spectators.queued_bytes()
    }

    /// Sets the spectator delay queue's byte budget (default [`super::spectators::QUEUE_BYTES`]).
    pub fn limit_spectator_queue(&mut self, bytes: usize) {
        self.spectators.set_budget(bytes);
    }

    /// Shows spectators what is due at `now`.
    pub fn show_spectators(&mut self, now: std::time::Instant) {
        let slow = self.timing.slow_limit;
        let too_slow = self.spectators.release(now, self.sim.arena(), slow);
        self.close_slow_spectators(too_slow);
    }

    /// The encoded MatchEnded: the reason, the last tick and the results.
    fn ended_frame(&mut self, reason: EndReason) -> Bytes {
        let msg = ServerMsg::MatchEnded(MatchEnded {
            reason,
            tick: self.sim.tick(),
            results: self.sim.results(),
        });
        Bytes::from(encode_server(&msg))
    }

    /// MatchEnded and the close for every spectator.
    pub fn farewell_spectators(&mut self, reason: EndReason) {
        let frame = self.ended_frame(reason);
        let n = self.spectators.farewell(&frame, close_code_for(reason));
        self.metrics.spectators.fetch_sub(n as u64, Relaxed);
    }
}
