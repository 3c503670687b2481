//! An in-memory harness: one [`MatchCore`] and simulated clients stepped tick by tick on a
//! virtual clock, with no sockets and no tokio. Clients get exactly the bytes a WebSocket
//! session would write and keep a [`Mirror`] of the world from them. Same seed and same calls
//! give the same world, so logic tests are exact and fast.
//!
//! ```ignore
//! let mut h = Harness::new(Harness::options(30, 7));
//! let a = h.join("alice");
//! h.input(a, buttons::RIGHT, 0);
//! h.run(30);
//! assert_eq!(h.client(a).mirror().entities(), h.replicated().as_slice());
//! ```

// A test tool: when what a test sets up does not hold (no seat, a frame that does not decode),
// the test fails there, like an assertion, with the reason.
#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::arena::Arena;
use shared::close_code::CloseCode;
use shared::codec::decode_server;
use shared::delta::Entry;
use shared::ids::{ConnId, PlayerId};
use shared::mirror::Mirror;
use shared::protocol::{EndReason, Input, MatchEnded, ServerMsg, Welcome};

use crate::config::Config;
use crate::game::clients::Joiner;
use crate::game::core::{CoreSettings, MatchCore, guarded};
use crate::game::info::MatchInfo;
use crate::game::link::with_trailer;
use crate::game::link::{Flush, Link, Outgoing, Undelivered};
use crate::game::messages::{Command, Reply};
use crate::game::options::MatchOptions;
use crate::game::sim::Sim;
use crate::game::spectators::Watcher;
use crate::lock::lock;
use crate::metrics::Metrics;
use crate::seats::SeatGuard;

/// What the match side and the client side of one in-memory link share.
#[derive(Debug)]
struct LinkState {
    queue: VecDeque<Outgoing>,
    capacity: usize,
    close: Option<(CloseCode, Flush)>,
    /// The client's connection is gone (it dropped or closed).
    gone: bool,
    bytes_out: u64,
}

/// The match's end of an in-memory link.
#[derive(Debug, Clone)]
pub struct MemLink(Arc<Mutex<LinkState>>);

impl Link for MemLink {
    fn send(&mut self, frame: Outgoing) -> Result<(), Undelivered> {
        let mut s = lock(&self.0);
        if s.gone || s.close.is_some() {
            return Err(Undelivered::Gone);
        }
        if s.queue.len() >= s.capacity {
            return Err(Undelivered::Full);
        }
        s.queue.push_back(frame);
        Ok(())
    }

    fn has_room(&self) -> bool {
        let s = lock(&self.0);
        s.queue.len() < s.capacity
    }

    fn close(&mut self, code: CloseCode, flush: Flush) {
        let mut s = lock(&self.0);
        if s.close.is_none() {
            s.close = Some((code, flush));
        }
    }

    fn bytes_out(&self) -> u64 {
        lock(&self.0).bytes_out
    }

    fn rtt_us(&self) -> u64 {
        0
    }
}

/// One simulated client: what it has read, and the world as it mirrors it.
#[derive(Debug)]
pub struct SimClient {
    pub player_id: String,
    link: MemLink,
    /// Reads its frames after every step; a client that does not read fills its queue.
    pub reading: bool,
    /// Keeps every frame's bytes in `frames` (tests of what reaches a client).
    pub record: bool,
    /// The bytes of every frame read while `record` was set, in order.
    pub frames: Vec<Vec<u8>>,
    next_seq: u32,
    pub welcome: Option<Welcome>,
    mirror: Option<Mirror>,
    /// Every snapshot tick it applied, in order.
    pub snapshot_ticks: Vec<u32>,
    /// Every game event its snapshots carried, in order.
    pub events: Vec<shared::protocol::GameEvent>,
    /// MatchSettings received: (from tick, tick rate, snapshot interval).
    pub settings: Vec<(u32, u16, u16)>,
    pub ended: Option<MatchEnded>,
    /// The close code, once the connection is closed.
    pub closed: Option<CloseCode>,
}

