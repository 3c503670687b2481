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

use crate::api::Api;
use crate::connection::{self, ConnectOptions, Connection, Event, connect_with_retry};
use crate::error::ClientError;
use crate::stats::{ServerFigures, percentile};

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
    let window_start = start + ramp + Duration::from_millis(500).min(cfg.duration / 4);
    tokio::time::sleep_until(window_start).await;
    let before = scrape(&api, &cfg).await;
    let counts_before = counters(&shared);
    let t0 = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = progress.tick() => eprintln!("{}", progress_line(&shared, start.elapsed())),
        }
    }
    let after = scrape(&api, &cfg).await;
    let counts_after = counters(&shared);
    let connected = shared
        .bots
        .iter()
        .filter(|b| b.connected.load(Relaxed))
        .count();
    let window = t0.elapsed().as_secs_f64();
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
    )
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

fn report(
    cfg: &BotsConfig,
    shared: &Shared,
    connected: usize,
    (before, after): (&[Counts], &[Counts]),
    window: f64,
    server: Option<(ServerFigures, ServerFigures)>,
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
    out.push_str(&format!("bots                 {}\n", cfg.count));
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
        match play(i, &api, &mut rng, deadline, &shared).await {
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
) -> Result<(), ClientError> {
    let stats = &shared.bots[i];
    let login = api.guest_login(&format!("bot{i}")).await?;
    let ticket = api.matchmake(&login.token).await?;
    let mut conn =
        Connection::connect(&ticket.ws_url, &login.token, ConnectOptions::default()).await?;
    loop {
        match drive(&mut conn, rng, deadline, stats).await {
            // A dropped connection: come back as the same player (the server holds the entity).
            Err(e) if connection::is_transient(&e) => {
                stats.connected.store(false, Relaxed);
                shared.error(&e);
                let left = deadline.saturating_duration_since(Instant::now());
                let opts = ConnectOptions::default();
                conn =
                    connect_with_retry(&ticket.ws_url, &login.token, opts, left, |_, _| {}).await?;
                shared.reconnects.fetch_add(1, Relaxed);
            }
            other => return other,
        }
    }
}

/// Plays on one connection until the deadline or an error.
async fn drive(
    conn: &mut Connection,
    rng: &mut StdRng,
    deadline: Instant,
    stats: &BotStats,
) -> Result<(), ClientError> {
    stats.connected.store(true, Relaxed);
    let tick = Duration::from_secs_f64(1.0 / f64::from(conn.welcome.tick_rate.max(1)));
    let mut inputs = tokio::time::interval(tick);
    inputs.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut pings = tokio::time::interval(Duration::from_secs(1));
    let (mut held, mut aim, mut hold_for) = (0u8, 0u16, 0u32);
    let mut last_bytes = conn.bytes_received();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                conn.close_ref().await;
                return Ok(());
            }
            _ = inputs.tick() => {
                if hold_for == 0 {
                    held = rng.random_range(0..16u8);
                    hold_for = rng.random_range(10..40);
                }
                hold_for -= 1;
                aim = aim.wrapping_add(rng.random_range(0..2000u16)).wrapping_sub(1000);
                let fire = if rng.random_bool(0.3) { buttons::FIRE } else { 0 };
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
                        let tick = Duration::from_secs_f64(1.0 / f64::from(tick_rate.max(1)));
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
