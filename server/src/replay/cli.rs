//! `tickwire-server replay FILE`: what a recording holds, `--verify` to run it again and check
//! it, `--at TICK` to print the world at a tick (JSON).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde::Serialize;
use shared::entity::{EntityKind, flags};
use shared::quant::q_to_pos;

use crate::record::format::Op;
use crate::record::reader::{self, Record};
use crate::replay::{self, Replayer};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The recording (`ID.twrec`).
    pub file: PathBuf,
    /// Re-simulate the whole match and check every world hash and the results; exit 1 at the
    /// first difference.
    #[arg(long)]
    pub verify: bool,
    /// Print the world after this tick as JSON (re-simulated from the start).
    #[arg(long)]
    pub at: Option<u32>,
}

/// One entity as `--at` prints it (positions in world units).
#[derive(Serialize, Debug)]
struct EntityLine {
    id: u32,
    kind: &'static str,
    x: f64,
    y: f64,
    hp: u8,
    alive: bool,
    score: u16,
    deaths: u16,
    name: String,
}

/// Runs the subcommand: 0 when it did what was asked, 1 when a verification failed, 2 when the
/// file cannot be read.
pub fn run(args: &ReplayArgs) -> ExitCode {
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tickwire-server replay: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let result = if let Some(at) = args.at {
        world_at(&bytes, at)
    } else if args.verify {
        verify(&bytes)
    } else {
        describe(&bytes)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("tickwire-server replay: {}: {msg}", args.file.display());
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn describe(bytes: &[u8]) -> Result<(), Failure> {
    let (h, records) = reader::open(bytes).map_err(|e| (2, e.to_string()))?;
    let (mut ticks, mut joins, mut inputs, mut results) = (0u64, 0u32, 0u64, None);
    // Time each player spent in the match, for the size per player-minute.
    let (mut present, mut rate, mut player_secs) = (0u32, h.options.tick_rate, 0f64);
    for r in records {
        match r.map_err(|e| (2, e.to_string()))? {
            Record::Steps(n) => {
                ticks += u64::from(n);
                player_secs += f64::from(n) * f64::from(present) / f64::from(rate.max(1));
            }
            Record::Input { .. } => inputs += 1,
            Record::Op(Op::Join { .. }) => {
                joins += 1;
                present += 1;
            }
            Record::Op(Op::Remove { .. }) => present = present.saturating_sub(1),
            Record::Op(Op::TickRate { rate: r }) => rate = r,
            Record::Op(Op::Results {
                reason, results: r, ..
            }) => results = Some((reason, r)),
            _ => {}
        }
    }
    let o = &h.options;
    println!(
        "match {} ({}, build {}), started at {} ms",
        h.match_id, h.protocol, h.build, h.started_at_ms
    );
    println!(
        "map {} seed {} tick rate {} max players {} score limit {} time limit {} s",
        o.map, o.seed, o.tick_rate, o.max_players, o.score_limit, o.time_limit_secs
    );
    println!(
        "{ticks} ticks, {joins} joins, {inputs} inputs, {} bytes",
        bytes.len()
    );
    let minutes = player_secs / 60.0;
    if minutes > 0.0 {
        println!(
            "{minutes:.2} player-minutes, {:.0} bytes per player-minute",
            bytes.len() as f64 / minutes
        );
    }
    match results {
        Some((reason, table)) => {
            println!("ended: {reason:?}");
            for r in table {
                println!(
                    "  {:>4} kills {:>4} deaths  {} (#{})",
                    r.score, r.deaths, r.name, r.entity
                );
            }
        }
        None => println!("no results: the recording is incomplete"),
    }
    Ok(())
}

fn verify(bytes: &[u8]) -> Result<(), Failure> {
    let started = Instant::now();
    let v = replay::verify(bytes).map_err(|e| (1, format!("FAILED: {e}")))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "verified: {} ticks re-simulated, {} world hashes, {} joins, {} inputs, results equal ({:?}); {:.3} s, {:.0} ticks/s",
        v.ticks,
        v.hashes,
        v.joins,
        v.inputs,
        v.ending.reason,
        secs,
        f64::from(v.ticks) / secs.max(1e-9)
    );
    Ok(())
}

fn world_at(bytes: &[u8], at: u32) -> Result<(), Failure> {
    let mut r = Replayer::new(bytes).map_err(|e| (2, e.to_string()))?;
    while r.sim().tick() < at {
        match r.next_tick() {
            Ok(Some(_)) => {}
            Ok(None) => return Err((1, format!("the recording ends before tick {at}"))),
            Err(e) => return Err((1, e.to_string())),
        }
    }
    let sim = r.sim();
    let entities: Vec<EntityLine> = sim
        .snapshot()
        .into_iter()
        .map(|(id, s)| EntityLine {
            id,
            kind: match s.kind {
                EntityKind::Player => "player",
                EntityKind::Projectile => "projectile",
            },
            x: q_to_pos(s.x),
            y: q_to_pos(s.y),
            hp: s.hp,
            alive: s.flags & flags::ALIVE != 0,
            score: s.score,
            deaths: s.deaths,
            name: sim.name(id),
        })
        .collect();
    let out = serde_json::json!({ "tick": sim.tick(), "entities": entities });
    println!("{out}");
    Ok(())
}
