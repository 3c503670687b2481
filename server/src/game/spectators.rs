//! Spectators: connections that watch a match without an entity or a seat. They get a Welcome
//! (entity 0) and snapshots of the whole world like a player with interest management off,
//! capped per match (`max_spectators`). With `spectator_delay_ms` they see the match that far
//! behind: frames (and timing changes) wait in a queue until they are old enough, so a
//! spectator cannot tell a player what is happening now. The queue exists only while someone
//! watches (the first spectator's first snapshot comes one delay after it joined), and holds at
//! most [`QUEUE_BYTES`]: past what fits, frames are thinned evenly (every k-th kept), and the
//! events of those left out ride on the next kept one.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use shared::arena::Arena;
use shared::close_code::CloseCode;
use shared::ids::{ConnId, PlayerId};

use crate::game::history::{EncodeScratch, Frame, History};
use crate::game::info::SpectatorPlace;
use crate::game::link::{Flush, Link, Outgoing, Undelivered};
use crate::per_ip::IpSlot;

/// The most a match's delay queue holds, estimated from what its frames own (16 MiB: 120 s of
/// a 32-player 60 Hz match fits whole).
pub const QUEUE_BYTES: usize = 16 << 20;

/// A queued frame's cost: its entities, its events and the queue's own entry.
fn frame_bytes(f: &Frame) -> usize {
    64 + f.entities.len() * std::mem::size_of::<shared::delta::Entry>()
        + f.events.len() * std::mem::size_of::<shared::protocol::GameEvent>()
}

/// A connection entering the match as a spectator, with the place its handshake took.
pub struct Watcher<L> {
    pub conn: ConnId,
    pub player_id: PlayerId,
    pub name: String,
    pub link: L,
    /// Its place under `max_spectators`, held while it watches.
    pub place: SpectatorPlace,
    /// Its address's place under `max_connections_per_ip`.
    pub ip_slot: Option<IpSlot>,
}

/// The match's record of one spectator.
pub struct Spectator<L> {
    pub player_id: PlayerId,
    pub name: String,
    pub link: L,
    pub since: Instant,
    baseline: Option<u32>,
    skipped_in_row: u32,
    _place: SpectatorPlace,
    _ip_slot: Option<IpSlot>,
}

impl<L> Spectator<L> {
    /// A caster (a spectator token) rather than a player token watching.
    pub fn caster(&self) -> bool {
        self._place.caster()
    }

    /// The address it came from, when known.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self._ip_slot.as_ref().map(IpSlot::ip)
    }
}

/// Something spectators are shown once it is `delay` old.
enum Pending {
    Frame(Frame),
    /// An encoded MatchSettings.
    Settings(Bytes),
}

/// A match's spectators and, with a delay, what they have not been shown yet.
pub struct Spectators<L> {
    list: HashMap<ConnId, Spectator<L>>,
    delay: Duration,
    pending: VecDeque<(Instant, Pending)>,
    /// With a delay: the frames spectators were shown (their baselines point into it).
    shown: History,
    /// With a delay: names of the players in queued frames (one may leave before they show).
    names: HashMap<u32, String>,
    scratch: EncodeScratch,
    bodies: Vec<(u32, Bytes)>,
    /// What the queued frames cost ([`frame_bytes`]), and the most they may.
    queued_bytes: usize,
    budget: usize,
    /// Frames offered to the queue, for thinning; events of frames left out.
    offered: u64,
    carried: Vec<shared::protocol::GameEvent>,
}

impl<L: Link> Spectators<L> {
    pub fn new(delay: Duration) -> Spectators<L> {
        Spectators {
            list: HashMap::new(),
            delay,
            pending: VecDeque::new(),
            shown: History::default(),
            names: HashMap::new(),
            scratch: EncodeScratch::default(),
            bodies: Vec::new(),
            queued_bytes: 0,
            budget: QUEUE_BYTES,
            offered: 0,
            carried: Vec::new(),
        }
    }

    /// Sets the queue's byte budget (tests use a small one to see it hold).
    pub fn set_budget(&mut self, bytes: usize) {
        self.budget = bytes;
    }

    /// What the delay queue holds now, estimated ([`frame_bytes`]).
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Spectator<L>> {
        self.list.values()
    }

