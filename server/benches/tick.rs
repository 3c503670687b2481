//! The cost of one match tick with replication, and of the wire codec and deltas alone.
//!
//! `cargo bench -p server --bench tick`. Besides criterion's figures, the `tick_16` group prints
//! the p50/p99 of 20,000 individually timed ticks (the target is p99 ≤ 100 µs).
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::app::DEFAULT_MAP;
use server::game::history::EncodeScratch;
use server::game::history::{Frame, History};
use server::game::link::with_trailer;
use server::game::options::MatchOptions;
use server::game::sim::Sim;
use shared::arena::Arena;
use shared::codec::{decode_server, encode_server};
use shared::delta::{apply, diff};
use shared::predict::Prediction;
use shared::protocol::{Input, ServerMsg, Snapshot, SnapshotBase};
use shared::rules::buttons;

const PLAYERS: usize = 16;

/// A 16-player match driven like benches/WORKLOAD.md (every player moving, direction
/// re-rolled every 15 ticks, a new aim on every input), plus `fire` of the inputs firing.
struct Bench {
    sim: Sim,
    history: History,
    players: Vec<bevy_ecs::entity::Entity>,
    held: Vec<u8>,
    seq: u32,
    rng: StdRng,
    fire: f64,
}

impl Bench {
    fn new(fire: f64) -> Bench {
        let options = MatchOptions {
            max_players: PLAYERS as u16,
            tick_rate: 30,
            snapshot_interval: 1,
            score_limit: u16::MAX,
            time_limit_secs: 24 * 3600,
            seed: 7,
            matchmaking: false,
            private: false,
            map: "arena".into(),
            interest_radius: 0,
            lag_compensation_ms: 200,
            max_spectators: 32,
            spectator_delay_ms: 0,
        };
        let arena = Arena::from_json(DEFAULT_MAP).expect("the built-in map parses");
        let mut sim = Sim::new(&options, arena);
        let players = (0..PLAYERS)
            .map(|i| sim.add_player(&format!("p{i}")).0)
            .collect();
        let mut b = Bench {
            sim,
            history: History::default(),
            players,
            held: vec![0; PLAYERS],
            seq: 0,
            rng: StdRng::seed_from_u64(1),
            fire,
        };
        // Fill the history as a running match has it.
        for _ in 0..80 {
            b.tick();
        }
        b
    }

    /// One tick as the match task runs it: inputs, simulate, snapshot, one delta encoded for
    /// the baseline every client is on, and each client's frame (body + its ack).
    fn tick(&mut self) -> usize {
        self.seq += 1;
        for (i, &e) in self.players.iter().enumerate() {
            if self.seq % 15 == (i as u32) % 15 {
                self.held[i] = self.rng.random_range(0..16u8);
            }
            let fire = if self.rng.random_bool(self.fire) {
                buttons::FIRE
            } else {
                0
            };
            let input = Input {
                seq: self.seq,
                buttons: self.held[i] | fire,
                aim: self.rng.random(),
                view_tick: self.sim.tick().saturating_sub(3),
            };
            self.sim.queue_input(e, input);
        }
        self.sim.step();
        let tick = self.sim.tick();
        let baseline = self.history.latest().map_or(0, |f| f.tick);
        self.history.push(Frame {
            tick,
            tick_rate: self.sim.tick_rate(),
            entities: Arc::new(self.sim.snapshot()),
            events: self.sim.take_events(),
        });
        let sim = &self.sim;
        let body = self.history.encode_latest(
            baseline,
            None,
            sim.arena(),
            |id| sim.name(id),
            &mut EncodeScratch::default(),
        );
        let body = bytes::Bytes::from(body);
        let mut sent = 0;
        for i in 0..PLAYERS {
            sent += black_box(with_trailer(&body, self.seq + i as u32)).len();
        }
        sent
    }
}

fn percentiles(mut b: Bench) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            black_box(b.tick());
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