impl SimClient {
    /// The client's copy of the world.
    pub fn mirror(&self) -> &Mirror {
        self.mirror
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no Welcome yet", self.player_id))
    }

    /// Its entity's network id (from the Welcome).
    pub fn entity(&self) -> u32 {
        self.welcome.as_ref().map_or_else(
            || panic!("{} has no Welcome yet", self.player_id),
            |w| w.entity,
        )
    }

    /// Frames waiting to be read.
    pub fn queued(&self) -> usize {
        lock(&self.link.0).queue.len()
    }

    /// Reads every queued frame, as a session would write them, then the close if ordered.
    fn read(&mut self) {
        loop {
            let (frame, close) = {
                let mut s = lock(&self.link.0);
                if let Some((code, Flush::Now)) = s.close {
                    s.queue.clear();
                    (None, Some(code))
                } else {
                    let frame = s.queue.pop_front();
                    let close = if frame.is_none() {
                        s.close.map(|c| c.0)
                    } else {
                        None
                    };
                    (frame, close)
                }
            };
            if let Some(code) = close {
                self.closed.get_or_insert(code);
                return;
            }
            let Some(frame) = frame else { return };
            let bytes = match frame {
                Outgoing::Frame(b) => b,
                Outgoing::Snapshot { body, ack } => with_trailer(&body, ack),
            };
            lock(&self.link.0).bytes_out += bytes.len() as u64;
            if self.record {
                self.frames.push(bytes.to_vec());
            }
            self.on_message(decode_server(&bytes).expect("the server's frames decode"));
        }
    }

    fn on_message(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Welcome(w) => {
                self.mirror = Some(Mirror::new(w.arena.clone(), w.tick_rate));
                self.welcome = Some(w);
            }
            ServerMsg::Snapshot(snap) => {
                let tick = self
                    .mirror
                    .as_mut()
                    .expect("a Welcome before snapshots")
                    .apply(&snap)
                    .expect("snapshots apply to the mirror");
                self.snapshot_ticks.push(tick);
                self.events.extend_from_slice(&snap.events);
            }
            ServerMsg::MatchSettings {
                tick,
                tick_rate,
                snapshot_interval,
            } => {
                if let Some(m) = self.mirror.as_mut() {
                    m.set_tick_rate(tick_rate);
                }
                self.settings.push((tick, tick_rate, snapshot_interval));
            }
            ServerMsg::MatchEnded(e) => self.ended = Some(e),
            ServerMsg::Pong { .. } => {}
        }
    }
}

/// A match and its simulated clients on a virtual clock.
pub struct Harness {
    core: MatchCore<MemLink>,
    now: Instant,
    clients: BTreeMap<ConnId, SimClient>,
    next_conn: u64,
    ended: Option<EndReason>,
    /// Frames each new client's queue holds (the server's `outbox_frames`).
    pub outbox_frames: usize,
}

impl Harness {
    /// Match options for tests: 8 seats, `tick_rate`, a snapshot every tick, long limits.
    pub fn options(tick_rate: u16, seed: u64) -> MatchOptions {
        MatchOptions {
            max_players: 8,
            tick_rate,
            snapshot_interval: 1,
            score_limit: 1000,
            time_limit_secs: 3600,
            seed,
            matchmaking: false,
            private: false,
            map: crate::maps::DEFAULT.into(),
            interest_radius: 0,
            lag_compensation_ms: 200,
            max_spectators: 32,
            spectator_delay_ms: 0,
        }
    }

    /// The server's default settings (reconnect grace, slow-client timeout).
    pub fn settings() -> CoreSettings {
        CoreSettings::from_config(&Config::with_secret(Vec::new()))
    }

    /// A match on its embedded map with the default settings.
    pub fn new(options: MatchOptions) -> Harness {
        Harness::with(options, Harness::settings())
    }

    /// A match on its embedded map (`options.map`).
    pub fn with(options: MatchOptions, settings: CoreSettings) -> Harness {
        let maps = crate::maps::Maps::load(None).expect("the embedded maps load");
        let arena = maps.get(&options.map).as_ref().clone();
        Harness::on(arena, options, settings)
    }