    /// The tick of the newest world spectators are shown (`live_tick` without a delay).
    pub fn shown_tick(&self, live_tick: u32) -> u32 {
        if self.delay.is_zero() {
            live_tick
        } else {
            self.shown.latest().map_or(0, |f| f.tick)
        }
    }

    /// Adds a spectator whose link already carries its Welcome.
    pub fn add(&mut self, w: Watcher<L>, now: Instant) {
        let spectator = Spectator {
            player_id: w.player_id,
            name: w.name,
            link: w.link,
            since: now,
            baseline: None,
            skipped_in_row: 0,
            _place: w.place,
            _ip_slot: w.ip_slot,
        };
        self.list.insert(w.conn, spectator);
    }

    /// Forgets a spectator; false if `conn` is not one.
    pub fn remove(&mut self, conn: ConnId) -> bool {
        self.list.remove(&conn).is_some()
    }

    /// A timing change: shown now without a delay, else when it is old enough.
    pub fn settings(&mut self, frame: Bytes, now: Instant) {
        if self.delay.is_zero() {
            for s in self.list.values_mut() {
                // A spectator whose link is full misses it and is closed as too slow soon.
                let _ = s.link.send(Outgoing::Frame(frame.clone()));
            }
        } else {
            self.pending.push_back((now, Pending::Settings(frame)));
        }
    }

    /// After the match replicated `live`'s newest frame: sends spectators what they are to see
    /// now. Returns those skipped `slow_limit` times in a row (to be closed as too slow).
    pub fn publish(
        &mut self,
        live: &History,
        now: Instant,
        arena: &Arena,
        name_of: impl Fn(u32) -> String,
        slow_limit: u32,
    ) -> Vec<ConnId> {
        if self.delay.is_zero() {
            if self.list.is_empty() {
                return Vec::new();
            }
            return self.send(live, arena, name_of, slow_limit);
        }
        if self.list.is_empty() {
            // Nobody delayed is watching: keep nothing. The next spectator starts a new queue.
            self.forget_queue();
            return Vec::new();
        }
        if let Some(f) = live.latest() {
            for (id, _) in f.entities.iter() {
                if !self.names.contains_key(id) {
                    let name = name_of(*id);
                    if !name.is_empty() {
                        self.names.insert(*id, name);
                    }
                }
            }
            self.queue(f, now);
        }
        self.release(now, arena, slow_limit)
    }

    /// Queues `f` if it fits: every k-th frame is kept, k chosen so a whole delay of frames
    /// this size fits the budget; a frame over the budget anyway waits for room. An empty queue
    /// always takes the frame, so frames larger than the whole budget are still shown, one at
    /// a time, and the events carried cannot pile up. The events of a frame left out go with the next
    /// one kept.
    fn queue(&mut self, f: &Frame, now: Instant) {
        let bytes = frame_bytes(f);
        let per_second = f64::from(f.tick_rate.max(1));
        let whole_delay = bytes as f64 * per_second * self.delay.as_secs_f64();
        let stride = (whole_delay / self.budget.max(1) as f64).ceil().max(1.0) as u64;
        self.offered += 1;
        let room = self.queued_bytes + bytes <= self.budget;
        let kept = self.offered.is_multiple_of(stride) && room;
        if !kept && !self.pending.is_empty() {
            self.carried.extend_from_slice(&f.events);
            return;
        }
        let mut events = std::mem::take(&mut self.carried);
        events.extend_from_slice(&f.events);
        let copy = Frame {
            tick: f.tick,
            tick_rate: f.tick_rate,
            entities: f.entities.clone(),
            events,
        };
        self.queued_bytes += frame_bytes(&copy);
        self.pending.push_back((now, Pending::Frame(copy)));
    }

    /// Drops the queue and what was shown (nobody is watching).
    fn forget_queue(&mut self) {
        if !self.pending.is_empty() || self.shown.latest().is_some() {
            self.pending.clear();
            self.shown = History::default();
            self.names.clear();
            self.carried.clear();
            self.queued_bytes = 0;
        }
    }

