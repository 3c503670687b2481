//! `tickwire-demo bots`: fills matches with bots driving random inputs, prints a live progress
//! line, then a table of connections, errors, snapshot and byte rates, RTT, and (when the server's
//! `/metrics` answers) the server's tick times, overruns and CPU over the same window.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::rules::buttons;
use tokio::time::{Instant, MissedTickBehavior};

use crate::procfs;
use crate::stats::{ServerFigures, percentile};
use tickwire_client::Api;
use tickwire_client::ClientError;
use tickwire_client::{ConnectOptions, Connection, Event};

/// What to run.
#[derive(Debug, Clone)]
pub struct BotsConfig {
    pub count: usize,
    pub duration: Duration,
    /// Base HTTP URL of the server, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// Connections started per second while ramping up.
    pub ramp_per_sec: u32,
    /// Where to scrape server figures; `None` skips them.
    pub metrics_url: Option<String>,
    pub seed: u64,
    /// What the bots do with their controls.
    pub workload: Workload,
    /// Time between the end of the ramp and the start of the measured window.
    pub warmup: Duration,
    /// The server's process id, when it runs on this machine: its CPU time and peak RSS are
    /// then read from `/proc` over the window (the floor benchmark's method).
    pub server_pid: Option<u32>,
    /// Watch this match as spectators instead of playing.
    pub spectate: Option<String>,
}

/// The bots' behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Workload {
    /// The demo game played: held directions for 10..40 ticks, aim drifting, firing 30 % of
    /// inputs.
    #[default]
    Firing,
    /// `benches/WORKLOAD.md`, the same for every server compared: one input per tick,
    /// direction bits re-rolled every 500 ms, a new random aim on every input, nobody fires.
    Standard,
}

impl std::str::FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "firing" => Ok(Workload::Firing),
            "standard" => Ok(Workload::Standard),
            other => Err(format!("unknown workload {other:?} (firing, standard)")),
        }
    }
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Firing => "firing",
            Workload::Standard => "standard",
        }
    }
}

/// CPU seconds of the server and of the bots, read at one instant.
#[derive(Debug, Clone, Copy)]
struct CpuMark {
    server: Option<f64>,
    bots: Option<f64>,
}

impl CpuMark {
    fn now(cfg: &BotsConfig) -> CpuMark {
        CpuMark {
            server: cfg
                .server_pid
                .and_then(|pid| procfs::cpu_seconds(procfs::Pid::Other(pid))),
            bots: procfs::cpu_seconds(procfs::Pid::Own),
        }
    }
}

#[derive(Default)]
struct BotStats {
    connected: AtomicBool,
    snapshots: AtomicU64,
    bytes: AtomicU64,
    rtt_ms: Mutex<Vec<f64>>,
}

struct Shared {
    bots: Vec<BotStats>,
    reconnects: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Shared {
    fn error(&self, e: &ClientError) {
        if let Ok(mut m) = self.errors.lock() {
            *m.entry(e.kind()).or_default() += 1;
        }
    }
}

/// Runs the bots and returns the final report as text.
pub async fn run(cfg: BotsConfig) -> String {
    let shared = Arc::new(Shared {
        bots: (0..cfg.count).map(|_| BotStats::default()).collect(),
        reconnects: AtomicU64::new(0),
        errors: Mutex::new(BTreeMap::new()),
    });
    let start = Instant::now();
    let ramp = Duration::from_secs_f64(cfg.count as f64 / f64::from(cfg.ramp_per_sec.max(1)));
    let deadline = start + ramp + cfg.duration;
    // Bots stay a moment past the window so the final counts see them all connected.
    let bots_leave = deadline + Duration::from_secs(1);
    let mut tasks = Vec::with_capacity(cfg.count);
    for i in 0..cfg.count {
        let begin = start + ramp.mul_f64(i as f64 / cfg.count.max(1) as f64);
        tasks.push(tokio::spawn(bot(
            i,
            begin,
            bots_leave,
            cfg.clone(),
            shared.clone(),
        )));
    }
    // The measured window: from the end of the ramp to the deadline.
    let api = Api::new(&cfg.server);
    let mut progress =
        tokio::time::interval_at(start + Duration::from_secs(2), Duration::from_secs(2));
    progress.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let window_start = start + ramp + cfg.warmup.min(cfg.duration / 2);
    tokio::time::sleep_until(window_start).await;
    let before = scrape(&api, &cfg).await;
    let counts_before = counters(&shared);
    let cpu_before = CpuMark::now(&cfg);
    let t0 = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = progress.tick() => eprintln!("{}", progress_line(&shared, start.elapsed())),
        }
    }
    let cpu_after = CpuMark::now(&cfg);
    let window = t0.elapsed().as_secs_f64();
    let server_peak_rss = cfg
        .server_pid
        .and_then(|pid| procfs::peak_rss_bytes(procfs::Pid::Other(pid)));
    let after = scrape(&api, &cfg).await;
    let counts_after = counters(&shared);
    let connected = shared
        .bots
        .iter()
        .filter(|b| b.connected.load(Relaxed))
        .count();
    for t in tasks {
        let _ = t.await;
    }
    report(
        &cfg,
        &shared,
        connected,
        (&counts_before, &counts_after),
        window,
        before.zip(after),
        Own {
            cpu: (cpu_before, cpu_after),
            server_peak_rss,
        },
    )
}