    /// A match on a map of the test's own (walls and spawn points where it needs them).
    pub fn on(arena: Arena, options: MatchOptions, settings: CoreSettings) -> Harness {
        let now = Instant::now();
        let sim = Sim::new(&options, arena);
        let info = Arc::new(MatchInfo::new(
            "harness".into(),
            options,
            Duration::from_secs(15),
            None,
            None,
        ));
        let core = MatchCore::new(info, sim, settings, Arc::new(Metrics::default()), now);
        Harness {
            core,
            now,
            clients: BTreeMap::new(),
            next_conn: 1,
            ended: None,
            outbox_frames: Config::with_secret(Vec::new()).outbox_frames,
        }
    }

    /// A new connection of `player` takes a seat and joins (a second connection of the same
    /// player is a reconnect or a replacement). Returns its connection id.
    pub fn join(&mut self, player: &str) -> ConnId {
        let (_, seat) = self
            .core
            .info()
            .take_seat(player, None, None)
            .expect("a free seat");
        self.join_seated(player, seat)
    }

    /// A connection of `player` that took `seat` earlier (as a handshake does before the 101)
    /// joins now.
    pub fn join_seated(&mut self, player: &str, seat: SeatGuard) -> ConnId {
        let (conn, link) = self.connect(player);
        self.apply(Command::Join(Joiner {
            conn,
            player_id: PlayerId(player.to_owned()),
            name: player.to_owned(),
            link,
            seat,
        }));
        self.read_all();
        conn
    }

    /// A spectator connection of `player` (no entity, no seat), or `None` when the match has
    /// as many spectators as it allows.
    pub fn watch(&mut self, player: &str) -> Option<ConnId> {
        let place = self.core.info().take_spectator_place(false, None).ok()?;
        let (conn, link) = self.connect(player);
        self.apply(Command::Watch(Watcher {
            conn,
            player_id: PlayerId(player.to_owned()),
            name: player.to_owned(),
            link,
            place,
            ip_slot: None,
        }));
        self.read_all();
        Some(conn)
    }