fn tick_16(c: &mut Criterion) {
    let mut g = c.benchmark_group("tick_16");
    for (name, fire) in [("standard", 0.0), ("firing", 0.3)] {
        let mut b = Bench::new(fire);
        g.bench_function(name, |bench| bench.iter(|| black_box(b.tick())));
        let (p50, p99) = percentiles(Bench::new(fire));
        println!("tick_16/{name}: p50 {p50:.1?}  p99 {p99:.1?} over 20000 ticks");
    }
    g.finish();
}

fn codec(c: &mut Criterion) {
    let mut b = Bench::new(0.3);
    let before = b.history.latest().map(|f| f.entities.clone());
    b.tick();
    let (Some(base), Some(now)) = (before, b.history.latest().map(|f| f.entities.clone())) else {
        return;
    };
    let p = Prediction {
        arena: b.sim.arena(),
        tick_rate: b.sim.tick_rate(),
        ticks: 1,
        tick: b.sim.tick(),
    };
    let delta = diff(&base, &now, |_| String::new(), &p);
    let msg = ServerMsg::Snapshot(Snapshot {
        base: SnapshotBase::Since { ticks: 1 },
        delta: delta.clone(),
        events: vec![],
        ack: 1,
    });
    let bytes = encode_server(&msg);
    c.bench_function("diff_16", |x| {
        x.iter(|| diff(black_box(&base), black_box(&now), |_| String::new(), &p))
    });
    c.bench_function("apply_16", |x| {
        x.iter(|| apply(black_box(&base), black_box(&delta), &p))
    });
    c.bench_function("encode_snapshot_16", |x| {
        x.iter(|| encode_server(black_box(&msg)))
    });
    c.bench_function("decode_snapshot_16", |x| {
        x.iter(|| decode_server(black_box(&bytes)))
    });
}

/// The schema-driven codec (v4) on the same two worlds as [`codec`]'s, for the A/B the switch
/// to v4 must pass (docs/game-api.md).
fn codec_v4(c: &mut Criterion) {
    use shared::wire::delta::{apply as apply_v4, diff as diff_v4};
    use shared::wire::predict::Step;
    use shared::wire::snapshot::{SnapshotBase as Base, decode, encode_ack, encode_body};
    let mut b = Bench::new(0.3);
    let before = b.history.latest().map(|f| f.entities.clone());
    b.tick();
    let (Some(base), Some(now)) = (before, b.history.latest().map(|f| f.entities.clone())) else {
        return;
    };
    let schema = tickwire_arena::schema::schema().expect("valid");
    let rule = tickwire_arena::predict::ArenaPrediction {
        arena: b.sim.arena().clone(),
    };
    let frame_of = |w| tickwire_arena::v3::frame_of(&schema, w).expect("fits the schema");
    let (base, now) = (frame_of(&base), frame_of(&now));
    let step = Step {
        tick_rate: b.sim.tick_rate(),
        ticks: 1,
        tick: b.sim.tick(),
    };
    let delta = diff_v4(&schema, &base, &now, |_| String::new(), &step, &rule);
    let mut bytes = Vec::new();
    encode_body(
        &schema,
        Base::Since { ticks: 1 },
        &base,
        &delta,
        &[],
        step.tick,
        &mut bytes,
    );
    encode_ack(1, &mut bytes);
    c.bench_function("v4_diff_16", |x| {
        x.iter(|| {
            diff_v4(
                &schema,
                black_box(&base),
                black_box(&now),
                |_| String::new(),
                &step,
                &rule,
            )
        })
    });
    c.bench_function("v4_apply_16", |x| {
        x.iter(|| apply_v4(&schema, black_box(&base), black_box(&delta), &step, &rule))
    });
    c.bench_function("v4_encode_snapshot_16", |x| {
        x.iter(|| {
            let mut out = Vec::new();
            encode_body(
                &schema,
                Base::Since { ticks: 1 },
                &base,
                black_box(&delta),
                &[],
                step.tick,
                &mut out,
            );
            encode_ack(1, &mut out);
            out
        })
    });
    c.bench_function("v4_decode_snapshot_16", |x| {
        x.iter(|| decode(&schema, black_box(&bytes), &base, step.tick - 1))
    });
}

criterion_group!(benches, tick_16, codec, codec_v4);
criterion_main!(benches);
