//! `MatchInfo`: what the rest of the server may read about a running match (its options, live
//! timing, seats and final record) without asking the match task.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::address_counts::AddressCounts;
use crate::game::options::MatchOptions;
use crate::lock::lock;
use crate::results::MatchRecord;
use crate::seats::{self, Refusal, Seat, SeatGuard, Seats};

/// Who created a match, for the per-player and per-address budgets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub player: String,
    pub ip: Option<IpAddr>,
}

/// A match as everyone but its task sees it. The task writes the atomics; others read them.
#[derive(Debug)]
pub struct MatchInfo {
    pub id: String,
    /// As created; the live timing is in `tick_rate` / `snapshot_interval`.
    pub options: MatchOptions,
    pub tick: AtomicU32,
    pub tick_rate: AtomicU16,
    pub snapshot_interval: AtomicU16,
    ended: AtomicBool,
    /// Who created it with `POST /v1/matches` (none for matchmaking and dedicated matches).
    pub creator: Option<Creator>,
    /// A private match's join ticket: given to its creator, needed by anyone without a seat.
    pub ticket: Option<String>,
    seats: Arc<Mutex<Seats>>,
    /// Spectator places taken (connected spectators and handshakes on their way in).
    /// Spectator places taken, in all and per address (casters are not counted per address).
    spectators: Arc<Mutex<AddressCounts>>,
    record: Mutex<Option<MatchRecord>>,
}

impl MatchInfo {
    /// A match about to start; reservations in it expire after `seat_ttl`.
    pub fn new(
        id: String,
        options: MatchOptions,
        seat_ttl: Duration,
        creator: Option<Creator>,
        ticket: Option<String>,
    ) -> MatchInfo {
        MatchInfo {
            id,
            tick: AtomicU32::new(0),
            tick_rate: AtomicU16::new(options.tick_rate),
            snapshot_interval: AtomicU16::new(options.snapshot_interval),
            ended: AtomicBool::new(false),
            creator,
            ticket,
            seats: Arc::new(Mutex::new(Seats::new(
                usize::from(options.max_players),
                seat_ttl,
            ))),
            spectators: Arc::default(),
            record: Mutex::new(None),
            options,
        }
    }

    /// Takes a seat for `player` connecting from `ip` (theirs if reserved or already held),
    /// with the address place its reservation kept. A private match needs `ticket` unless the
    /// player has a reservation or a seat.
    pub fn take_seat(
        &self,
        player: &str,
        ip: Option<IpAddr>,
        ticket: Option<&str>,
    ) -> Result<(Seat, SeatGuard), Refusal> {
        if self.is_ended() {
            return Err(Refusal::Full);
        }
        let ticket_ok = self.ticket_ok(ticket);
        seats::take(&self.seats, player, ip, ticket_ok, Instant::now())
    }

    /// Whether `ticket` lets a player without a seat in: always for a public match.
    pub fn ticket_ok(&self, ticket: Option<&str>) -> bool {
        match (&self.ticket, ticket) {
            (None, _) => true,
            (Some(want), Some(got)) => constant_time_eq(want.as_bytes(), got.as_bytes()),
            (Some(_), None) => false,
        }
    }

    /// The seats, for matchmaking (reserve, cancel, purge, count).
    pub(crate) fn seats(&self) -> MutexGuard<'_, Seats> {
        lock(&self.seats)
    }

    /// Whether `player` (or `ip`) is banned from this match now.
    pub fn banned(&self, player: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        self.seats().banned(player, ip, now)
    }

    /// Refuses `player` and `ip` a seat in this match until `until` (a kick with a ban).
    pub fn ban(&self, player: &str, ip: Option<IpAddr>, until: Instant) {
        self.seats().ban(player, ip, until);
    }

    /// Players holding seats (connected, or within their reconnect grace).
    pub fn players(&self) -> usize {
        self.seats().holders()
    }

    /// Seats held plus unexpired reservations.
    pub fn seats_taken(&self) -> usize {
        let mut seats = self.seats();
        seats.purge(Instant::now());
        seats.occupied()
    }

    /// A spectator's place, if the match has fewer than `max_spectators` and has not ended.
    pub fn take_spectator_place(
        &self,
        caster: bool,
        ip: Option<IpAddr>,
    ) -> Result<SpectatorPlace, SpectatorRefusal> {
        if self.is_ended() {
            return Err(SpectatorRefusal::Full);
        }
        let cap = usize::from(self.options.max_spectators);
        let mut counts = lock(&self.spectators);
        if counts.total() >= cap {
            return Err(SpectatorRefusal::Full);
        }
        // Casters (spectator tokens, minted by an operator) may take any place; the public
        // may not take the last quarter, nor more than an eighth (at least two) per address.
        if !caster {
            if counts.total() >= cap - cap / 4 {
                return Err(SpectatorRefusal::Full);
            }
            if let Some(ip) = ip
                && counts.of(ip) as usize >= (cap / 8).max(2)
            {
                return Err(SpectatorRefusal::AddressShare);
            }
        }
        let ip = ip.filter(|_| !caster);
        counts.add(ip);
        drop(counts);
        Ok(SpectatorPlace {
            counts: self.spectators.clone(),
            ip,
            caster,
        })
    }

    /// Spectators watching (or on their way in).
    pub fn spectators(&self) -> u32 {
        lock(&self.spectators).total() as u32
    }

    pub fn is_ended(&self) -> bool {
        self.ended.load(Relaxed)
    }

    /// The final record, once the match has ended.
    pub fn record(&self) -> Option<MatchRecord> {
        lock(&self.record).clone()
    }

    /// The match has ended with `record`: no seat is given from now on.
    pub(crate) fn set_ended(&self, record: MatchRecord) {
        self.ended.store(true, Relaxed);
        *lock(&self.record) = Some(record);
    }
}

/// One spectator's place under `max_spectators`, given back when dropped.
#[derive(Debug)]
pub struct SpectatorPlace {
    counts: Arc<Mutex<AddressCounts>>,
    /// The address it counts against (none for a caster, or when unknown).
    ip: Option<IpAddr>,
    caster: bool,
}

impl SpectatorPlace {
    /// Whether it was taken with a spectator token (a caster's, minted by an operator).
    pub fn caster(&self) -> bool {
        self.caster
    }
}

impl Drop for SpectatorPlace {
    fn drop(&mut self) {
        lock(&self.counts).remove(self.ip);
    }
}

/// Why a spectator got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectatorRefusal {
    /// Every place it may take is taken (the last quarter is kept for casters).
    Full,
    /// Its address holds its share (an eighth of `max_spectators`, at least two).
    AddressShare,
}

/// Equal without an early exit, so a ticket cannot be guessed a byte at a time by timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
