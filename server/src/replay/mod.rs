//! Runs a recording again: the same simulation, fed the recorded commands tick by tick, checked
//! against every recorded world hash, the players' entity ids and the results. The first
//! difference is reported with its tick. [`stream`] turns a replay into the viewer's snapshot
//! stream, [`cli`] is `tickwire-server replay`. (Recordings themselves are `crate::record`, below
//! the match; replaying one runs a match, so this module is above it.)

pub mod cli;
pub mod stream;

use std::collections::HashMap;

use bevy_ecs::entity::Entity;
use shared::protocol::{EndReason, PlayerResult};

use crate::game::options::MatchOptions;
use crate::game::sim::Sim;
use crate::record::format::{Header, Op};
use crate::record::reader::{self, ReadError, Reader, Record};

/// Where a replay departs from its recording.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayError {
    /// The file cannot be read (see [`ReadError`]).
    Read(ReadError),
    /// The world after `tick` hashes differently than recorded.
    Hash {
        tick: u32,
        recorded: u32,
        replayed: u32,
    },
    /// A join at `tick` was given another entity id than recorded.
    Join {
        tick: u32,
        recorded: u32,
        replayed: u32,
    },
    /// A command at `tick` names a player who is not in the match.
    UnknownPlayer { tick: u32, id: u32 },
    /// The recording has no results: the server stopped before the match ended.
    Incomplete { tick: u32 },
    /// The match ended at another tick, for another reason, or with other results.
    Results {
        tick: u32,
        recorded: String,
        replayed: String,
    },
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Read(e) => e.fmt(f),
            ReplayError::Hash {
                tick,
                recorded,
                replayed,
            } => write!(
                f,
                "diverged at tick {tick}: world hash {replayed:08x}, recorded {recorded:08x}"
            ),
            ReplayError::Join {
                tick,
                recorded,
                replayed,
            } => write!(
                f,
                "diverged at tick {tick}: a join got entity {replayed}, recorded {recorded}"
            ),
            ReplayError::UnknownPlayer { tick, id } => {
                write!(f, "diverged at tick {tick}: no player with entity {id}")
            }
            ReplayError::Incomplete { tick } => write!(
                f,
                "incomplete: the recording stops at tick {tick} without the match's results"
            ),
            ReplayError::Results {
                tick,
                recorded,
                replayed,
            } => write!(
                f,
                "results differ at tick {tick}: replayed {replayed}, recorded {recorded}"
            ),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<ReadError> for ReplayError {
    fn from(e: ReadError) -> ReplayError {
        ReplayError::Read(e)
    }
}

/// How the recorded match ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub tick: u32,
    pub reason: EndReason,
    pub results: Vec<PlayerResult>,
}

/// What a complete replay checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub ticks: u32,
    pub hashes: u32,
    pub joins: u32,
    pub inputs: u64,
    pub ending: Ending,
}

/// The match options a recording describes.
pub fn options_of(h: &Header) -> MatchOptions {
    let o = &h.options;
    MatchOptions {
        max_players: o.max_players,
        tick_rate: o.tick_rate,
        snapshot_interval: o.snapshot_interval,
        score_limit: o.score_limit,
        time_limit_secs: o.time_limit_secs,
        seed: o.seed,
        matchmaking: false,
        private: o.private,
        map: o.map.clone(),
        interest_radius: o.interest_radius,
        lag_compensation_ms: o.lag_compensation_ms,
        max_spectators: 32,
        spectator_delay_ms: 0,
    }
}

/// A recording being run again, one tick at a time.
pub struct Replayer<'a> {
    pub header: Header,
    reader: Reader<'a>,
    sim: Sim,
    entities: HashMap<u32, Entity>,
    /// Ticks of a STEPS record not run yet.
    steps_left: u32,
    /// Recorded snapshot interval (replication only).
    pub snapshot_interval: u16,
    pub ending: Option<Ending>,
    pub hashes: u32,
    pub joins: u32,
    pub inputs: u64,
    /// Compare the recorded world hashes (on by default; off to run an altered recording on).
    pub check_hashes: bool,
}

