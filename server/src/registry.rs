//! The match registry: running matches by id, seat accounting and matchmaking.
//!
//! Locks here are std mutexes held for a few instructions and never across an `.await`; the
//! order is always registry map → one match's seats → per-address counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use shared::arena::Arena;
use shared::delta::Entry;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::game::messages::MatchCmd;
use crate::game::options::MatchOptions;
use crate::game::runner;
use crate::game::sim::Sim;
use crate::metrics::Metrics;
use crate::results::{MatchRecord, ResultsLog};
use crate::seats::{Refusal, Seats};
use crate::session::per_ip::{IpSlot, PerIp};

pub use crate::seats::Seat;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these short locks leaves consistent data; carry on.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running match as the rest of the server sees it.
pub struct MatchHandle {
    pub id: String,
    /// As created; the live timing is in `tick_rate` / `snapshot_interval`.
    pub options: MatchOptions,
    pub inbox: mpsc::Sender<MatchCmd>,
    pub tick: AtomicU32,
    pub tick_rate: AtomicU16,
    pub snapshot_interval: AtomicU16,
    ended: AtomicBool,
    /// Who created it with `POST /v1/matches` (none for matchmaking and dedicated matches).
    pub creator: Option<Creator>,
    /// A private match's join ticket: given to its creator, needed by anyone without a seat.
    pub ticket: Option<String>,
    seats: Mutex<Seats>,
    latest: Mutex<Option<(u32, Arc<Vec<Entry>>)>>,
    record: Mutex<Option<MatchRecord>>,
}

impl MatchHandle {
    /// Takes a seat for `player` connecting from `ip` (theirs if reserved or already held),
    /// with the address place its reservation kept. A private match needs `ticket` unless the
    /// player has a reservation or a seat.
    pub fn take_seat(
        &self,
        player: &str,
        ip: Option<IpAddr>,
        ticket: Option<&str>,
    ) -> Result<(Seat, Option<IpSlot>), Refusal> {
        if self.is_ended() {
            return Err(Refusal::Full);
        }
        let ticket_ok = match (&self.ticket, ticket) {
            (None, _) => true,
            (Some(want), Some(got)) => constant_time_eq(want.as_bytes(), got.as_bytes()),
            (Some(_), None) => false,
        };
        lock(&self.seats).take(player, ip, ticket_ok, Instant::now())
    }

    /// Gives back `player`'s seat (they left the match for good).
    pub fn release_seat(&self, player: &str) {
        lock(&self.seats).release(player);
    }

    /// Refuses `player` and `ip` a seat in this match until `until` (a kick with a ban).
    pub fn ban(&self, player: &str, ip: Option<IpAddr>, until: Instant) {
        lock(&self.seats).ban(player, ip, until);
    }

    /// Players holding seats (connected, or within their reconnect grace).
    pub fn players(&self) -> usize {
        lock(&self.seats).holders()
    }

    /// Seats held plus unexpired reservations.
    pub fn seats_taken(&self) -> usize {
        let mut seats = lock(&self.seats);
        seats.purge(Instant::now());
        seats.occupied()
    }

    pub fn is_ended(&self) -> bool {
        self.ended.load(Relaxed)
    }

    pub(crate) fn mark_ended(&self) {
        self.ended.store(true, Relaxed);
    }

    /// The newest replicated world (tick, entities); for tests and operators.
    pub fn latest_snapshot(&self) -> Option<(u32, Arc<Vec<Entry>>)> {
        lock(&self.latest).clone()
    }

    /// The final record, once the match has ended.
    pub fn record(&self) -> Option<MatchRecord> {
        lock(&self.record).clone()
    }

    pub(crate) fn set_record(&self, record: MatchRecord) {
        *lock(&self.record) = Some(record);
    }

    pub(crate) fn set_latest(&self, tick: u32, entities: Arc<Vec<Entry>>) {
        *lock(&self.latest) = Some((tick, entities));
    }
}

/// Equal without an early exit, so a ticket cannot be guessed a byte at a time by timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Who created a match, for the per-player and per-address budgets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub player: String,
    pub ip: Option<IpAddr>,
}

/// Why a match could not be created or a seat reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateError {
    /// The server runs `max_matches`.
    TooManyMatches,
    /// The player already has `max_created_matches_per_player` live matches.
    TooManyCreatedByPlayer,
    /// Players of the address already have `max_created_matches_per_ip` live matches.
    TooManyCreatedFromAddress,
    /// The address already holds `max_connections_per_ip` places.
    TooManyFromAddress,
}

/// All running matches.
pub struct Registry {
    matches: Mutex<HashMap<String, Arc<MatchHandle>>>,
    /// Woken whenever a match is unregistered.
    removed: tokio::sync::Notify,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub results: Option<Arc<ResultsLog>>,
    /// Places per address: connections, reservations and held players.
    pub per_ip: Arc<PerIp>,
    arena: Arena,
}

