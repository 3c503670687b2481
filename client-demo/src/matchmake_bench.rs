//! A matchmaking load report (not a test): players log in, then matchmake through the given
//! servers in turn (a cluster's nodes), so many at once; prints throughput, latency percentiles
//! and how the players were spread over matches (none may hold more than its capacity).

use std::collections::HashMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tickwire_client::Api;

use crate::stats::percentile;

/// What to run.
#[derive(Debug, Clone)]
pub struct MatchmakeBenchConfig {
    /// Base URLs; player `i` uses `servers[i % len]`.
    pub servers: Vec<String>,
    pub players: usize,
    /// Matchmaking requests in flight at once.
    pub concurrency: usize,
}

/// Runs the report and returns it as text.
pub async fn run(cfg: MatchmakeBenchConfig) -> String {
    let apis: Vec<Api> = cfg.servers.iter().map(|s| Api::new(s)).collect();
    let api = |i: usize| &apis[i % apis.len()];
    let logins = futures_util::stream::iter(0..cfg.players)
        .map(|i| async move { api(i).guest_login(&format!("mm{i}")).await.map(|l| l.token) })
        .buffered(cfg.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let tokens: Vec<String> = logins.into_iter().filter_map(Result::ok).collect();
    let started = Instant::now();
    let results = futures_util::stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| async move {
            let t0 = Instant::now();
            let r = api(i).matchmake(token).await;
            (t0.elapsed(), r)
        })
        .buffer_unordered(cfg.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let wall = started.elapsed();
    let mut ms: Vec<f64> = Vec::new();
    let mut per_match: HashMap<String, usize> = HashMap::new();
    let mut errors: HashMap<String, usize> = HashMap::new();
    for (took, r) in results {
        match r {
            Ok(t) => {
                ms.push(took.as_secs_f64() * 1000.0);
                *per_match.entry(t.match_id).or_default() += 1;
            }
            Err(e) => {
                let what = match &e {
                    tickwire_client::ClientError::Status {
                        error: Some(body), ..
                    } => format!("{} {}", e.kind(), body.error),
                    _ => e.kind(),
                };
                *errors.entry(what).or_default() += 1;
            }
        }
    }
    let ok = ms.len();
    let fmt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "servers              {}\nplayers              {} logged in, {} concurrent",
        cfg.servers.join(" "),
        tokens.len(),
        cfg.concurrency
    );
    let _ = writeln!(
        out,
        "matchmakes           {ok} ok in {:.2} s = {:.0}/s",
        wall.as_secs_f64(),
        ok as f64
            / wall
                .as_secs_f64()
                .max(Duration::from_millis(1).as_secs_f64())
    );
    let _ = writeln!(
        out,
        "latency ms           p50 {}  p99 {}  max {}",
        fmt(percentile(&mut ms, 50.0)),
        fmt(percentile(&mut ms, 99.0)),
        fmt(percentile(&mut ms, 100.0))
    );
    let fullest = per_match.values().copied().max().unwrap_or(0);
    let _ = writeln!(
        out,
        "matches              {} used, fullest holds {fullest} reservations",
        per_match.len()
    );
    let _ = writeln!(out, "errors               {errors:?}");
    out
}
