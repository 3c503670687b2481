//! What operators see of a match and the one setting they change live: the report behind the
//! admin API, and timing changes announced to every client in-band.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use shared::codec::encode_server;
use shared::protocol::ServerMsg;
use tracing::info;

use crate::game::core::MatchCore;
use crate::game::link::{Link, Outgoing};
use crate::game::messages::{TimingChange, TimingError};
use crate::game::report::{MatchReport, PlayerReport, SpectatorReport};

impl<L: Link> MatchCore<L> {
    /// The match's figures; `detail` adds one line per player.
    pub fn report(&self, detail: bool) -> MatchReport {
        let player_details = detail.then(|| {
            let mut players: Vec<PlayerReport> = self
                .clients
                .values()
                .map(|c| {
                    let (score, deaths) = self.sim.score_of(c.entity);
                    let rtt = c.link.rtt_us();
                    PlayerReport {
                        entity: c.net_id,
                        player_id: c.player_id.clone(),
                        name: c.name.clone(),
                        rtt_ms: (rtt > 0).then(|| rtt as f64 / 1000.0),
                        bytes_out_per_sec: c.bytes_rate.per_sec(),
                        snapshots_per_sec: c.snapshot_rate.per_sec(),
                        snapshots_skipped: c.skipped_total,
                        score,
                        deaths,
                    }
                })
                .collect();
            players.sort_by_key(|p| p.entity);
            players
        });
        let spectator_details = detail.then(|| {
            let now = std::time::Instant::now();
            let mut spectators: Vec<SpectatorReport> = self
                .spectators
                .iter()
                .map(|s| {
                    let rtt = s.link.rtt_us();
                    SpectatorReport {
                        player_id: s.player_id.clone(),
                        name: s.name.clone(),
                        watching_secs: now.saturating_duration_since(s.since).as_secs_f64(),
                        rtt_ms: (rtt > 0).then(|| rtt as f64 / 1000.0),
                    }
                })
                .collect();
            spectators.sort_by(|a, b| a.player_id.as_str().cmp(b.player_id.as_str()));
            spectators
        });
        MatchReport {
            id: self.info.id.clone(),
            state: if self.sim.outcome().is_some() {
                "ending"
            } else {
                "running"
            },
            players: self.clients.len(),
            capacity: self.info.options.max_players,
            tick_rate: self.timing.rate,
            snapshot_interval: self.timing.interval,
            tick: self.sim.tick(),
            tick_time: self.tick_times.figures(self.timing.period),
            budget_ms: self.timing.period.as_secs_f64() * 1e3,
            overruns: self.overruns,
            bytes_out_per_sec: self.bytes_rate.per_sec(),
            snapshots_per_sec: self.snapshot_rate.per_sec(),
            map: self.info.options.map.clone(),
            interest_radius: self.info.options.interest_radius,
            lag_compensation_ms: self.info.options.lag_compensation_ms,
            spectators: self.spectators.len(),
            max_spectators: self.info.options.max_spectators,
            spectator_delay_ms: self.info.options.spectator_delay_ms,
            player_details,
            spectator_details,
        }
    }

    /// Applies a timing change now (a tick boundary), tells every client in-band, and
    /// audit-logs who made it.
    pub(crate) fn configure(
        &mut self,
        change: TimingChange,
        by: &str,
        now: std::time::Instant,
    ) -> Result<MatchReport, TimingError> {
        let before = self.timing;
        self.timing = before.changed(change, self.settings.slow_client_timeout)?;
        let (rate, interval) = (self.timing.rate, self.timing.interval);
        self.sim.set_tick_rate(rate);
        if interval != before.interval
            && let Some(j) = self.sim.journal()
        {
            j.op(&crate::record::format::Op::SnapshotInterval { interval });
        }
        self.info.tick_rate.store(rate, Relaxed);
        self.info.snapshot_interval.store(interval, Relaxed);
        info!(
            target: "tickwire::audit",
            admin = %by,
            match_id = %self.info.id,
            from_tick_rate = before.rate,
            tick_rate = rate,
            from_snapshot_interval = before.interval,
            snapshot_interval = interval,
            tick = self.sim.tick(),
            "match timing changed"
        );
        let msg = ServerMsg::MatchSettings {
            tick: self.sim.tick() + 1,
            tick_rate: rate,
            snapshot_interval: interval,
        };
        let frame = Bytes::from(encode_server(&msg));
        for c in self.clients.values_mut() {
            if c.link.send(Outgoing::Frame(frame.clone())).is_err() {
                c.pending_frame = Some(frame.clone());
            }
        }
        self.spectators.settings(frame, now);
        Ok(self.report(false))
    }
}