/// What the bots measured themselves over the window.
struct Own {
    cpu: (CpuMark, CpuMark),
    server_peak_rss: Option<u64>,
}

async fn scrape(api: &Api, cfg: &BotsConfig) -> Option<ServerFigures> {
    let url = cfg.metrics_url.as_ref()?;
    api.metrics_text(url)
        .await
        .ok()
        .map(|t| ServerFigures::parse(&t))
}

/// (snapshots, bytes) received by one bot so far.
type Counts = (u64, u64);

fn counters(shared: &Shared) -> Vec<Counts> {
    shared
        .bots
        .iter()
        .map(|b| (b.snapshots.load(Relaxed), b.bytes.load(Relaxed)))
        .collect()
}

fn progress_line(shared: &Shared, elapsed: Duration) -> String {
    let connected = shared
        .bots
        .iter()
        .filter(|b| b.connected.load(Relaxed))
        .count();
    let errors: u64 = shared.errors.lock().map(|m| m.values().sum()).unwrap_or(0);
    let snaps: u64 = shared.bots.iter().map(|b| b.snapshots.load(Relaxed)).sum();
    format!(
        "[{:>5.1}s] connected {connected}/{} snapshots {snaps} errors {errors}",
        elapsed.as_secs_f64(),
        shared.bots.len()
    )
}