impl<'a> Replayer<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Replayer<'a>, ReplayError> {
        let (header, reader) = reader::open(bytes)?;
        let sim = Sim::new(&options_of(&header), header.arena.clone());
        Ok(Replayer {
            snapshot_interval: header.options.snapshot_interval,
            header,
            reader,
            sim,
            entities: HashMap::new(),
            steps_left: 0,
            ending: None,
            hashes: 0,
            joins: 0,
            inputs: 0,
            check_hashes: true,
        })
    }

    /// The simulation as replayed so far.
    pub fn sim(&mut self) -> &mut Sim {
        &mut self.sim
    }

    /// Applies the commands before the next tick and runs it; `None` once the recording is
    /// over (every hash and the results checked).
    pub fn next_tick(&mut self) -> Result<Option<u32>, ReplayError> {
        loop {
            if self.steps_left > 0 {
                self.steps_left -= 1;
                self.sim.step();
                return Ok(Some(self.sim.tick()));
            }
            let Some(record) = self.reader.next() else {
                return self.finish().map(|()| None);
            };
            let tick = self.sim.tick();
            match record? {
                Record::Steps(n) => self.steps_left = n,
                Record::Hash(_) if !self.check_hashes => {}
                Record::Hash(recorded) => {
                    let replayed = self.sim.hash();
                    if replayed != recorded {
                        return Err(ReplayError::Hash {
                            tick,
                            recorded,
                            replayed,
                        });
                    }
                    self.hashes += 1;
                }
                Record::Input { id, input } => {
                    let e = self.entity(id, tick)?;
                    self.sim.queue_input(e, input);
                    self.inputs += 1;
                }
                Record::Op(op) => self.apply(op, tick)?,
            }
        }
    }

    fn entity(&self, id: u32, tick: u32) -> Result<Entity, ReplayError> {
        self.entities
            .get(&id)
            .copied()
            .ok_or(ReplayError::UnknownPlayer { tick, id })
    }

    fn apply(&mut self, op: Op, tick: u32) -> Result<(), ReplayError> {
        if self.ending.is_some() {
            return Err(ReadError::Corrupt {
                offset: self.reader.offset(),
                tick,
                what: "records after the results",
            }
            .into());
        }
        match op {
            Op::Join {
                id,
                name,
                player_id,
            } => {
                let (e, got) = self.sim.join(&name, &player_id);
                if got.0 != id {
                    return Err(ReplayError::Join {
                        tick,
                        recorded: id,
                        replayed: got.0,
                    });
                }
                self.entities.insert(id, e);
                self.joins += 1;
            }
            Op::Freeze { id } => {
                let e = self.entity(id, tick)?;
                self.sim.freeze(e);
            }
            Op::Remove { id, why } => {
                let e = self.entity(id, tick)?;
                self.sim.remove_player(e, why);
                self.entities.remove(&id);
            }
            Op::TickRate { rate } => self.sim.set_tick_rate(rate),
            Op::SnapshotInterval { interval } => self.snapshot_interval = interval,
            Op::End { reason } => self.sim.end_now(reason),
            Op::Results {
                tick: at,
                reason,
                results,
            } => {
                self.ending = Some(Ending {
                    tick: at,
                    reason,
                    results,
                });
            }
        }
        Ok(())
    }

    /// At the end of the records: the results must be there and be what the replay gives.
    fn finish(&mut self) -> Result<(), ReplayError> {
        let tick = self.sim.tick();
        let Some(ending) = &self.ending else {
            return Err(ReplayError::Incomplete { tick });
        };
        // A match stopped by a panic ended inside a tick that never finished (and so was
        // never recorded): the hashes up to it are what can be checked.
        if ending.reason == EndReason::Error {
            return Ok(());
        }
        let replayed = self.sim.results();
        // A score or time limit is the world's own decision: the replay must reach it too.
        let world_reason = matches!(ending.reason, EndReason::ScoreLimit | EndReason::TimeLimit);
        let reason_ok = !world_reason || self.sim.outcome() == Some(ending.reason);
        if ending.tick != tick || replayed != ending.results || !reason_ok {
            return Err(ReplayError::Results {
                tick,
                recorded: format!(
                    "{:?} at tick {}: {:?}",
                    ending.reason, ending.tick, ending.results
                ),
                replayed: format!("{:?} at tick {tick}: {replayed:?}", self.sim.outcome()),
            });
        }
        Ok(())
    }
}

/// Runs a whole recording again and checks it.
pub fn verify(bytes: &[u8]) -> Result<Verified, ReplayError> {
    let mut r = Replayer::new(bytes)?;
    while r.next_tick()?.is_some() {
        // Events are not part of the check; drop them as they come.
        r.sim.take_events();
    }
    let ending = r
        .ending
        .clone()
        .ok_or(ReplayError::Incomplete { tick: r.sim.tick() })?;
    Ok(Verified {
        ticks: r.sim.tick(),
        hashes: r.hashes,
        joins: r.joins,
        inputs: r.inputs,
        ending,
    })
}
