//! The match task: a fixed-timestep loop that drains the inbox, steps the simulation and
//! replicates, with capped catch-up and an overrun count. Timing can change between ticks.

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
use crate::game::messages::{Joiner, MatchCmd, Outgoing, TimingChange};
use crate::game::replicate::broadcast;
use crate::game::report::{MatchReport, PlayerReport};
use crate::game::sim::Sim;
use crate::game::stats::{Rate, TickTimes};
use crate::metrics::Metrics;
use crate::registry::{MatchHandle, Registry};
use crate::results::{MatchRecord, PlayerRecord, ResultsLog};

/// Most ticks run back to back to catch up after a stall; the rest of the backlog is dropped.
const MAX_CATCH_UP: u32 = 4;
/// How often per-client bookkeeping (rate samples, reconnect-grace expiry) runs: it is measured
/// in seconds, so it stays off the per-tick path.
const HOUSEKEEPING_EVERY: Duration = Duration::from_millis(250);

/// The loop's timing, derived from the tick rate and snapshot interval.
#[derive(Debug, Clone, Copy)]
struct Timing {
    rate: u16,
    interval: u16,
    period: Duration,
    /// Snapshots skipped in a row before a client is too slow.
    slow_limit: u32,
}

impl Timing {
    fn new(rate: u16, interval: u16, slow_timeout: Duration) -> Timing {
        let snapshots_per_sec = f64::from(rate) / f64::from(interval);
        Timing {
            rate,
            interval,
            period: Duration::from_secs_f64(1.0 / f64::from(rate)),
            slow_limit: (slow_timeout.as_secs_f64() * snapshots_per_sec)
                .ceil()
                .max(1.0) as u32,
        }
    }
}

struct Match {
    started_at_ms: u64,
    handle: Arc<MatchHandle>,
    sim: Sim,
    clients: Clients,
    history: History,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
    timing: Timing,
    tick_times: TickTimes,
    overruns: u64,
    bytes_rate: Rate,
    snapshot_rate: Rate,
    /// Totals of clients that have left, so match rates do not drop when someone leaves.
    departed_bytes: u64,
    departed_snapshots: u64,
    next_housekeeping: Instant,
    /// A command that woke an idle (empty) match, applied first at its next tick.
    woken_by: Option<MatchCmd>,
}