impl Registry {
    pub fn new(
        config: Arc<Config>,
        metrics: Arc<Metrics>,
        results: Option<Arc<ResultsLog>>,
        arena: Arena,
    ) -> Registry {
        Registry {
            matches: Mutex::new(HashMap::new()),
            removed: tokio::sync::Notify::new(),
            per_ip: Arc::new(PerIp::new(config.max_connections_per_ip)),
            config,
            metrics,
            results,
            arena,
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<MatchHandle>> {
        lock(&self.matches).get(id).cloned()
    }

    /// Every running match.
    pub fn list(&self) -> Vec<Arc<MatchHandle>> {
        let mut all: Vec<_> = lock(&self.matches).values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Starts a match task and registers it. A match with a `creator` counts against their
    /// budgets; a private one gets a ticket.
    pub fn create(
        self: &Arc<Self>,
        options: MatchOptions,
        creator: Option<Creator>,
    ) -> Result<Arc<MatchHandle>, CreateError> {
        let mut matches = lock(&self.matches);
        if let Some(c) = &creator {
            let live = || matches.values().filter_map(|m| m.creator.as_ref());
            let by_player = live().filter(|o| o.player == c.player).count();
            if by_player >= self.config.max_created_matches_per_player as usize {
                return Err(CreateError::TooManyCreatedByPlayer);
            }
            let from_ip = live().filter(|o| c.ip.is_some() && o.ip == c.ip).count();
            if from_ip >= self.config.max_created_matches_per_ip as usize {
                return Err(CreateError::TooManyCreatedFromAddress);
            }
        }
        self.create_locked(&mut matches, options, creator)
    }

    fn create_locked(
        self: &Arc<Self>,
        matches: &mut HashMap<String, Arc<MatchHandle>>,
        options: MatchOptions,
        creator: Option<Creator>,
    ) -> Result<Arc<MatchHandle>, CreateError> {
        if matches.len() >= self.config.max_matches as usize {
            return Err(CreateError::TooManyMatches);
        }
        let ticket = options
            .private
            .then(|| format!("{:032x}", rand::random::<u128>()));
        let id = loop {
            let id = format!("{:012x}", rand::random::<u64>() >> 16);
            if !matches.contains_key(&id) {
                break id;
            }
        };
        let (tx, rx) = mpsc::channel(self.config.match_inbox);
        let handle = Arc::new(MatchHandle {
            id: id.clone(),
            inbox: tx,
            tick: AtomicU32::new(0),
            tick_rate: AtomicU16::new(options.tick_rate),
            snapshot_interval: AtomicU16::new(options.snapshot_interval),
            ended: AtomicBool::new(false),
            creator,
            ticket,
            seats: Mutex::new(Seats::new(
                usize::from(options.max_players),
                self.config.seat_reservation,
            )),
            latest: Mutex::new(None),
            record: Mutex::new(None),
            options,
        });
        matches.insert(id, handle.clone());
        self.metrics.matches.fetch_add(1, Relaxed);
        let sim = Sim::new(&handle.options, self.arena.clone());
        tokio::spawn(runner::run(handle.clone(), rx, sim, self.clone()));
        Ok(handle)
    }

    /// Reserves a seat for `player` (from `ip`) in the fullest open matchmaking match with
    /// room, or in a new match made with `options` when none has room. A player has one
    /// reservation at a time (a new matchmake replaces the old one), and it holds a place
    /// of its address's cap until used or expired.
    pub fn matchmake(
        self: &Arc<Self>,
        player: &str,
        ip: Option<IpAddr>,
        options: impl FnOnce() -> MatchOptions,
    ) -> Result<Arc<MatchHandle>, CreateError> {
        let now = Instant::now();
        let mut matches = lock(&self.matches);
        for m in matches.values() {
            lock(&m.seats).cancel_reservation(player);
        }
        let mut slot = match ip {
            Some(ip) => Some(
                self.acquire_ip_locked(&matches, ip, now)
                    .ok_or(CreateError::TooManyFromAddress)?,
            ),
            None => None,
        };
        let mut open: Vec<(usize, &Arc<MatchHandle>)> = matches
            .values()
            .filter(|m| m.options.matchmaking && !m.is_ended())
            .map(|m| (lock(&m.seats).occupied(), m))
            .collect();
        open.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        if let Some((_, m)) = open
            .into_iter()
            .find(|(_, m)| lock(&m.seats).reserve(player, ip, &mut slot, now))
        {
            return Ok(m.clone());
        }
        let handle = self.create_locked(&mut matches, options(), None)?;
        lock(&handle.seats).reserve(player, ip, &mut slot, now);
        Ok(handle)
    }

    /// A place under `ip`'s cap for a connection. When the address is at its cap, expired
    /// reservations are dropped first (they give their places back only when purged).
    pub fn acquire_ip(&self, ip: IpAddr) -> Option<IpSlot> {
        let matches = lock(&self.matches);
        self.acquire_ip_locked(&matches, ip, Instant::now())
    }

    fn acquire_ip_locked(
        &self,
        matches: &HashMap<String, Arc<MatchHandle>>,
        ip: IpAddr,
        now: Instant,
    ) -> Option<IpSlot> {
        self.per_ip.try_acquire(ip).or_else(|| {
            for m in matches.values() {
                lock(&m.seats).purge(now);
            }
            self.per_ip.try_acquire(ip)
        })
    }

    /// Forgets a match that has ended.
    pub(crate) fn remove(&self, id: &str) {
        if lock(&self.matches).remove(id).is_some() {
            self.metrics.matches.fetch_sub(1, Relaxed);
        }
        self.removed.notify_waiters();
    }

    /// Completes when no match is running.
    pub async fn all_ended(&self) {
        loop {
            let removed = self.removed.notified();
            if lock(&self.matches).is_empty() {
                return;
            }
            removed.await;
        }
    }
}
