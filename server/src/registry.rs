//! The match registry: running matches by id, seat accounting and matchmaking.
//!
//! Locks here are std mutexes held for a few instructions and never across an `.await`; the
//! order is always registry map → one match's seats.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these short locks leaves consistent data; carry on.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Seats of one match, by player id: players in it (connected, or dropped and within their
/// reconnect grace) plus unexpired matchmaking reservations.
#[derive(Debug)]
struct Seats {
    max: usize,
    holders: HashSet<String>,
    reserved: HashMap<String, Instant>,
    ttl: Duration,
}

/// What taking a seat did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    /// A seat was taken for this connection; give it back if the connection never joins.
    New,
    /// The player already holds a seat here (a reconnect or a second connection).
    Held,
}

impl Seats {
    fn purge(&mut self, now: Instant) {
        let ttl = self.ttl;
        self.reserved.retain(|_, at| now.duration_since(*at) < ttl);
    }

    fn occupied(&self) -> usize {
        self.holders.len() + self.reserved.len()
    }

    fn reserve(&mut self, player: &str, now: Instant) -> bool {
        self.purge(now);
        if self.holders.contains(player) {
            return true;
        }
        if let Some(at) = self.reserved.get_mut(player) {
            *at = now;
            return true;
        }
        if self.occupied() < self.max {
            self.reserved.insert(player.to_owned(), now);
            return true;
        }
        false
    }

    fn take(&mut self, player: &str, now: Instant) -> Option<Seat> {
        self.purge(now);
        if self.holders.contains(player) {
            return Some(Seat::Held);
        }
        if self.reserved.remove(player).is_some() || self.occupied() < self.max {
            self.holders.insert(player.to_owned());
            return Some(Seat::New);
        }
        None
    }
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
    seats: Mutex<Seats>,
    latest: Mutex<Option<(u32, Arc<Vec<Entry>>)>>,
    record: Mutex<Option<MatchRecord>>,
}

impl MatchHandle {
    /// Takes a seat for `player` (theirs if reserved or already held). `None` when the match is
    /// full or over.
    pub fn take_seat(&self, player: &str) -> Option<Seat> {
        if self.is_ended() {
            return None;
        }
        lock(&self.seats).take(player, Instant::now())
    }

    /// Gives back `player`'s seat (they left the match for good).
    pub fn release_seat(&self, player: &str) {
        lock(&self.seats).holders.remove(player);
    }

    /// Players holding seats (connected, or within their reconnect grace).
    pub fn players(&self) -> usize {
        lock(&self.seats).holders.len()
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

/// Why a match could not be created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateError {
    TooManyMatches,
}

/// All running matches.
pub struct Registry {
    matches: Mutex<HashMap<String, Arc<MatchHandle>>>,
    /// Woken whenever a match is unregistered.
    removed: tokio::sync::Notify,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub results: Option<Arc<ResultsLog>>,
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

    /// Starts a match task and registers it.
    pub fn create(
        self: &Arc<Self>,
        options: MatchOptions,
    ) -> Result<Arc<MatchHandle>, CreateError> {
        let mut matches = lock(&self.matches);
        self.create_locked(&mut matches, options)
    }

    fn create_locked(
        self: &Arc<Self>,
        matches: &mut HashMap<String, Arc<MatchHandle>>,
        options: MatchOptions,
    ) -> Result<Arc<MatchHandle>, CreateError> {
        if matches.len() >= self.config.max_matches as usize {
            return Err(CreateError::TooManyMatches);
        }
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
            seats: Mutex::new(Seats {
                max: usize::from(options.max_players),
                holders: HashSet::new(),
                reserved: HashMap::new(),
                ttl: self.config.seat_reservation,
            }),
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

    /// Reserves a seat for `player` in the fullest open matchmaking match with room, or in a
    /// new match made with `options` when none has room.
    pub fn matchmake(
        self: &Arc<Self>,
        player: &str,
        options: impl FnOnce() -> MatchOptions,
    ) -> Result<Arc<MatchHandle>, CreateError> {
        let now = Instant::now();
        let mut matches = lock(&self.matches);
        let mut open: Vec<(usize, &Arc<MatchHandle>)> = matches
            .values()
            .filter(|m| m.options.matchmaking && !m.is_ended())
            .map(|m| (lock(&m.seats).occupied(), m))
            .collect();
        open.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        if let Some((_, m)) = open
            .into_iter()
            .find(|(_, m)| lock(&m.seats).reserve(player, now))
        {
            return Ok(m.clone());
        }
        let handle = self.create_locked(&mut matches, options())?;
        lock(&handle.seats).reserve(player, now);
        Ok(handle)
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
