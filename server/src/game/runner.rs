//! The match task: a fixed-timestep loop that drains the inbox, steps the simulation and
//! replicates, with capped catch-up and an overrun count.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::Bytes;
use shared::close_code;
use shared::codec::encode_server;
use shared::protocol::{EndReason, MatchEnded, PROTOCOL_VERSION, ServerMsg, Welcome};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::Config;
use crate::game::clients::{Client, Clients};
use crate::game::history::{Frame, History};
use crate::game::messages::{Joiner, MatchCmd, Outgoing};
use crate::game::replicate::broadcast;
use crate::game::sim::Sim;
use crate::metrics::Metrics;
use crate::registry::{MatchHandle, Registry};

/// Most ticks run back to back to catch up after a stall; the rest of the backlog is dropped.
const MAX_CATCH_UP: u32 = 4;

struct Match {
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
    config: Arc<Config>,
    metrics: Arc<Metrics>,
) {
    let rate = handle.options.tick_rate;
    let interval = u32::from(handle.options.snapshot_interval);
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let snapshots_per_sec = f64::from(rate) / f64::from(interval);
    let slow_limit = (config.slow_client_timeout.as_secs_f64() * snapshots_per_sec).ceil() as u32;
    info!(match_id = %handle.id, tick_rate = rate, "match started");
    let mut m = Match {
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
    m.finish(reason);
    registry.remove(&m.handle.id);
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

    /// Sends every player the results and lets their sessions close with MATCH_ENDED.
    fn finish(&mut self, reason: EndReason) {
        self.handle.mark_ended();
        let results = self.sim.results();
        info!(match_id = %self.handle.id, ?reason, tick = self.sim.tick(), ?results, "match ended");
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
