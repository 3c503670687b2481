//! `MatchCore`: one match's logic as a plain value. It takes commands and a clock and puts
//! what to send into each client's [`Link`]; it never awaits, sleeps or reads the time of day
//! for the world, so the same seed and the same commands at the same ticks give the same world.
//! The async shell (`runner`) and the in-memory harness drive it the same way: apply the
//! commands due, [`MatchCore::tick`], then [`MatchCore::publish`].

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use shared::close_code::CloseCode;
use shared::codec::encode_server;
use shared::delta::Entry;
use shared::ids::{ConnId, NetId, PlayerId};
use shared::protocol::{EndReason, PROTOCOL_VERSION, ServerMsg, Welcome};
use tracing::{info, warn};

use crate::config::Config;
use crate::game::clients::{Client, Clients, Joiner};
use crate::game::history::{Frame, History};
use crate::game::info::MatchInfo;
use crate::game::link::{Flush, Link, Outgoing};
use crate::game::messages::{Command, Reply};
use crate::game::replicate::{self, broadcast};
use crate::game::sim::Sim;
use crate::game::spectators::{Spectators, Watcher};
use crate::game::stats::{Rate, TickTimes};
use crate::game::timing::Timing;
use crate::metrics::Metrics;
use crate::record::format::Departure;
use crate::record::writer::MatchRecording;

/// How often per-client bookkeeping (rate samples, reconnect-grace expiry) runs: it is measured
/// in seconds, so it stays off the per-tick path.
const HOUSEKEEPING_EVERY: Duration = Duration::from_millis(250);

/// The server settings a match core follows.
#[derive(Debug, Clone, Copy)]
pub struct CoreSettings {
    /// How long a dropped player's entity waits for them to come back.
    pub reconnect_grace: Duration,
    /// How long a client may fail to take snapshots before it is closed as too slow.
    pub slow_client_timeout: Duration,
}

impl CoreSettings {
    pub fn from_config(config: &Config) -> CoreSettings {
        CoreSettings {
            reconnect_grace: config.reconnect_grace,
            slow_client_timeout: config.slow_client_timeout,
        }
    }
}

/// One match: the simulation, its clients, and what operators see of it.
pub struct MatchCore<L> {
    pub(crate) info: Arc<MatchInfo>,
    pub(crate) sim: Sim,
    pub(crate) clients: Clients<L>,
    pub(crate) spectators: Spectators<L>,
    history: History,
    replication: replicate::Scratch,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) settings: CoreSettings,
    pub(crate) timing: Timing,
    pub(crate) tick_times: TickTimes,
    pub(crate) overruns: u64,
    pub(crate) bytes_rate: Rate,
    pub(crate) snapshot_rate: Rate,
    /// Totals of clients that have left, so match rates do not drop when someone leaves.
    departed_bytes: u64,
    departed_snapshots: u64,
    next_housekeeping: Instant,
    /// A snapshot tick has passed since the last publish.
    snapshot_due: bool,
    pub(crate) started_at_ms: u64,
    /// Where the journal's bytes go, when the match is recorded.
    pub(crate) recording: Option<MatchRecording>,
}

impl<L: Link> MatchCore<L> {
    pub fn new(
        info: Arc<MatchInfo>,
        sim: Sim,
        settings: CoreSettings,
        metrics: Arc<Metrics>,
        now: Instant,
    ) -> MatchCore<L> {
        let timing = Timing::new(
            info.options.tick_rate,
            info.options.snapshot_interval,
            settings.slow_client_timeout,
        );
        let delay = Duration::from_millis(u64::from(info.options.spectator_delay_ms));
        MatchCore {
            spectators: Spectators::new(delay),
            info,
            sim,
            clients: Clients::new(),
            history: History::default(),
            replication: replicate::Scratch::default(),
            metrics,
            settings,
            timing,
            tick_times: TickTimes::default(),
            overruns: 0,
            bytes_rate: Rate::new(now),
            snapshot_rate: Rate::new(now),
            departed_bytes: 0,
            departed_snapshots: 0,
            next_housekeeping: now + HOUSEKEEPING_EVERY,
            snapshot_due: false,
            started_at_ms: crate::results::unix_ms(),
            recording: None,
        }
    }