    /// Whether something waits to be shown (a delayed match keeps spectators after its end
    /// until it is all shown).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() && !self.list.is_empty()
    }

    /// When the oldest waiting thing becomes due.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.front().map(|(at, _)| *at + self.delay)
    }

    /// Shows spectators everything that is `delay` old at `now`.
    pub fn release(&mut self, now: Instant, arena: &Arena, slow_limit: u32) -> Vec<ConnId> {
        let mut fresh = false;
        while let Some((at, _)) = self.pending.front() {
            if *at + self.delay > now {
                break;
            }
            let Some((_, item)) = self.pending.pop_front() else {
                break;
            };
            match item {
                Pending::Frame(f) => {
                    self.queued_bytes = self.queued_bytes.saturating_sub(frame_bytes(&f));
                    self.shown.push(f);
                    fresh = true;
                }
                Pending::Settings(frame) => {
                    // Snapshots shown so far go first: they ran at the old rate.
                    if fresh {
                        self.flush_shown(arena, slow_limit);
                        fresh = false;
                    }
                    for s in self.list.values_mut() {
                        let _ = s.link.send(Outgoing::Frame(frame.clone()));
                    }
                }
            }
        }
        if fresh {
            return self.flush_shown(arena, slow_limit);
        }
        Vec::new()
    }

    fn flush_shown(&mut self, arena: &Arena, slow_limit: u32) -> Vec<ConnId> {
        if self.list.is_empty() {
            return Vec::new();
        }
        let shown = std::mem::take(&mut self.shown);
        let names = std::mem::take(&mut self.names);
        let too_slow = self.send(
            &shown,
            arena,
            |id| names.get(&id).cloned().unwrap_or_default(),
            slow_limit,
        );
        self.shown = shown;
        self.names = names;
        too_slow
    }

    /// Sends `history`'s newest frame to every spectator with room: one body per baseline.
    fn send(
        &mut self,
        history: &History,
        arena: &Arena,
        name_of: impl Fn(u32) -> String,
        slow_limit: u32,
    ) -> Vec<ConnId> {
        let Some(latest) = history.latest().map(|f| f.tick) else {
            return Vec::new();
        };
        self.scratch.next_broadcast();
        let mut too_slow = Vec::new();
        for (conn, s) in self.list.iter_mut() {
            if s.baseline == Some(latest) {
                continue;
            }
            if s.link.has_room() {
                let baseline = s.baseline.filter(|b| history.holds(*b)).unwrap_or(0);
                let body = match self.bodies.iter().find(|(b, _)| *b == baseline) {
                    Some((_, body)) => body.clone(),
                    None => {
                        let body = Bytes::from(history.encode_latest(
                            baseline,
                            None,
                            arena,
                            &name_of,
                            &mut self.scratch,
                        ));
                        self.bodies.push((baseline, body.clone()));
                        body
                    }
                };
                match s.link.send(Outgoing::Snapshot { body, ack: 0 }) {
                    Ok(()) => {
                        s.baseline = Some(latest);
                        s.skipped_in_row = 0;
                        continue;
                    }
                    Err(Undelivered::Gone) => continue,
                    Err(Undelivered::Full) => {}
                }
            }
            s.skipped_in_row += 1;
            if s.skipped_in_row >= slow_limit {
                too_slow.push(*conn);
            }
        }
        self.bodies.clear();
        too_slow
    }

    /// Closes, with `code`, the spectators who are not casters and are `player` or come from
    /// `ip` (a player of the match is on that address); how many.
    pub fn close_players_watching(
        &mut self,
        player: &PlayerId,
        ip: Option<std::net::IpAddr>,
        code: CloseCode,
    ) -> usize {
        let watching: Vec<ConnId> = self
            .list
            .iter()
            .filter(|(_, s)| {
                !s.caster() && (s.player_id == *player || (ip.is_some() && s.ip() == ip))
            })
            .map(|(c, _)| *c)
            .collect();
        for conn in &watching {
            self.close(*conn, code);
        }
        watching.len()
    }

    /// Closes a spectator (too slow).
    pub fn close(&mut self, conn: ConnId, code: CloseCode) {
        if let Some(mut s) = self.list.remove(&conn) {
            s.link.close(code, Flush::Now);
        }
    }

    /// The match is over (and, with a delay, everything was shown): `frame` (MatchEnded) to
    /// every spectator, then the close.
    pub fn farewell(&mut self, frame: &Bytes, code: CloseCode) -> usize {
        let n = self.list.len();
        for (_, mut s) in self.list.drain() {
            let flush = match s.link.send(Outgoing::Frame(frame.clone())) {
                Ok(()) => Flush::Queued,
                Err(_) => Flush::Now,
            };
            s.link.close(code, flush);
        }
        n
    }
}
