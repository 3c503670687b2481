//! The match registry: running matches by id, seat accounting and matchmaking.
//!
//! Locks here are std mutexes held for a few instructions and never across an `.await`; the
//! order is always registry map → one match's seats → per-address counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::maps::Maps;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::game::core::{CoreSettings, MatchCore};
use crate::game::info::MatchInfo;
use crate::game::messages::MatchCmd;
use crate::game::options::MatchOptions;
use crate::game::runner::{self, Idle};
use crate::game::sim::Sim;
use crate::lock::lock;
use crate::metrics::Metrics;
use crate::per_ip::{IpSlot, PerIp};
use crate::record::writer::Recorder;
use crate::results::ResultsLog;

pub use crate::game::info::Creator;
pub use crate::seats::Seat;

/// A running match as the rest of the server sees it: what it publishes, and its inbox.
pub struct MatchHandle {
    pub info: Arc<MatchInfo>,
    pub inbox: mpsc::Sender<MatchCmd>,
}

impl std::ops::Deref for MatchHandle {
    type Target = MatchInfo;

    fn deref(&self) -> &MatchInfo {
        &self.info
    }
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
    /// Records every match when `record_dir` is set.
    pub recorder: Option<Arc<Recorder>>,
    /// Places per address: connections, reservations and held players.
    pub per_ip: Arc<PerIp>,
    pub maps: Maps,
}

impl Registry {
    pub fn new(
        config: Arc<Config>,
        metrics: Arc<Metrics>,
        results: Option<Arc<ResultsLog>>,
        recorder: Option<Arc<Recorder>>,
        maps: Maps,
    ) -> Registry {
        Registry {
            matches: Mutex::new(HashMap::new()),
            removed: tokio::sync::Notify::new(),
            per_ip: Arc::new(PerIp::new(config.max_connections_per_ip)),
            config,
            metrics,
            results,
            recorder,
            maps,
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
        let info = Arc::new(MatchInfo::new(
            id.clone(),
            options,
            self.config.seat_reservation,
            creator,
            ticket,
        ));
        let handle = Arc::new(MatchHandle {
            info: info.clone(),
            inbox: tx,
        });
        matches.insert(id.clone(), handle.clone());
        self.metrics.matches.fetch_add(1, Relaxed);
        let arena = self.maps.get(&info.options.map).as_ref().clone();
        let sim = Sim::new(&info.options, arena);
        let mut core = MatchCore::new(
            info,
            sim,
            CoreSettings::from_config(&self.config),
            self.metrics.clone(),
            Instant::now(),
        );
        if let Some(recorder) = &self.recorder {
            core.record_with(recorder);
        }
        let idle = Idle {
            never_joined: self.config.seat_reservation,
            emptied: self.config.empty_match_timeout,
        };
        // The registry spawned the match, so the registry forgets it when it ends; the match
        // itself never calls back (and a weak reference keeps a finished server droppable).
        let registry: Weak<Registry> = Arc::downgrade(self);
        let results = self.results.clone();
        tokio::spawn(async move {
            runner::run(core, rx, idle, results).await;
            if let Some(registry) = registry.upgrade() {
                registry.remove(&id);
            }
        });
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
            m.seats().cancel_reservation(player);
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
            .map(|m| (m.seats().occupied(), m))
            .collect();
        open.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        if let Some((_, m)) = open
            .into_iter()
            .find(|(_, m)| m.seats().reserve(player, ip, &mut slot, now))
        {
            return Ok(m.clone());
        }
        let handle = self.create_locked(&mut matches, options(), None)?;
        handle.seats().reserve(player, ip, &mut slot, now);
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
                m.seats().purge(now);
            }
            self.per_ip.try_acquire(ip)
        })
    }

    /// Forgets a match that has ended.
    fn remove(&self, id: &str) {
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
