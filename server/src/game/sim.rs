//! `Sim`: one match's World and Schedule, and the few ways the match task touches them.

use std::collections::HashMap;

use bevy_ecs::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shared::arena::Arena;
use shared::delta::Entry;
use shared::entity::{EntityKind, EntityState, flags};
use shared::protocol::{EndReason, GameEvent, Input, PlayerResult};
use shared::rules::buttons;

use crate::game::components::*;
use crate::game::options::MatchOptions;
use crate::game::systems::rewind::Rewind;
use crate::game::systems::{self, respawn::pick_spawn};
use crate::game::world_hash::world_hash;
use crate::record::format::{Departure, HASH_EVERY, Op};
use crate::record::journal::Journal;

/// A match's simulation. Never awaits and does no I/O.
pub struct Sim {
    world: World,
    schedule: Schedule,
    names: HashMap<u32, String>,
    /// When the match is recorded: every command applied, ticks run and world hashes.
    journal: Option<Journal>,
    hash_scratch: Vec<(u32, Entity)>,
}

impl Sim {
    pub fn new(options: &MatchOptions, arena: Arena) -> Sim {
        let mut world = World::new();
        let rate = options.tick_rate;
        world.insert_resource(Clock { tick: 0, rate });
        world.insert_resource(Limits {
            score: options.score_limit,
            last_tick: options.time_limit_secs.saturating_mul(u32::from(rate)),
        });
        world.insert_resource(Map(arena));
        world.insert_resource(MatchRng(StdRng::seed_from_u64(options.seed)));
        world.insert_resource(NetIds::default());
        world.insert_resource(PendingEvents::default());
        world.insert_resource(Rewind::new(u32::from(options.lag_compensation_ms)));
        world.insert_resource(Outcome::default());
        Sim {
            world,
            schedule: systems::schedule(),
            names: HashMap::new(),
            journal: None,
            hash_scratch: Vec::new(),
        }
    }

    /// From now on, journal every command applied and every tick run (for a recording).
    pub fn record(&mut self) {
        self.journal = Some(Journal::default());
    }

    /// The journal, when the match is recorded.
    pub fn journal(&mut self) -> Option<&mut Journal> {
        self.journal.as_mut()
    }

    /// The world's hash ([`world_hash`]).
    pub fn hash(&mut self) -> u32 {
        world_hash(&mut self.world, &mut self.hash_scratch)
    }

    pub fn tick(&self) -> u32 {
        self.world.resource::<Clock>().tick
    }

    pub fn arena(&self) -> &Arena {
        &self.world.resource::<Map>().0
    }

    /// Adds a living player at a free spawn point; returns its entity and network id.
    pub fn add_player(&mut self, name: &str) -> (Entity, shared::ids::NetId) {
        self.join(name, "")
    }

    /// [`Sim::add_player`] for player `player_id` (which a recording keeps).
    pub fn join(&mut self, name: &str, player_id: &str) -> (Entity, shared::ids::NetId) {
        let living: Vec<(i32, i32)> = self
            .world
            .query::<(&Player, &Position)>()
            .iter(&self.world)
            .filter(|(p, _)| p.alive)
            .map(|(_, pos)| (pos.x, pos.y))
            .collect();
        let (x, y) = self.world.resource_scope(|world, mut rng: Mut<MatchRng>| {
            pick_spawn(&world.resource::<Map>().0, &mut rng, &living)
        });
        let id = self.world.resource_mut::<NetIds>().allocate();
        let entity = self
            .world
            .spawn((
                id,
                Position { x, y },
                Player::default(),
                InputQueue::default(),
            ))
            .id();
        self.names.insert(id.0, name.to_owned());
        if let Some(j) = &mut self.journal {
            j.op(&Op::Join {
                id: id.0,
                name: name.to_owned(),
                player_id: player_id.to_owned(),
            });
        }
        (entity, shared::ids::NetId(id.0))
    }

    /// Stops a player whose connection dropped: no buttons held, queued inputs forgotten.
    pub fn freeze(&mut self, entity: Entity) {
        if let Some(j) = &mut self.journal
            && let Some(id) = self.world.get::<NetId>(entity)
        {
            j.op(&Op::Freeze { id: id.0 });
        }
        if let Some(mut p) = self.world.get_mut::<Player>(entity) {
            p.held = 0;
        }
        if let Some(mut q) = self.world.get_mut::<InputQueue>(entity) {
            q.0.clear();
        }
    }

