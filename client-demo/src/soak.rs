//! `tickwire-demo soak`: bots that keep joining and leaving (politely, by dropping, by sending
//! garbage, by flooding), some creating short matches so matches keep starting and ending; the
//! server's memory and sessions are sampled every 10 s, and at the end everything must return to
//! zero.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use tickwire_client::Api;
use tickwire_client::{ConnectOptions, Connection, Event};

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    pub bots: usize,
    pub duration: Duration,
    pub server: String,
    pub seed: u64,
}

#[derive(Default)]
struct Counts {
    cycles: AtomicU64,
    polite: AtomicU64,
    dropped: AtomicU64,
    garbage: AtomicU64,
    flood: AtomicU64,
    errors: AtomicU64,
}

/// Server figures from `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    rss_mib: f64,
    connections: f64,
    players: f64,
    matches: f64,
}

async fn sample(api: &Api, url: &str) -> Option<Sample> {
    let text = api.metrics_text(url).await.ok()?;
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    Some(Sample {
        rss_mib: get("process_resident_memory_bytes") / (1024.0 * 1024.0),
        connections: get("tickwire_connections"),
        players: get("tickwire_players"),
        matches: get("tickwire_matches"),
    })
}

/// Runs the soak; returns the report and whether the server came back to zero.
pub async fn run(cfg: SoakConfig) -> (String, bool) {
    let api = Api::new(&cfg.server);
    let metrics = format!("{}/metrics", cfg.server.trim_end_matches('/'));
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let deadline = start + cfg.duration;
    let tasks: Vec<_> = (0..cfg.bots)
        .map(|i| tokio::spawn(bot(i, cfg.clone(), deadline, counts.clone())))
        .collect();
    let mut report = String::from("   t   RSS MiB  connections  players  matches\n");
    let first = sample(&api, &metrics).await.unwrap_or_default();
    let mut peak = first.rss_mib;
    let mut every =
        tokio::time::interval_at(start + Duration::from_secs(10), Duration::from_secs(10));
    while Instant::now() < deadline {
        tokio::select! {
            _ = every.tick() => {
                if let Some(s) = sample(&api, &metrics).await {
                    peak = peak.max(s.rss_mib);
                    let line = format!("{:>4}s  {:>7.1}  {:>11}  {:>7}  {:>7}\n",
                        start.elapsed().as_secs(), s.rss_mib, s.connections, s.players, s.matches);
                    eprint!("{line}");
                    report.push_str(&line);
                }
            }
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    // Everything should drain: sessions close, grace periods end, empty matches end.
    let settle = Instant::now() + Duration::from_secs(60);
    let mut last = sample(&api, &metrics).await.unwrap_or_default();
    while (last.connections != 0.0 || last.players != 0.0 || last.matches != 0.0)
        && Instant::now() < settle
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        last = sample(&api, &metrics).await.unwrap_or(last);
    }
    let zero = last.connections == 0.0 && last.players == 0.0 && last.matches == 0.0;
    let c = |a: &AtomicU64| a.load(Relaxed);
    report.push_str(&format!(
        "cycles {} (polite {}, dropped {}, garbage {}, flood {}), errors {}\n",
        c(&counts.cycles),
        c(&counts.polite),
        c(&counts.dropped),
        c(&counts.garbage),
        c(&counts.flood),
        c(&counts.errors)
    ));
    report.push_str(&format!(
        "RSS MiB start {:.1}, peak {:.1}, end {:.1}\nat the end: connections {}, players {}, matches {} ({})\n",
        first.rss_mib, peak, last.rss_mib, last.connections, last.players, last.matches,
        if zero { "back to zero" } else { "NOT back to zero" }
    ));
    (report, zero)
}

async fn bot(i: usize, cfg: SoakConfig, deadline: Instant, counts: Arc<Counts>) {
    let api = Api::new(&cfg.server);
    let mut rng = StdRng::seed_from_u64(cfg.seed.wrapping_add(i as u64));
    while Instant::now() < deadline {
        counts.cycles.fetch_add(1, Relaxed);
        if cycle(&api, &mut rng, deadline, &counts).await.is_err() {
            counts.errors.fetch_add(1, Relaxed);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// One life: join (sometimes in a fresh short match), play a while, leave one way or another.
async fn cycle(
    api: &Api,
    rng: &mut StdRng,
    deadline: Instant,
    counts: &Counts,
) -> Result<(), tickwire_client::ClientError> {
    let login = api
        .guest_login(&format!("soak{}", rng.random_range(0..10_000)))
        .await?;
    let ticket = if rng.random_bool(0.15) {
        let secs = rng.random_range(10..30);
        let options =
            serde_json::json!({ "time_limit_secs": secs, "matchmaking": true, "max_players": 8 });
        api.create_match(&login.token, &options).await?
    } else {
        api.matchmake(&login.token).await?
    };
    let mut conn =
        Connection::connect(&ticket.ws_url, &login.token, ConnectOptions::default()).await?;
    let stay = Instant::now() + Duration::from_millis(rng.random_range(1000..12_000));
    let until = stay.min(deadline);
    let mut tick = tokio::time::interval(Duration::from_millis(33));
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => break,
            _ = tick.tick() => { conn.send_input(rng.random_range(0..32), rng.random()).await?; }
            ev = conn.next_event() => {
                if let Event::Closed { .. } = ev? {
                    return Ok(());
                }
            }
        }
    }
    match rng.random_range(0..20) {
        0..14 => {
            counts.polite.fetch_add(1, Relaxed);
            conn.close().await;
        }
        14..17 => {
            counts.dropped.fetch_add(1, Relaxed);
            drop(conn);
        }
        17..19 => {
            counts.garbage.fetch_add(1, Relaxed);
            let _ = conn
                .send_raw(Message::Binary(vec![0xde, 0xad, 0xbe, 0xef].into()))
                .await;
            drain(&mut conn).await;
        }
        _ => {
            counts.flood.fetch_add(1, Relaxed);
            for _ in 0..400 {
                if conn.send_ping().await.is_err() {
                    break;
                }
            }
            drain(&mut conn).await;
        }
    }
    Ok(())
}

/// Reads until the server closes (bounded).
async fn drain(conn: &mut Connection) {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(ev) = conn.next_event().await {
            if matches!(ev, Event::Closed { .. }) {
                break;
            }
        }
    })
    .await;
}