    pub fn info(&self) -> &Arc<MatchInfo> {
        &self.info
    }

    /// The time between two ticks at the current tick rate.
    pub fn period(&self) -> Duration {
        self.timing.period
    }

    /// The last simulated tick.
    pub fn current_tick(&self) -> u32 {
        self.sim.tick()
    }

    /// No client is in the match (none connected, none within a reconnect grace).
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Why the match should end, once it should.
    pub fn outcome(&self) -> Option<EndReason> {
        self.sim.outcome()
    }

    /// The newest replicated world (tick and entities), exactly as clients mirror it.
    pub fn world(&self) -> Option<(u32, Vec<Entry>)> {
        self.history
            .latest()
            .map(|f| (f.tick, f.entities.as_ref().clone()))
    }

    /// Applies one command at the current tick boundary, at time `now`.
    pub fn apply(&mut self, cmd: Command<L>, now: Instant) -> Reply {
        match cmd {
            Command::Join(j) => self.join(j, now),
            Command::Watch(w) => self.watch(w, now),
            Command::Input { conn, input } => {
                if let Some(c) = self.clients.get(&conn)
                    && !self.sim.queue_input(c.entity, input)
                {
                    self.metrics.inputs_dropped.fetch_add(1, Relaxed);
                }
            }
            Command::Leave { conn, dropped } => self.leave(conn, dropped, now),
            Command::Configure { change, by } => {
                return Reply::Configured(self.configure(change, &by, now).map(Box::new));
            }
            Command::End { reason, by } => {
                info!(target: "tickwire::audit", admin = %by, match_id = %self.info.id, ?reason, "end match");
                self.sim.end_now(reason);
            }
            Command::Kick { entity, ban, by } => {
                return Reply::Kicked(self.kick(entity, ban, &by, now));
            }
            #[cfg(debug_assertions)]
            Command::InjectPanic => self.sim.inject_panic(),
        }
        Reply::Done
    }

    /// Runs one simulation tick.
    pub fn tick(&mut self) {
        self.sim.step();
        self.snapshot_due |= self
            .sim
            .tick()
            .is_multiple_of(u32::from(self.timing.interval));
    }