    /// Removes a player's entity (its projectiles fly on); `why` is for the recording.
    pub fn remove_player(&mut self, entity: Entity, why: Departure) {
        if let Some(id) = self.world.get::<NetId>(entity) {
            self.names.remove(&id.0);
            if let Some(j) = &mut self.journal {
                j.op(&Op::Remove { id: id.0, why });
            }
        }
        self.world.despawn(entity);
    }

    /// Queues an input for the player's coming ticks. Returns false if an older input had to be
    /// dropped to make room. Replayed or stale sequence numbers are ignored.
    pub fn queue_input(&mut self, entity: Entity, input: Input) -> bool {
        let Some(last) = self.world.get::<Player>(entity).map(|p| p.last_input_seq) else {
            return true;
        };
        // Only a recorded match looks up the id (a tuple would look it up every time).
        if let Some(j) = &mut self.journal
            && let Some(id) = self.world.get::<NetId>(entity)
        {
            j.input(id.0, &input, self.world.resource::<Clock>().tick);
        }
        let Some(mut queue) = self.world.get_mut::<InputQueue>(entity) else {
            return true;
        };
        let newest = queue.0.back().map_or(last, |i| i.seq);
        if input.seq <= newest {
            return true;
        }
        let mut kept = true;
        if queue.0.len() >= Player::MAX_QUEUED {
            queue.0.pop_front();
            kept = false;
        }
        queue.0.push_back(input);
        kept
    }

    pub fn tick_rate(&self) -> u16 {
        self.world.resource::<Clock>().rate
    }

    /// Changes the tick rate between two ticks, keeping every timer's meaning in real time:
    /// ticks left on fire cooldowns, respawns, projectile lifetimes and the time limit are
    /// rescaled, and projectiles are re-based at their current position.
    pub fn set_tick_rate(&mut self, rate: u16) {
        let (now, old) = {
            let c = self.world.resource::<Clock>();
            (c.tick, c.rate)
        };
        if rate == old || rate == 0 {
            return;
        }
        if let Some(j) = &mut self.journal {
            j.op(&Op::TickRate { rate });
        }
        let rescale = |at: u32| -> u32 {
            let left = u64::from(at.saturating_sub(now));
            now + (left * u64::from(rate)).div_ceil(u64::from(old)) as u32
        };
        let mut limits = self.world.resource_mut::<Limits>();
        limits.last_tick = rescale(limits.last_tick);
        for mut p in self.world.query::<&mut Player>().iter_mut(&mut self.world) {
            p.next_fire_tick = rescale(p.next_fire_tick);
            p.respawn_tick = rescale(p.respawn_tick);
        }
        for mut p in self
            .world
            .query::<&mut Projectile>()
            .iter_mut(&mut self.world)
        {
            let (x, y) =
                shared::rules::projectile_position(p.x, p.y, p.aim, now - p.fired_tick, old);
            p.x = shared::quant::pos_to_q(x);
            p.y = shared::quant::pos_to_q(y);
            p.fired_tick = now;
            p.expires_tick = rescale(p.expires_tick);
        }
        self.world.resource_mut::<Clock>().rate = rate;
    }

    /// Debug builds only: the next tick's systems panic (the fault system joins this match's
    /// schedule now; no other match and no earlier tick runs it).
    #[cfg(debug_assertions)]
    pub fn inject_panic(&mut self) {
        self.schedule.add_systems(systems::fault_injection);
    }

    /// Ends the match at the next check with `reason` (an operator's order, a shutdown).
    pub fn end_now(&mut self, reason: EndReason) {
        if let Some(j) = &mut self.journal {
            j.op(&Op::End { reason });
        }
        let mut outcome = self.world.resource_mut::<Outcome>();
        if outcome.0.is_none() {
            outcome.0 = Some(reason);
        }
    }

    /// A player's exact position, simulation fixed point (what the wire carries).
    pub fn exact_position(&self, entity: Entity) -> Option<(i32, i32)> {
        self.world.get::<Position>(entity).map(|p| (p.x, p.y))
    }

    /// A player's score and deaths.
    pub fn score_of(&self, entity: Entity) -> (u16, u16) {
        self.world
            .get::<Player>(entity)
            .map_or((0, 0), |p| (p.score, p.deaths))
    }