fn f3(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.3}"))
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn report(
    cfg: &BotsConfig,
    shared: &Shared,
    connected: usize,
    (before, after): (&[Counts], &[Counts]),
    window: f64,
    server: Option<(ServerFigures, ServerFigures)>,
    own: Own,
) -> String {
    let mut out = String::new();
    let mut snap_rates: Vec<f64> = before
        .iter()
        .zip(after)
        .map(|(b, a)| (a.0 - b.0) as f64 / window)
        .collect();
    let mut byte_rates: Vec<f64> = before
        .iter()
        .zip(after)
        .map(|(b, a)| (a.1 - b.1) as f64 / window)
        .collect();
    let mut rtts: Vec<f64> = shared
        .bots
        .iter()
        .flat_map(|b| b.rtt_ms.lock().map(|v| v.clone()).unwrap_or_default())
        .collect();
    let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
    out.push_str(&format!(
        "bots                 {} ({} workload)\n",
        cfg.count,
        cfg.workload.name()
    ));
    out.push_str(&format!("connected at end     {connected}\n"));
    out.push_str(&format!(
        "reconnects           {}\n",
        shared.reconnects.load(Relaxed)
    ));
    out.push_str(&format!("window               {window:.1} s\n"));
    let errors = shared.errors.lock().map(|m| m.clone()).unwrap_or_default();
    if errors.is_empty() {
        out.push_str("errors               none\n");
    }
    for (kind, n) in errors {
        out.push_str(&format!("errors {kind:<13} {n}\n"));
    }
    out.push_str(&format!(
        "snapshots/s per bot  min {}  p50 {}  max {}\n",
        f(percentile(&mut snap_rates, 0.0)),
        f(percentile(&mut snap_rates, 50.0)),
        f(percentile(&mut snap_rates, 100.0))
    ));
    out.push_str(&format!(
        "bytes/s per bot      min {}  p50 {}  max {}\n",
        f(percentile(&mut byte_rates, 0.0)),
        f(percentile(&mut byte_rates, 50.0)),
        f(percentile(&mut byte_rates, 100.0))
    ));
    out.push_str(&format!(
        "RTT ms               p50 {}  p99 {}  ({} samples)\n",
        f(percentile(&mut rtts, 50.0)),
        f(percentile(&mut rtts, 99.0)),
        rtts.len()
    ));
    let (c0, c1) = own.cpu;
    let server_cpu = c0.server.zip(c1.server).map(|(a, b)| b - a);
    let bots_cpu = c0.bots.zip(c1.bots).map(|(a, b)| b - a);
    let player_s = connected as f64 * window;
    let per_1000 = server_cpu.map(|c| c * 1000.0 / player_s.max(1e-9));
    let rss_mb = own.server_peak_rss.map(|b| b as f64 / 1e6);
    if let Some(c) = server_cpu {
        out.push_str(&format!(
            "server CPU (/proc)   {c:.2} s ({:.1} % of one core), {} s per 1000 player-s\n",
            c / window * 100.0,
            f3(per_1000)
        ));
    }
    if let Some(mb) = rss_mb {
        out.push_str(&format!("server peak RSS      {mb:.1} MB\n"));
    }
    if let Some(c) = bots_cpu {
        out.push_str(&format!(
            "bots CPU (/proc)     {c:.2} s ({:.1} % of one core)\n",
            c / window * 100.0
        ));
    }
    // One machine-readable line for scripts (scripts/compare.sh, scripts/capacity.sh).
    out.push_str(&format!(
        "RESULT players={} connected={connected} window_s={window:.2} snapshots_min={} snapshots_p50={} bytes_per_player_s={} server_cpu_s={} cpu_s_per_1000_player_s={} server_peak_rss_mb={} bots_cpu_s={} overruns={}\n",
        cfg.count,
        f(percentile(&mut snap_rates, 0.0)),
        f(percentile(&mut snap_rates, 50.0)),
        f(mean(&byte_rates)),
        f(server_cpu),
        f3(per_1000),
        rss_mb.map_or("-".to_owned(), |v| format!("{v:.1}")),
        f(bots_cpu),
        server
            .as_ref()
            .map_or("-".to_owned(), |(b, a)| format!("{}", a.overruns - b.overruns)),
    ));
    if let Some((b, a)) = server {
        let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("<= {:.3}", v * 1e3));
        out.push_str(&format!(
            "server tick ms       p50 {}  p99 {}  max {} (bucket bounds; max since start {:.3})\n",
            ms(a.tick_percentile_since(&b, 50.0)),
            ms(a.tick_percentile_since(&b, 99.0)),
            ms(a.tick_percentile_since(&b, 100.0)),
            a.tick_max_seconds * 1e3
        ));
        out.push_str(&format!("server ticks         {}\n", a.ticks - b.ticks));
        out.push_str(&format!(
            "server overruns      {}\n",
            a.overruns - b.overruns
        ));
        out.push_str(&format!(
            "server CPU s         {:.2} over {window:.1} s ({:.1} % of one core)\n",
            a.cpu_seconds - b.cpu_seconds,
            (a.cpu_seconds - b.cpu_seconds) / window * 100.0
        ));
    }
    out
}

