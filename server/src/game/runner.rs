//! The match task: a fixed-timestep loop that drains the inbox, steps the simulation and
//! replicates, with capped catch-up and an overrun count.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use shared::close_code;
use shared::codec::encode_server;
use shared::protocol::{EndReason, MatchEnded, PROTOCOL_VERSION, PlayerResult, ServerMsg, Welcome};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::game::clients::{Client, Clients};
use crate::game::history::{Frame, History};
use crate::game::messages::{Joiner, MatchCmd, Outgoing};
use crate::game::replicate::broadcast;
use crate::game::sim::Sim;
use crate::metrics::Metrics;
use crate::registry::{MatchHandle, Registry};
use crate::results::{MatchRecord, PlayerRecord, ResultsLog};

/// Most ticks run back to back to catch up after a stall; the rest of the backlog is dropped.
const MAX_CATCH_UP: u32 = 4;

struct Match {
    started_at_ms: u64,
    handle: Arc<MatchHandle>,
    sim: Sim,
    clients: Clients,
    history: History,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
}

/// Runs a match until it ends, then writes the results to its players and unregisters it.
pub async fn run(
    handle: Arc<MatchHandle>,
    mut inbox: mpsc::Receiver<MatchCmd>,
    sim: Sim,
    registry: Arc<Registry>,
) {
    let config = registry.config.clone();
    let metrics = registry.metrics.clone();
    let rate = handle.options.tick_rate;
    let interval = u32::from(handle.options.snapshot_interval);
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let snapshots_per_sec = f64::from(rate) / f64::from(interval);
    let slow_limit = (config.slow_client_timeout.as_secs_f64() * snapshots_per_sec).ceil() as u32;
    info!(match_id = %handle.id, tick_rate = rate, "match started");
    let mut m = Match {
        started_at_ms: unix_ms(),
        handle,
        sim,
        clients: Clients::new(),
        history: History::default(),
        metrics,
        config,
    };
    let mut next = Instant::now() + period;
    let mut empty_since = Some(Instant::now());
    let reason = loop {
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        if now.duration_since(next) >= period {
            m.metrics.overruns.fetch_add(1, Relaxed);
        }
        let mut steps = 0;
        let mut snapshot_due = false;
        let mut started = Instant::now();
        while next <= now && steps < MAX_CATCH_UP {
            if steps > 0 {
                m.metrics.record_tick(started.elapsed());
                started = Instant::now();
            }
            m.drain(&mut inbox);
            m.sim.step();
            snapshot_due |= m.sim.tick().is_multiple_of(interval);
            next += period;
            steps += 1;
        }
        if snapshot_due || m.sim.outcome().is_some() {
            m.replicate(slow_limit);
        }
        m.handle.tick.store(m.sim.tick(), Relaxed);
        m.metrics.record_tick(started.elapsed());
        if next <= now {
            let behind = now.duration_since(next).as_nanos() / period.as_nanos().max(1) + 1;
            m.metrics.ticks_dropped.fetch_add(behind as u64, Relaxed);
            next = now + period;
        }
        if let Some(reason) = m.sim.outcome() {
            break reason;
        }
        if m.clients.is_empty() {
            let since = *empty_since.get_or_insert(now);
            if now.duration_since(since) >= m.config.empty_match_timeout {
                break EndReason::Empty;
            }
        } else {
            empty_since = None;
        }
    };
    m.finish(reason, registry.results.clone()).await;
    registry.remove(&m.handle.id);
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

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

impl Match {
    /// Applies everything sessions sent since the last tick, without waiting.
    fn drain(&mut self, inbox: &mut mpsc::Receiver<MatchCmd>) {
        while let Ok(cmd) = inbox.try_recv() {
            match cmd {
                MatchCmd::Join(j) => self.join(j),
                MatchCmd::Input { conn, input } => {
                    if let Some(c) = self.clients.get(&conn)
                        && !self.sim.queue_input(c.entity, input)
                    {
                        self.metrics.inputs_dropped.fetch_add(1, Relaxed);
                    }
                }
                MatchCmd::Leave { conn } => self.remove(conn),
            }
        }
    }

    fn join(&mut self, j: Joiner) {
        let (entity, net_id) = self.sim.add_player(&j.name);
        let options = &self.handle.options;
        let welcome = ServerMsg::Welcome(Welcome {
            protocol_version: PROTOCOL_VERSION,
            match_id: self.handle.id.clone(),
            player_id: j.player_id.clone(),
            entity: net_id,
            tick_rate: options.tick_rate,
            snapshot_interval: options.snapshot_interval,
            tick: self.sim.tick(),
            score_limit: options.score_limit,
            time_limit_secs: options.time_limit_secs,
            arena: self.sim.arena().clone(),
        });
        // A fresh outbox has room; if the session is already gone its Leave follows.
        let _ = j
            .outbox
            .try_send(Outgoing::Frame(Bytes::from(encode_server(&welcome))));
        info!(match_id = %self.handle.id, player_id = %j.player_id, entity = net_id, "player joined");
        let client = Client::new(entity, net_id, j.player_id, j.outbox, j.close);
        self.clients.insert(j.conn, client);
        self.metrics.players.fetch_add(1, Relaxed);
    }

    /// Takes a client out of the match (left, or closed by the match).
    fn remove(&mut self, conn: u64) {
        if let Some(client) = self.clients.remove(&conn) {
            self.sim.remove_player(client.entity);
            self.handle.release_seat();
            self.metrics.players.fetch_sub(1, Relaxed);
            info!(match_id = %self.handle.id, player_id = %client.player_id, "player left");
        }
    }

    fn replicate(&mut self, slow_limit: u32) {
        let entities = Arc::new(self.sim.snapshot());
        let tick = self.sim.tick();
        self.handle.set_latest(tick, entities.clone());
        self.history.push(Frame {
            tick,
            entities,
            events: self.sim.take_events(),
        });
        let too_slow = broadcast(
            &self.sim,
            &self.history,
            &mut self.clients,
            &self.metrics,
            slow_limit,
        );
        for conn in too_slow {
            if let Some(c) = self.clients.get_mut(&conn) {
                warn!(match_id = %self.handle.id, player_id = %c.player_id, "closing too-slow client");
                c.close_now(close_code::TOO_SLOW);
                self.metrics.closed_too_slow.fetch_add(1, Relaxed);
            }
            self.remove(conn);
        }
    }

    /// The record of this match as it ends.
    fn record(&mut self, reason: EndReason, results: &[PlayerResult]) -> MatchRecord {
        let ended_at_ms = unix_ms();
        let player_ids: HashMap<u32, &str> = self
            .clients
            .values()
            .map(|c| (c.net_id, c.player_id.as_str()))
            .collect();
        MatchRecord {
            match_id: self.handle.id.clone(),
            reason: reason_name(reason).into(),
            started_at_ms: self.started_at_ms,
            ended_at_ms,
            duration_secs: ended_at_ms.saturating_sub(self.started_at_ms) as f64 / 1000.0,
            ticks: self.sim.tick(),
            tick_rate: self.handle.options.tick_rate,
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
        }
    }

    /// Writes the results durably, then sends every player the results and lets their sessions
    /// close with MATCH_ENDED.
    async fn finish(&mut self, reason: EndReason, log: Option<Arc<ResultsLog>>) {
        self.handle.mark_ended();
        let results = self.sim.results();
        info!(match_id = %self.handle.id, ?reason, tick = self.sim.tick(), ?results, "match ended");
        let record = self.record(reason, &results);
        if let Some(log) = log {
            let written = tokio::task::spawn_blocking(move || log.append_blocking(&record)).await;
            if !matches!(written, Ok(Ok(()))) {
                error!(match_id = %self.handle.id, ?written, "could not write match results");
            }
        }
        let msg = ServerMsg::MatchEnded(MatchEnded {
            reason,
            tick: self.sim.tick(),
            results,
        });
        let frame = Bytes::from(encode_server(&msg));
        for (_, mut client) in self.clients.drain() {
            // Dropping the outbox after this frame makes the session close with MATCH_ENDED.
            if client
                .outbox
                .try_send(Outgoing::Frame(frame.clone()))
                .is_err()
            {
                client.close_now(close_code::MATCH_ENDED);
            }
            self.handle.release_seat();
            self.metrics.players.fetch_sub(1, Relaxed);
        }
    }
}