    /// Runs one tick.
    pub fn step(&mut self) {
        self.world.resource_mut::<Clock>().tick += 1;
        self.schedule.run(&mut self.world);
        if self.journal.is_some() {
            let tick = self.tick();
            let hash = tick.is_multiple_of(HASH_EVERY).then(|| self.hash());
            if let Some(j) = &mut self.journal {
                j.step();
                if let Some(h) = hash {
                    j.hash(h);
                }
            }
        }
    }

    /// Why the match should end, once it should.
    pub fn outcome(&self) -> Option<EndReason> {
        self.world.resource::<Outcome>().0
    }

    /// Takes the events of the ticks since the last call.
    pub fn take_events(&mut self) -> Vec<GameEvent> {
        std::mem::take(&mut self.world.resource_mut::<PendingEvents>().0)
    }

    /// The last input sequence applied for a player.
    pub fn last_input_seq(&self, entity: Entity) -> u32 {
        self.world
            .get::<Player>(entity)
            .map_or(0, |p| p.last_input_seq)
    }

    /// A player's name by network id.
    pub fn name(&self, id: u32) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }

    /// The quantized world, sorted by network id: exactly what clients mirror.
    pub fn snapshot(&mut self) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::with_capacity(self.names.len());
        let mut players = self.world.query::<(&NetId, &Player, &Position)>();
        for (id, p, pos) in players.iter(&self.world) {
            out.push((
                id.0,
                EntityState {
                    kind: EntityKind::Player,
                    x: pos.x,
                    y: pos.y,
                    // Aim to 256 steps (1.4°), rounded, for everyone: a turning player then
                    // costs one byte. A client draws its own aim from its inputs.
                    aim: p.aim.wrapping_add(0x80) & 0xFF00,
                    buttons: p.held & buttons::MOVE,
                    hp: p.hp,
                    flags: if p.alive { flags::ALIVE } else { 0 },
                    score: p.score,
                    deaths: p.deaths,
                    owner: 0,
                    tick: 0,
                },
            ));
        }
        let mut projectiles = self.world.query::<(&NetId, &Projectile)>();
        for (id, p) in projectiles.iter(&self.world) {
            out.push((
                id.0,
                EntityState {
                    kind: EntityKind::Projectile,
                    x: p.x,
                    y: p.y,
                    aim: p.aim,
                    buttons: 0,
                    hp: 0,
                    flags: 0,
                    score: 0,
                    deaths: 0,
                    owner: p.owner,
                    tick: p.fired_tick,
                },
            ));
        }
        out.sort_unstable_by_key(|e| e.0);
        // The history keeps 64 of these per match: no spare capacity.
        out.shrink_to_fit();
        out
    }

    /// The final table: by score (highest first), then deaths (fewest first).
    pub fn results(&mut self) -> Vec<PlayerResult> {
        let mut players = self.world.query::<(&NetId, &Player)>();
        let mut results: Vec<PlayerResult> = players
            .iter(&self.world)
            .map(|(id, p)| PlayerResult {
                entity: id.0,
                name: self.names.get(&id.0).cloned().unwrap_or_default(),
                score: p.score,
                deaths: p.deaths,
            })
            .collect();
        results.sort_by(|a, b| b.score.cmp(&a.score).then(a.deaths.cmp(&b.deaths)));
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::arena::{Point, Wall};
    use shared::entity::EntityKind;
    use shared::rules::buttons;

    fn options() -> MatchOptions {
        MatchOptions {
            max_players: 8,
            tick_rate: 30,
            snapshot_interval: 1,
            score_limit: 2,
            time_limit_secs: 60,
            seed: 1,
            matchmaking: false,
            private: false,
            map: "arena".into(),
            interest_radius: 0,
            lag_compensation_ms: 200,
            max_spectators: 32,
            spectator_delay_ms: 0,
        }
    }

    fn open_arena() -> Arena {
        Arena {
            width: 2000,
            height: 2000,
            walls: vec![Wall {
                x: 1800,
                y: 0,
                w: 20,
                h: 2000,
            }],
            spawns: vec![Point { x: 100, y: 1000 }, Point { x: 400, y: 1000 }],
        }
    }

    fn input(seq: u32, buttons: u8, aim: u16) -> Input {
        Input {
            seq,
            buttons,
            aim,
            view_tick: 0,
        }
    }

    fn state(sim: &mut Sim, id: u32) -> EntityState {
        sim.snapshot()
            .into_iter()
            .find(|e| e.0 == id)
            .map(|e| e.1)
            .expect("entity present")
    }

    #[test]
    fn flooded_inputs_move_one_step_per_tick() {
        let mut sim = Sim::new(&options(), open_arena());
        let (e, shared::ids::NetId(id)) = sim.add_player("a");
        let x0 = state(&mut sim, id).x;
        let mut seq = 0;
        for _ in 0..30 {
            for _ in 0..10 {
                seq += 1;
                sim.queue_input(e, input(seq, buttons::RIGHT, 0));
            }
            sim.step();
        }
        let moved = shared::quant::q_to_pos(state(&mut sim, id).x - x0);
        assert!(
            moved <= 200.0 && moved > 190.0,
            "moved {moved} units in 1 s"
        );
    }

    #[test]
    fn replayed_sequence_numbers_are_ignored() {
        let mut sim = Sim::new(&options(), open_arena());
        let (e, shared::ids::NetId(_)) = sim.add_player("a");
        sim.queue_input(e, input(5, buttons::RIGHT, 0));
        sim.step();
        sim.queue_input(e, input(5, buttons::LEFT, 0));
        sim.queue_input(e, input(3, buttons::LEFT, 0));
        sim.step();
        assert_eq!(sim.last_input_seq(e), 5);
    }

    #[test]
    fn fire_rate_is_capped_and_hits_kill_and_score() {
        let mut sim = Sim::new(&options(), open_arena());
        // Spawns are 300 units apart on one line; both spawn points are free for two players.
        let (shooter, shared::ids::NetId(sid)) = sim.add_player("shooter");
        let (_victim, shared::ids::NetId(vid)) = sim.add_player("victim");
        let (s, v) = (state(&mut sim, sid), state(&mut sim, vid));
        let aim = if v.x > s.x { 0 } else { 32768 };
        let mut fired = 0;
        let mut seq = 0;
        for _ in 0..60 {
            seq += 1;
            sim.queue_input(shooter, input(seq, buttons::FIRE, aim));
            sim.step();
            fired += sim
                .snapshot()
                .iter()
                .filter(|(_, st)| st.kind == EntityKind::Projectile && st.tick == sim.tick())
                .count();
        }
        // 60 ticks at 30 Hz = 2 s; one shot per 8 ticks (266 ms) allows at most 8.
        assert!((7..=8).contains(&fired), "fired {fired}");
        let v = state(&mut sim, vid);
        assert_eq!(v.deaths, 1, "4 hits of 25 kill");
        assert_eq!(v.flags & shared::entity::flags::ALIVE, 0);
        assert_eq!(state(&mut sim, sid).score, 1);
        let kills: Vec<(u32, u32)> = sim
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                GameEvent::Kill { killer, victim, .. } => Some((killer, victim)),
                GameEvent::Hit { .. } | GameEvent::Rail { .. } => None,
            })
            .collect();
        assert_eq!(kills, vec![(sid, vid)]);
    }

    #[test]
    fn a_rail_hits_the_first_player_on_its_line_once_a_second_and_says_where_it_stopped() {
        let mut sim = Sim::new(&options(), open_arena());
        let (shooter, shared::ids::NetId(sid)) = sim.add_player("shooter");
        let (_victim, shared::ids::NetId(vid)) = sim.add_player("victim");
        let (s, v) = (state(&mut sim, sid), state(&mut sim, vid));
        let aim = if v.x > s.x { 0 } else { 32768 };
        for seq in 1..=30 {
            sim.queue_input(shooter, input(seq, buttons::RAIL, aim));
            sim.step();
        }
        let events = sim.take_events();
        let rails: Vec<u16> = events
            .iter()
            .filter_map(|e| match e {
                GameEvent::Rail { length, .. } => Some(*length),
                _ => None,
            })
            .collect();
        // 30 ticks at 30 Hz: one shot, then the 1 s cooldown. Spawns are 300 apart: the beam
        // stops where it enters the victim's circle (radius 16).
        assert_eq!(rails, vec![284]);
        assert!(events.contains(&GameEvent::Hit {
            tick: 1,
            shooter: sid,
            victim: vid,
            damage: shared::rules::RAIL_DAMAGE,
            weapon: shared::protocol::Weapon::Rail,
        }));
        assert_eq!(state(&mut sim, vid).hp, 50);
    }

    #[test]
    fn the_dead_cannot_move_or_fire_and_respawn_after_the_delay() {
        let mut sim = Sim::new(&options(), open_arena());
        let (shooter, shared::ids::NetId(sid)) = sim.add_player("shooter");
        let (victim, shared::ids::NetId(vid)) = sim.add_player("victim");
        let (s, v) = (state(&mut sim, sid), state(&mut sim, vid));
        let aim = if v.x > s.x { 0 } else { 32768 };
        let mut seq = 0;
        while state(&mut sim, vid).flags & shared::entity::flags::ALIVE != 0 {
            seq += 1;
            sim.queue_input(shooter, input(seq, buttons::FIRE, aim));
            sim.step();
            assert!(sim.tick() < 300, "victim never died");
        }
        let died_at = state(&mut sim, vid);
        for i in 0..80 {
            sim.queue_input(victim, input(i + 1, buttons::RIGHT | buttons::FIRE, 0));
            sim.queue_input(shooter, input(seq + i + 1, 0, aim));
            sim.step();
            let now = state(&mut sim, vid);
            assert_eq!((now.x, now.y), (died_at.x, died_at.y), "dead player moved");
            let own_shots = sim
                .snapshot()
                .iter()
                .filter(|(_, st)| st.kind == EntityKind::Projectile && st.owner == vid)
                .count();
            assert_eq!(own_shots, 0, "dead player fired");
        }
        for _ in 0..20 {
            sim.step();
        }
        let back = state(&mut sim, vid);
        assert_ne!(
            back.flags & shared::entity::flags::ALIVE,
            0,
            "respawned within 3 s"
        );
        assert_eq!(back.hp, shared::rules::MAX_HP);
    }

    #[test]
    fn score_limit_ends_the_match() {
        let mut sim = Sim::new(&options(), open_arena());
        let (shooter, shared::ids::NetId(sid)) = sim.add_player("shooter");
        let (_v, shared::ids::NetId(vid)) = sim.add_player("victim");
        let mut seq = 0;
        while sim.outcome().is_none() {
            let (s, v) = (state(&mut sim, sid), state(&mut sim, vid));
            let aim = if v.x > s.x { 0 } else { 32768 };
            // Keep to the victim's row so shots stay on target after respawns.
            let held = buttons::FIRE
                | if v.y > s.y {
                    buttons::DOWN
                } else if v.y < s.y {
                    buttons::UP
                } else {
                    0
                };
            seq += 1;
            sim.queue_input(shooter, input(seq, held, aim));
            sim.step();
            assert!(sim.tick() < 30 * 60, "no end");
        }
        assert_eq!(sim.outcome(), Some(EndReason::ScoreLimit));
        assert_eq!(sim.results()[0].entity, sid);
        assert_eq!(sim.results()[0].score, 2);
    }

    #[test]
    fn tick_rate_change_keeps_projectiles_on_their_path_and_timers_in_real_time() {
        let mut sim = Sim::new(&options(), open_arena());
        let (e, shared::ids::NetId(id)) = sim.add_player("a");
        sim.queue_input(e, input(1, buttons::FIRE, 0));
        sim.step();
        for _ in 0..5 {
            sim.step();
        }
        let (proj_id, before) = sim
            .snapshot()
            .into_iter()
            .find(|(_, s)| s.kind == EntityKind::Projectile && s.owner == id)
            .expect("a projectile");
        let age = sim.tick() - before.tick;
        let (x0, _) = shared::rules::projectile_position(before.x, before.y, before.aim, age, 30);
        sim.set_tick_rate(60);
        let after = state(&mut sim, proj_id);
        assert_eq!(after.tick, sim.tick(), "re-based at the change");
        assert!((shared::quant::q_to_pos(after.x) - x0).abs() <= 1.0 / 256.0);
        // A 1.5 s life is 45 ticks at 30 Hz; what is left of it doubles at 60 Hz.
        let left_at_60 = 2 * (45 - age);
        for _ in 0..left_at_60 - 1 {
            sim.step();
        }
        assert!(
            sim.snapshot().iter().any(|(i, _)| *i == proj_id),
            "still flying"
        );
        sim.step();
        assert!(
            !sim.snapshot().iter().any(|(i, _)| *i == proj_id),
            "expired on time"
        );
    }
}