    fn connect(&mut self, player: &str) -> (ConnId, MemLink) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        let link = MemLink(Arc::new(Mutex::new(LinkState {
            queue: VecDeque::new(),
            capacity: self.outbox_frames,
            close: None,
            gone: false,
            bytes_out: 0,
        })));
        self.clients.insert(
            conn,
            SimClient {
                player_id: player.to_owned(),
                link: link.clone(),
                reading: true,
                record: false,
                frames: Vec::new(),
                next_seq: 0,
                welcome: None,
                mirror: None,
                snapshot_ticks: Vec::new(),
                events: Vec::new(),
                settings: Vec::new(),
                ended: None,
                closed: None,
            },
        );
        (conn, link)
    }

    /// The client on `conn` holds `buttons` and aims at `aim` (its next input), showing the
    /// world of its newest snapshot.
    pub fn input(&mut self, conn: ConnId, buttons: u8, aim: u16) {
        let view_tick = self
            .clients
            .get(&conn)
            .and_then(|c| c.mirror.as_ref())
            .map_or(0, Mirror::tick);
        self.input_seen(conn, buttons, aim, view_tick);
    }

    /// The client on `conn` sends an input saying it was showing the others at `view_tick`.
    pub fn input_seen(&mut self, conn: ConnId, buttons: u8, aim: u16, view_tick: u32) {
        let client = self.clients.get_mut(&conn).expect("a client");
        client.next_seq += 1;
        let input = Input {
            seq: client.next_seq,
            buttons,
            aim,
            view_tick,
        };
        self.apply(Command::Input { conn, input });
    }

    /// The connection vanishes without a close (the player may come back within the grace).
    pub fn drop_connection(&mut self, conn: ConnId) {
        self.disconnect(conn, true);
    }

    /// The client closes properly: it leaves at once.
    pub fn leave(&mut self, conn: ConnId) {
        self.disconnect(conn, false);
    }

    fn disconnect(&mut self, conn: ConnId, dropped: bool) {
        if let Some(c) = self.clients.get(&conn) {
            lock(&c.link.0).gone = true;
        }
        self.apply(Command::Leave { conn, dropped });
    }

    /// Applies a command now, at the boundary before the next tick (as the shell does with its
    /// inbox).
    pub fn apply(&mut self, cmd: Command<MemLink>) -> Reply {
        let now = self.now;
        self.core.apply(cmd, now)
    }

    /// One tick: the core ticks and publishes, the clock moves one period, and every reading
    /// client reads what it was sent. A panic ends the match with `Error`, as in the shell.
    pub fn step(&mut self) {
        if let Some(reason) = self.ended {
            // Delayed spectators are still shown the end of the match, as the shell does.
            if self
                .core
                .spectators_waiting()
                .is_some_and(|due| due <= self.now)
            {
                self.core.show_spectators(self.now);
            }
            if self.core.spectators_waiting().is_none() {
                self.core.farewell_spectators(reason);
            }
            self.now += self.core.period();
            self.read_all();
            return;
        }
        let now = self.now;
        let core = &mut self.core;
        let ticked = guarded(|| {
            core.tick();
            core.publish(now);
        });
        let reason = match ticked {
            Err(_) => {
                self.core.count_panic();
                Some(EndReason::Error)
            }
            Ok(()) => self.core.outcome(),
        };
        if let Some(reason) = reason {
            self.core.end(reason);
            self.core.farewell(reason);
            self.ended = Some(reason);
        }
        self.now += self.core.period();
        self.read_all();
    }

    /// `ticks` steps.
    pub fn run(&mut self, ticks: u32) {
        for _ in 0..ticks {
            self.step();
        }
    }

    /// Moves the clock forward by `by` without ticking (a stalled match, or time passing
    /// between two steps).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    fn read_all(&mut self) {
        for c in self.clients.values_mut().filter(|c| c.reading) {
            c.read();
        }
    }

    pub fn client(&self, conn: ConnId) -> &SimClient {
        self.clients.get(&conn).expect("a client")
    }

    pub fn client_mut(&mut self, conn: ConnId) -> &mut SimClient {
        self.clients.get_mut(&conn).expect("a client")
    }

    pub fn core(&self) -> &MatchCore<MemLink> {
        &self.core
    }

    /// Bounds the spectator delay queue at `bytes` instead of its 16 MiB (to fill it fast).
    pub fn limit_spectator_queue(&mut self, bytes: usize) {
        self.core.limit_spectator_queue(bytes);
    }

    /// Why the match ended, once it has.
    pub fn ended(&self) -> Option<EndReason> {
        self.ended
    }

    /// The world as last replicated to clients.
    pub fn replicated(&self) -> Vec<Entry> {
        self.core.world().map(|w| w.1).unwrap_or_default()
    }

    /// The simulation's world now, exactly as the wire would carry it.
    pub fn world(&mut self) -> Vec<Entry> {
        self.core.sim.snapshot()
    }

    /// A hash of the world now: equal worlds, equal hashes.
    pub fn world_hash(&mut self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.core.current_tick().hash(&mut h);
        for (id, e) in self.world() {
            id.hash(&mut h);
            format!("{e:?}").hash(&mut h);
        }
        h.finish()
    }

    /// Journals everything applied from now on, as a recorded match does (call it before the
    /// first join); [`Harness::recording`] gives the file.
    pub fn record(&mut self) {
        self.core.sim.record();
    }

    /// The recording so far, exactly as a recorded match's file would hold it: the header,
    /// then every record journaled since [`Harness::record`].
    pub fn recording(&mut self) -> Vec<u8> {
        let header = crate::game::recording::header(
            self.core.info(),
            self.core.sim.arena(),
            self.core.started_at_ms,
        );
        let mut out = crate::record::format::header_bytes(&header);
        if let Some(j) = self.core.sim.journal() {
            out.extend(j.take());
        }
        out
    }

    /// Players the match holds (connected or within their grace).
    pub fn players(&self) -> usize {
        self.core.info().players()
    }
}