/// One bot: log in, matchmake, play random inputs until the deadline (rejoining if its match
/// ends or it is dropped).
async fn bot(i: usize, begin: Instant, deadline: Instant, cfg: BotsConfig, shared: Arc<Shared>) {
    tokio::time::sleep_until(begin).await;
    let api = Api::new(&cfg.server);
    let mut rng = StdRng::seed_from_u64(cfg.seed.wrapping_add(i as u64));
    while Instant::now() < deadline {
        let played = match &cfg.spectate {
            Some(id) => spectate(i, &api, id, deadline, &shared).await,
            None => play(i, &api, &mut rng, deadline, &shared, cfg.workload).await,
        };
        match played {
            Ok(()) => {}
            Err(e) => {
                shared.error(&e);
                // Back off a little before trying again.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        shared.bots[i].connected.store(false, Relaxed);
    }
}

async fn play(
    i: usize,
    api: &Api,
    rng: &mut StdRng,
    deadline: Instant,
    shared: &Shared,
    workload: Workload,
) -> Result<(), ClientError> {
    let stats = &shared.bots[i];
    let login = api.guest_login(&format!("bot{i}")).await?;
    let ticket = api.matchmake(&login.token).await?;
    let mut conn =
        Connection::connect(&ticket.ws_url, &login.token, ConnectOptions::default()).await?;
    loop {
        match drive(&mut conn, rng, deadline, stats, workload).await {
            // A dropped connection: come back as the same player (the server holds the entity),
            // wherever the match runs; if it is gone (its node died), matchmake again.
            Err(e) if e.is_transient() => {
                stats.connected.store(false, Relaxed);
                shared.error(&e);
                let left = deadline.saturating_duration_since(Instant::now());
                conn.rejoin(api, left).await?;
                shared.reconnects.fetch_add(1, Relaxed);
            }
            other => return other,
        }
    }
}

/// Watches match `id` as a spectator until the deadline (pings only).
async fn spectate(
    i: usize,
    api: &Api,
    id: &str,
    deadline: Instant,
    shared: &Shared,
) -> Result<(), ClientError> {
    let stats = &shared.bots[i];
    let login = api.guest_login(&format!("watcher{i}")).await?;
    let summary = api
        .match_status(id)
        .await?
        .ok_or(ClientError::Unexpected("no such match to watch"))?;
    let url = format!("{}&spectate=1", summary.ws_url.unwrap_or_default());
    let mut conn = Connection::connect(&url, &login.token, ConnectOptions::default()).await?;
    let mut rng = StdRng::seed_from_u64(0);
    drive(&mut conn, &mut rng, deadline, stats, None).await
}

/// Plays on one connection until the deadline or an error.
async fn drive(
    conn: &mut Connection,
    rng: &mut StdRng,
    deadline: Instant,
    stats: &BotStats,
    workload: impl Into<Option<Workload>>,
) -> Result<(), ClientError> {
    // `None`: a spectator, which sends no inputs.
    let workload: Option<Workload> = workload.into();
    stats.connected.store(true, Relaxed);
    let mut rate = conn.welcome.tick_rate.max(1);
    let tick = Duration::from_secs_f64(1.0 / f64::from(rate));
    let mut inputs = tokio::time::interval(tick);
    inputs.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut pings = tokio::time::interval(Duration::from_secs(1));
    let (mut held, mut aim, mut hold_for) = (0u8, 0u16, 0u32);
    let mut last_bytes = conn.bytes_received();
    // One timer for the whole session: a `sleep_until` made inside the loop registered and
    // cleared a timer entry on every event (5 % of the bots' CPU under perf).
    let end = tokio::time::sleep_until(deadline);
    tokio::pin!(end);
    loop {
        tokio::select! {
            _ = &mut end => {
                conn.close_ref().await;
                return Ok(());
            }
            _ = inputs.tick(), if workload.is_some() => {
                let fire = match workload.unwrap_or(Workload::Standard) {
                    Workload::Firing => {
                        if hold_for == 0 {
                            held = rng.random_range(0..16u8);
                            hold_for = rng.random_range(10..40);
                        }
                        aim = aim.wrapping_add(rng.random_range(0..2000u16)).wrapping_sub(1000);
                        if rng.random_bool(0.3) { buttons::FIRE } else { 0 }
                    }
                    Workload::Standard => {
                        if hold_for == 0 {
                            held = rng.random_range(0..16u8);
                            hold_for = shared::rules::ticks_for_ms(500, rate);
                        }
                        aim = rng.random();
                        0
                    }
                };
                hold_for -= 1;
                conn.send_input(held | fire, aim).await?;
            }
            _ = pings.tick() => conn.send_ping().await?,
            ev = conn.next_event() => {
                match ev? {
                    Event::Snapshot { .. } => {
                        stats.snapshots.fetch_add(1, Relaxed);
                    }
                    Event::Pong => {
                        if let (Some(rtt), Ok(mut v)) = (conn.rtt(), stats.rtt_ms.lock()) {
                            v.push(rtt.as_secs_f64() * 1e3);
                        }
                    }
                    Event::MatchEnded(_) => {}
                    Event::Settings { tick_rate, .. } => {
                        rate = tick_rate.max(1);
                        let tick = Duration::from_secs_f64(1.0 / f64::from(rate));
                        inputs = tokio::time::interval(tick);
                        inputs.set_missed_tick_behavior(MissedTickBehavior::Skip);
                    }
                    Event::Closed { code, reason } => {
                        return Err(ClientError::Closed { code, reason });
                    }
                }
                let now = conn.bytes_received();
                stats.bytes.fetch_add(now - last_bytes, Relaxed);
                last_bytes = now;
            }
        }
    }
}
