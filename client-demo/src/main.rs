//! `tickwire-demo`: the demo client's command line: `bots` (the load generator), `soak`, and
//! `matchmake` (a matchmaking load report).

use std::time::Duration;

use clap::{Parser, Subcommand};
use client_demo::bots::{self, BotsConfig};

#[derive(Parser, Debug)]
#[command(
    name = "tickwire-demo",
    version,
    about = "Tickwire demo client and load generator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fill matches with bots driving random inputs; print progress and a final report.
    Bots {
        /// Number of bots.
        #[arg(long, default_value_t = 16)]
        count: usize,
        /// Seconds to play after the ramp-up.
        #[arg(long, default_value_t = 30)]
        duration: u64,
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// Bots connecting per second during the ramp-up.
        #[arg(long, default_value_t = 100)]
        ramp_per_sec: u32,
        /// Prometheus endpoint to read server figures from ("none" to skip).
        #[arg(long)]
        metrics: Option<String>,
        /// Seed of the bots' random inputs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// `firing` (the demo game played) or `standard` (benches/WORKLOAD.md: moving,
        /// direction re-rolled every 500 ms, new aim on every input, nobody fires).
        #[arg(long, default_value = "firing")]
        workload: bots::Workload,
        /// Seconds between the end of the ramp and the measured window.
        #[arg(long, default_value_t = 0.5)]
        warmup: f64,
        /// The server's PID on this machine: report its CPU and peak RSS from /proc.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Threads the bots run on (0: one per core). 1 is a single-threaded runtime, the
        /// cheapest per bot (no work stealing or cross-thread wake-ups), as the floor's bots run.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Watch this match as spectators (`spectate=1`: no seat, no inputs) instead of playing.
        #[arg(long)]
        spectate: Option<String>,
    },
    /// Matchmaking load report: PLAYERS log in, then matchmake through the servers in turn
    /// (a cluster's nodes), CONCURRENCY at once; prints throughput and latency.
    Matchmake {
        /// Base URLs, comma-separated (e.g. two nodes of a cluster).
        #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
        servers: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        players: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Soak: bots keep joining and leaving (and misbehaving); prints server RSS every 10 s and
    /// fails unless sessions, players and matches are back to zero at the end.
    Soak {
        #[arg(long, default_value_t = 48)]
        bots: usize,
        /// Seconds.
        #[arg(long, default_value_t = 600)]
        duration: u64,
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Command::Bots { threads, .. } => *threads,
        Command::Soak { .. } | Command::Matchmake { .. } => 0,
    };
    let runtime = match threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        0 => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    };
    match runtime {
        Ok(rt) => rt.block_on(run(cli)),
        Err(e) => {
            eprintln!("cannot start the tokio runtime: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(cli: Cli) {
    match cli.command {
        Command::Bots {
            count,
            duration,
            server,
            ramp_per_sec,
            metrics,
            seed,
            workload,
            warmup,
            server_pid,
            threads: _,
            spectate,
        } => {
            let metrics_url = match metrics.as_deref() {
                Some("none") => None,
                Some(url) => Some(url.to_owned()),
                None => Some(format!("{}/metrics", server.trim_end_matches('/'))),
            };
            let report = bots::run(BotsConfig {
                count,
                duration: Duration::from_secs(duration),
                server,
                ramp_per_sec,
                metrics_url,
                seed,
                workload,
                warmup: Duration::from_secs_f64(warmup.max(0.0)),
                server_pid,
                spectate,
            })
            .await;
            print!("{report}");
        }
        Command::Matchmake {
            servers,
            players,
            concurrency,
        } => {
            let cfg = client_demo::matchmake_bench::MatchmakeBenchConfig {
                servers,
                players,
                concurrency,
            };
            print!("{}", client_demo::matchmake_bench::run(cfg).await);
        }
        Command::Soak {
            bots,
            duration,
            server,
            seed,
        } => {
            let cfg = client_demo::soak::SoakConfig {
                bots,
                duration: Duration::from_secs(duration),
                server,
                seed,
            };
            let (report, zero) = client_demo::soak::run(cfg).await;
            print!("{report}");
            if !zero {
                std::process::exit(1);
            }
        }
    }
}