    /// After the ticks that were due: replicates once if a snapshot tick passed (or the match
    /// is ending), and runs the housekeeping that is due at `now`.
    pub fn publish(&mut self, now: Instant) {
        if std::mem::take(&mut self.snapshot_due) || self.sim.outcome().is_some() {
            self.replicate(now);
        } else if !self.spectators.is_empty() {
            let slow = self.timing.slow_limit;
            let too_slow = self.spectators.release(now, self.sim.arena(), slow);
            self.close_slow_spectators(too_slow);
        }
        self.info.tick.store(self.sim.tick(), Relaxed);
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + HOUSEKEEPING_EVERY;
            self.sample_rates(now);
            self.expire_detached(now);
            self.flush_recording();
        }
    }

    /// Records how long one tick took (operators' figures), started at `started`.
    pub fn record_tick(&mut self, started: Instant) {
        let took = started.elapsed();
        self.metrics.record_tick(took);
        self.tick_times.record(started, took);
    }

    /// A tick started a whole period late.
    pub fn count_overrun(&mut self) {
        self.overruns += 1;
        self.metrics.overruns.fetch_add(1, Relaxed);
    }

    /// Ticks skipped because the backlog was longer than the catch-up cap.
    pub fn count_dropped(&self, ticks: u64) {
        self.metrics.ticks_dropped.fetch_add(ticks, Relaxed);
    }

    /// The match panicked (it is ending with [`EndReason::Error`]).
    pub fn count_panic(&self) {
        self.metrics.match_panics.fetch_add(1, Relaxed);
    }

    fn join(&mut self, mut j: Joiner<L>, now: Instant) {
        // A handshake that passed its checks before a kick with a ban arrives after it: it is
        // refused here, as the handshake would refuse it now (its seat guard drops with it).
        if self.info.banned(j.player_id.as_str(), j.seat.ip(), now) {
            info!(match_id = %self.info.id, player_id = %j.player_id, "banned player refused at join");
            j.link.close(CloseCode::Kicked, Flush::Now);
            return;
        }
        // The same player again: a reconnect within the grace, or a second connection that
        // replaces the first. Either way it takes over the entity, score and stats.
        let existing = self
            .clients
            .iter()
            .find(|(_, c)| c.player_id == j.player_id)
            .map(|(k, _)| *k);
        if let Some(mut client) = existing.and_then(|k| self.clients.remove(&k)) {
            let resumed = client.detached_until.is_some();
            let conn = j.conn;
            self.welcome(&mut j.link, &j.player_id, client.net_id);
            client.take_over(j, now);
            info!(match_id = %self.info.id, player_id = %client.player_id, entity = %client.net_id, resumed, "player back");
            self.clients.insert(conn, client);
            return;
        }
        // With interest management, whoever watched this match from the joining player's token
        // or address stops now.
        if self.info.options.interest_radius > 0 {
            let closed = self.spectators.close_players_watching(
                &j.player_id,
                j.seat.ip(),
                CloseCode::Replaced,
            );
            self.metrics.spectators.fetch_sub(closed as u64, Relaxed);
        }
        let (entity, net_id) = self.sim.join(&j.name, &j.player_id.0);
        self.welcome(&mut j.link, &j.player_id, net_id);
        info!(match_id = %self.info.id, player_id = %j.player_id, entity = %net_id, "player joined");
        let conn = j.conn;
        self.clients
            .insert(conn, Client::new(j, entity, net_id, now));
        self.metrics.players.fetch_add(1, Relaxed);
    }

    /// A spectator starts watching: a Welcome with no entity, then snapshots of the whole world
    /// (as far behind as the spectator delay says).
    fn watch(&mut self, mut w: Watcher<L>, now: Instant) {
        // With interest management, a player of this match, or anyone on a player's address,
        // may not watch it: spectators see what interest management hides from players.
        // Casters may.
        let ip = w.ip_slot.as_ref().map(|s| s.ip());
        if !w.place.caster()
            && self.info.options.interest_radius > 0
            && self
                .clients
                .values()
                .any(|c| c.player_id == w.player_id || (ip.is_some() && c.seat.ip() == ip))
        {
            info!(match_id = %self.info.id, player_id = %w.player_id, "a player's address may not watch its match");
            w.link.close(CloseCode::Replaced, Flush::Now);
            return;
        }
        let tick = self.spectators.shown_tick(self.sim.tick());
        // Entity 0 and no area of interest: a spectator sees the whole world.
        self.welcome_as(&mut w.link, &w.player_id, (NetId(0), 0), tick);
        info!(match_id = %self.info.id, player_id = %w.player_id, "spectator joined");
        self.spectators.add(w, now);
        self.metrics.spectators.fetch_add(1, Relaxed);
    }

    /// Closes the spectators that were too slow to take their snapshots (4001).
    pub(crate) fn close_slow_spectators(&mut self, too_slow: Vec<ConnId>) {
        for conn in too_slow {
            warn!(match_id = %self.info.id, "closing too-slow spectator");
            self.spectators.close(conn, CloseCode::TooSlow);
            self.metrics.spectators.fetch_sub(1, Relaxed);
        }
    }

    /// Sends a Welcome for `entity` into a fresh link (it has room; if the session is already
    /// gone its Leave follows).
    fn welcome(&self, link: &mut L, player_id: &PlayerId, entity: NetId) {
        let radius = self.info.options.interest_radius;
        self.welcome_as(link, player_id, (entity, radius), self.sim.tick());
    }

    /// A Welcome for `entity` seeing `interest_radius`, at `tick`.
    fn welcome_as(
        &self,
        link: &mut L,
        player_id: &PlayerId,
        (entity, interest_radius): (NetId, u32),
        tick: u32,
    ) {
        let options = &self.info.options;
        let welcome = ServerMsg::Welcome(Welcome {
            protocol_version: PROTOCOL_VERSION,
            match_id: self.info.id.clone(),
            player_id: player_id.0.clone(),
            entity: entity.0,
            tick_rate: self.timing.rate,
            snapshot_interval: self.timing.interval,
            tick,
            score_limit: options.score_limit,
            time_limit_secs: options.time_limit_secs,
            interest_radius,
            arena: self.sim.arena().clone(),
        });
        let _ = link.send(Outgoing::Frame(Bytes::from(encode_server(&welcome))));
    }

    /// A session ended. A dropped one keeps its entity (standing still) for the reconnect
    /// grace; a proper close leaves at once.
    fn leave(&mut self, conn: ConnId, dropped: bool, now: Instant) {
        if self.spectators.remove(conn) {
            self.metrics.spectators.fetch_sub(1, Relaxed);
            return;
        }
        let grace = self.settings.reconnect_grace;
        match self.clients.get_mut(&conn) {
            Some(c) if dropped && !grace.is_zero() => {
                c.detached_until = Some(now + grace);
                self.sim.freeze(c.entity);
                info!(match_id = %self.info.id, player_id = %c.player_id, grace_secs = grace.as_secs_f64(), "connection dropped; holding the player");
            }
            _ => self.remove(conn, Departure::Left),
        }
    }

    /// Removes the player with network id `entity`, closing their connection with KICKED, and
    /// bans them (and their address) from this match for `ban`. False if no such player.
    fn kick(&mut self, entity: NetId, ban: Duration, by: &str, now: Instant) -> bool {
        let Some(conn) = self
            .clients
            .iter()
            .find(|(_, c)| c.net_id == entity)
            .map(|(k, _)| *k)
        else {
            return false;
        };
        info!(target: "tickwire::audit", admin = %by, match_id = %self.info.id, entity = %entity, ban_secs = ban.as_secs_f64(), "kick player");
        if let Some(c) = self.clients.get_mut(&conn) {
            c.link.close(CloseCode::Kicked, Flush::Now);
            if !ban.is_zero() {
                self.info.ban(c.player_id.as_str(), c.seat.ip(), now + ban);
            }
        }
        self.remove(conn, Departure::Kicked);
        true
    }

    /// Players whose grace ran out leave.
    fn expire_detached(&mut self, now: Instant) {
        let expired: Vec<ConnId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.detached_until.is_some_and(|t| now >= t))
            .map(|(k, _)| *k)
            .collect();
        for conn in expired {
            self.remove(conn, Departure::GraceExpired);
        }
    }

    /// Takes a client out of the match (left, kicked, or closed as too slow). Dropping its
    /// record gives back its seat.
    fn remove(&mut self, conn: ConnId, why: Departure) {
        if let Some(client) = self.clients.remove(&conn) {
            self.departed_bytes += client.link.bytes_out();
            self.departed_snapshots += client.snapshots_sent;
            self.sim.remove_player(client.entity, why);
            self.metrics.players.fetch_sub(1, Relaxed);
            info!(match_id = %self.info.id, player_id = %client.player_id, "player left");
        }
    }

    fn replicate(&mut self, now: Instant) {
        let entities = Arc::new(self.sim.snapshot());
        self.history.push(Frame {
            tick: self.sim.tick(),
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
            self.info.options.interest_radius,
            &mut self.replication,
        );
        for conn in too_slow {
            if let Some(c) = self.clients.get_mut(&conn) {
                warn!(match_id = %self.info.id, player_id = %c.player_id, "closing too-slow client");
                c.link.close(CloseCode::TooSlow, Flush::Now);
            }
            self.remove(conn, Departure::TooSlow);
        }
        let sim = &self.sim;
        let too_slow = self.spectators.publish(
            &self.history,
            now,
            sim.arena(),
            |id| sim.name(id),
            self.timing.slow_limit,
        );
        self.close_slow_spectators(too_slow);
    }

    /// Once a second: bytes and snapshots sent per second, per client and for the match.
    fn sample_rates(&mut self, now: Instant) {
        let (mut bytes, mut snaps) = (self.departed_bytes, self.departed_snapshots);
        for c in self.clients.values_mut() {
            let b = c.link.bytes_out();
            c.bytes_rate.sample(b, now);
            c.snapshot_rate.sample(c.snapshots_sent, now);
            bytes += b;
            snaps += c.snapshots_sent;
        }
        self.bytes_rate.sample(bytes, now);
        self.snapshot_rate.sample(snaps, now);
    }
}

/// Runs `f`, turning a panic into its message: a panic in a match ends that match only.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into())
    })
}