/// Runs a match until it ends, then writes the results, tells the players and unregisters it.
pub async fn run(
    handle: Arc<MatchHandle>,
    mut inbox: mpsc::Receiver<MatchCmd>,
    sim: Sim,
    registry: Arc<Registry>,
) {
    let config = registry.config.clone();
    let now = Instant::now();
    let timing = Timing::new(
        handle.options.tick_rate,
        handle.options.snapshot_interval,
        config.slow_client_timeout,
    );
    info!(match_id = %handle.id, tick_rate = timing.rate, "match started");
    let mut m = Match {
        started_at_ms: unix_ms(),
        handle,
        sim,
        clients: Clients::new(),
        history: History::default(),
        metrics: registry.metrics.clone(),
        config,
        timing,
        tick_times: TickTimes::default(),
        overruns: 0,
        bytes_rate: Rate::new(now),
        snapshot_rate: Rate::new(now),
        departed_bytes: 0,
        departed_snapshots: 0,
        next_housekeeping: now + HOUSEKEEPING_EVERY,
        woken_by: None,
    };
    let mut next = now + m.timing.period;
    let mut empty_since = Some(now);
    let mut ever_joined = false;
    let reason = loop {
        if m.clients.is_empty() {
            // Nobody to simulate for: the match sleeps until a command (a join, an operator)
            // or its end, so an empty match costs no CPU. A match nobody ever joined ends once a
            // reservation would have expired; one that emptied, after `empty_match_timeout`.
            let wait = if ever_joined {
                m.config.empty_match_timeout
            } else {
                m.config.seat_reservation
            };
            let since = *empty_since.get_or_insert_with(Instant::now);
            match tokio::time::timeout_at(since + wait, inbox.recv()).await {
                Ok(Some(cmd)) => m.woken_by = Some(cmd),
                Ok(None) | Err(_) => break EndReason::Empty,
            }
            // The clock resumes now: time spent asleep is not a backlog to catch up.
            next = Instant::now();
        }
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        if now.duration_since(next) >= m.timing.period {
            m.overruns += 1;
            m.metrics.overruns.fetch_add(1, Relaxed);
        }
        // A panic anywhere in the tick ends this match only: its players are told, the rest of
        // the server never sees it.
        let ticked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            m.run_ticks(&mut inbox, &mut next, now)
        }));
        if let Err(panic) = ticked {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            error!(match_id = %m.handle.id, panic = %what, "match panicked; ending it");
            m.metrics.match_panics.fetch_add(1, Relaxed);
            break EndReason::Error;
        }
        if next <= now {
            let behind =
                now.duration_since(next).as_nanos() / m.timing.period.as_nanos().max(1) + 1;
            m.metrics.ticks_dropped.fetch_add(behind as u64, Relaxed);
            next = now + m.timing.period;
        }
        if let Some(reason) = m.sim.outcome() {
            break reason;
        }
        if m.clients.is_empty() {
            empty_since.get_or_insert(now);
        } else {
            empty_since = None;
            ever_joined = true;
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

/// The close code that follows MatchEnded: 1001 when the server is going away.
fn close_code_for(reason: EndReason) -> u16 {
    match reason {
        EndReason::Shutdown => close_code::GOING_AWAY,
        EndReason::Error => close_code::SERVER_ERROR,
        _ => close_code::MATCH_ENDED,
    }
}

impl Match {
    /// Runs the ticks that are due (at most MAX_CATCH_UP), then replicates once.
    fn run_ticks(
        &mut self,
        inbox: &mut mpsc::Receiver<MatchCmd>,
        next: &mut Instant,
        now: Instant,
    ) {
        let mut steps = 0;
        let mut snapshot_due = false;
        let mut started = Instant::now();
        while *next <= now && steps < MAX_CATCH_UP {
            if steps > 0 {
                self.record_tick(started);
                started = Instant::now();
            }
            self.drain(inbox);
            self.sim.step();
            snapshot_due |= self
                .sim
                .tick()
                .is_multiple_of(u32::from(self.timing.interval));
            *next += self.timing.period;
            steps += 1;
        }
        if snapshot_due || self.sim.outcome().is_some() {
            self.replicate();
        }
        self.handle.tick.store(self.sim.tick(), Relaxed);
        self.record_tick(started);
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + HOUSEKEEPING_EVERY;
            self.sample_rates(now);
            self.expire_detached(now);
        }
    }

    fn record_tick(&mut self, started: Instant) {
        let took = started.elapsed();
        self.metrics.record_tick(took);
        self.tick_times.record(started, took);
    }

    /// Applies everything sent since the last tick, without waiting.
    fn drain(&mut self, inbox: &mut mpsc::Receiver<MatchCmd>) {
        let woken_by = self.woken_by.take();
        let queued = std::iter::from_fn(|| inbox.try_recv().ok());
        for cmd in woken_by.into_iter().chain(queued) {
            match cmd {
                MatchCmd::Join(j) => self.join(j),
                MatchCmd::Input { conn, input } => {
                    if let Some(c) = self.clients.get(&conn)
                        && !self.sim.queue_input(c.entity, input)
                    {
                        self.metrics.inputs_dropped.fetch_add(1, Relaxed);
                    }
                }
                MatchCmd::Leave { conn, dropped } => self.leave(conn, dropped),
                MatchCmd::Inspect { detail, reply } => {
                    let _ = reply.send(self.report(detail));
                }
                MatchCmd::Configure { change, by, reply } => {
                    let _ = reply.send(self.configure(change, &by));
                }
                MatchCmd::End { reason, by } => {
                    info!(target: "tickwire::audit", admin = %by, match_id = %self.handle.id, ?reason, "end match");
                    self.sim.end_now(reason);
                }
                MatchCmd::Kick {
                    entity,
                    ban,
                    by,
                    reply,
                } => {
                    let conn = self
                        .clients
                        .iter()
                        .find(|(_, c)| c.net_id == entity)
                        .map(|(k, _)| *k);
                    if let Some(conn) = conn {
                        info!(target: "tickwire::audit", admin = %by, match_id = %self.handle.id, entity, ban_secs = ban.as_secs_f64(), "kick player");
                        if let Some(c) = self.clients.get_mut(&conn) {
                            c.close_now(close_code::KICKED);
                            if !ban.is_zero() {
                                let ip = c.ip_slot.as_ref().map(|s| s.ip());
                                let until = std::time::Instant::now() + ban;
                                self.handle.ban(&c.player_id, ip, until);
                            }
                        }
                        self.remove(conn);
                    }
                    let _ = reply.send(conn.is_some());
                }
                #[cfg(debug_assertions)]
                MatchCmd::InjectPanic => self.sim.inject_panic(),
            }
        }
    }

    fn join(&mut self, j: Joiner) {
        let now = Instant::now();
        // The same player again: a reconnect within the grace, or a second connection that
        // replaces the first. Either way it takes over the entity, score and stats.
        let existing = self
            .clients
            .iter()
            .find(|(_, c)| c.player_id == j.player_id)
            .map(|(k, _)| *k);
        if let Some(old) = existing.and_then(|k| self.clients.remove(&k)) {
            let mut client = old;
            let resumed = client.detached_until.is_some();
            let conn = j.conn;
            self.welcome(&j.outbox, &j.player_id, client.net_id);
            client.take_over(j, now);
            info!(match_id = %self.handle.id, player_id = %client.player_id, entity = client.net_id, resumed, "player back");
            self.clients.insert(conn, client);
            return;
        }
        let (entity, net_id) = self.sim.add_player(&j.name);
        self.welcome(&j.outbox, &j.player_id, net_id);
        info!(match_id = %self.handle.id, player_id = %j.player_id, entity = net_id, "player joined");
        let conn = j.conn;
        self.clients
            .insert(conn, Client::new(j, entity, net_id, now));
        self.metrics.players.fetch_add(1, Relaxed);
    }

    /// Sends a Welcome for `entity` into a fresh outbox (it has room; if the session is already
    /// gone its Leave follows).
    fn welcome(&self, outbox: &mpsc::Sender<Outgoing>, player_id: &str, entity: u32) {
        let options = &self.handle.options;
        let welcome = ServerMsg::Welcome(Welcome {
            protocol_version: PROTOCOL_VERSION,
            match_id: self.handle.id.clone(),
            player_id: player_id.to_owned(),
            entity,
            tick_rate: self.timing.rate,
            snapshot_interval: self.timing.interval,
            tick: self.sim.tick(),
            score_limit: options.score_limit,
            time_limit_secs: options.time_limit_secs,
            arena: self.sim.arena().clone(),
        });
        let _ = outbox.try_send(Outgoing::Frame(Bytes::from(encode_server(&welcome))));
    }

    /// A session ended. A dropped one keeps its entity (standing still) for the reconnect
    /// grace; a proper close leaves at once.
    fn leave(&mut self, conn: u64, dropped: bool) {
        let grace = self.config.reconnect_grace;
        match self.clients.get_mut(&conn) {
            Some(c) if dropped && !grace.is_zero() => {
                c.detached_until = Some(Instant::now() + grace);
                self.sim.freeze(c.entity);
                info!(match_id = %self.handle.id, player_id = %c.player_id, grace_secs = grace.as_secs_f64(), "connection dropped; holding the player");
            }
            _ => self.remove(conn),
        }
    }

    /// Players whose grace ran out leave.
    fn expire_detached(&mut self, now: Instant) {
        let expired: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, c)| c.detached_until.is_some_and(|t| now >= t))
            .map(|(k, _)| *k)
            .collect();
        for conn in expired {
            self.remove(conn);
        }
    }

    /// Takes a client out of the match (left, kicked, or closed as too slow).
    fn remove(&mut self, conn: u64) {
        if let Some(client) = self.clients.remove(&conn) {
            self.departed_bytes += client.stats.bytes_out.load(Relaxed);
            self.departed_snapshots += client.snapshots_sent;
            self.sim.remove_player(client.entity);
            self.handle.release_seat(&client.player_id);
            self.metrics.players.fetch_sub(1, Relaxed);
            info!(match_id = %self.handle.id, player_id = %client.player_id, "player left");
        }
    }

    fn replicate(&mut self) {
        let entities = Arc::new(self.sim.snapshot());
        let tick = self.sim.tick();
        self.handle.set_latest(tick, entities.clone());
        self.history.push(Frame {
            tick,
            tick_rate: self.sim.tick_rate(),
            entities,
            events: self.sim.take_events(),
        });
        let too_slow = broadcast(
            &self.sim,
            &self.history,
            &mut self.clients,
            &self.metrics,
            self.timing.slow_limit,
        );
        for conn in too_slow {
            if let Some(c) = self.clients.get_mut(&conn) {
                warn!(match_id = %self.handle.id, player_id = %c.player_id, "closing too-slow client");
                c.close_now(close_code::TOO_SLOW);
            }
            self.remove(conn);
        }
    }

    /// Once a second: bytes and snapshots sent per second, per client and for the match.
    fn sample_rates(&mut self, now: Instant) {
        let (mut bytes, mut snaps) = (self.departed_bytes, self.departed_snapshots);
        for c in self.clients.values_mut() {
            let b = c.stats.bytes_out.load(Relaxed);
            c.bytes_rate.sample(b, now);
            c.snapshot_rate.sample(c.snapshots_sent, now);
            bytes += b;
            snaps += c.snapshots_sent;
        }
        self.bytes_rate.sample(bytes, now);
        self.snapshot_rate.sample(snaps, now);
    }

    fn report(&mut self, detail: bool) -> MatchReport {
        let player_details = detail.then(|| {
            let mut players: Vec<PlayerReport> = self
                .clients
                .values()
                .map(|c| {
                    let (score, deaths) = self.sim.score_of(c.entity);
                    let rtt = c.stats.rtt_us.load(Relaxed);
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
        MatchReport {
            id: self.handle.id.clone(),
            state: if self.sim.outcome().is_some() {
                "ending"
            } else {
                "running"
            },
            players: self.clients.len(),
            capacity: self.handle.options.max_players,
            tick_rate: self.timing.rate,
            snapshot_interval: self.timing.interval,
            tick: self.sim.tick(),
            tick_time: self.tick_times.figures(self.timing.period),
            budget_ms: self.timing.period.as_secs_f64() * 1e3,
            overruns: self.overruns,
            bytes_out_per_sec: self.bytes_rate.per_sec(),
            snapshots_per_sec: self.snapshot_rate.per_sec(),
            player_details,
        }
    }

    /// Applies a timing change now (the start of a tick), tells every client in-band, and
    /// audit-logs who made it.
    fn configure(&mut self, change: TimingChange, by: &str) -> Result<MatchReport, String> {
        let rate = change.tick_rate.unwrap_or(self.timing.rate);
        if !(1..=240).contains(&rate) {
            return Err(format!("tick_rate = {rate} is outside 1..=240"));
        }
        let interval = change
            .snapshot_interval
            .unwrap_or(self.timing.interval.min(rate));
        if !(1..=rate).contains(&interval) {
            return Err(format!(
                "snapshot_interval = {interval} is outside 1..={rate}"
            ));
        }
        let before = self.timing;
        self.sim.set_tick_rate(rate);
        self.timing = Timing::new(rate, interval, self.config.slow_client_timeout);
        self.handle.tick_rate.store(rate, Relaxed);
        self.handle.snapshot_interval.store(interval, Relaxed);
        info!(
            target: "tickwire::audit",
            admin = %by,
            match_id = %self.handle.id,
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
            if c.outbox.try_send(Outgoing::Frame(frame.clone())).is_err() {
                c.pending_frame = Some(frame.clone());
            }
        }
        Ok(self.report(false))
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
        }
    }

    /// Writes the results durably, then sends every player the results and the close code.
    async fn finish(&mut self, reason: EndReason, log: Option<Arc<ResultsLog>>) {
        self.handle.mark_ended();
        let results = self.sim.results();
        info!(match_id = %self.handle.id, ?reason, tick = self.sim.tick(), ?results, "match ended");
        let record = self.record(reason, &results);
        self.handle.set_record(record.clone());
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
        let code = close_code_for(reason);
        for (_, mut client) in self.clients.drain() {
            // The session writes what is queued, then closes with this code when the outbox ends.
            client.stats.close_code.store(code, Relaxed);
            if client
                .outbox
                .try_send(Outgoing::Frame(frame.clone()))
                .is_err()
            {
                client.close_now(code);
            }
            self.handle.release_seat(&client.player_id);
            self.metrics.players.fetch_sub(1, Relaxed);
        }
    }
}
