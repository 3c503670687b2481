//! The match task: the async shell around [`MatchCore`]. It sleeps to the next tick, drains
//! the inbox into the core, calls it, and answers operators; when the match ends it writes the
//! results and says goodbye. Catch-up after a stall is capped, and a panic ends only this match.

use std::sync::Arc;
use std::time::Duration;

use shared::protocol::EndReason;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{error, info};

use crate::game::core::{MatchCore, guarded};
use crate::game::messages::MatchCmd;
use crate::game::session_link::SessionLink;
use crate::results::ResultsLog;

/// Most ticks run back to back to catch up after a stall; the rest of the backlog is dropped.
const MAX_CATCH_UP: u32 = 4;

/// How long a match with nobody in it waits before it ends.
#[derive(Debug, Clone, Copy)]
pub struct Idle {
    /// A match nobody ever joined (as long as a seat reservation lasts).
    pub never_joined: Duration,
    /// A match everyone left.
    pub emptied: Duration,
}

/// Runs a match until it ends, writes its results, and tells the players. Whoever spawned it
/// unregisters it when this returns.
pub async fn run(
    mut core: MatchCore<SessionLink>,
    mut inbox: mpsc::Receiver<MatchCmd>,
    idle: Idle,
    results: Option<Arc<ResultsLog>>,
) {
    let id = core.info().id.clone();
    info!(match_id = %id, tick_rate = core.info().options.tick_rate, "match started");
    let mut next = Instant::now() + core.period();
    let mut empty_since = Some(Instant::now());
    let mut ever_joined = false;
    let mut woken_by = None;
    let reason = loop {
        if core.is_empty() {
            // Nobody to simulate for: the match sleeps until a command (a join, an operator)
            // or its end, so an empty match costs no CPU.
            let wait = if ever_joined {
                idle.emptied
            } else {
                idle.never_joined
            };
            let since = *empty_since.get_or_insert_with(Instant::now);
            match tokio::time::timeout_at(since + wait, inbox.recv()).await {
                Ok(Some(cmd)) => woken_by = Some(cmd),
                Ok(None) | Err(_) => break EndReason::Empty,
            }
            // The clock resumes now: time spent asleep is not a backlog to catch up.
            next = Instant::now();
        }
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        let period = core.period();
        if now.duration_since(next) >= period {
            core.count_overrun();
        }
        let ticked = guarded(|| {
            let mut steps = 0;
            let mut started = std::time::Instant::now();
            while next <= now && steps < MAX_CATCH_UP {
                if steps > 0 {
                    core.record_tick(started);
                    started = std::time::Instant::now();
                }
                let queued = std::iter::from_fn(|| inbox.try_recv().ok());
                for cmd in woken_by.take().into_iter().chain(queued) {
                    deliver(&mut core, cmd, now.into_std());
                }
                core.tick();
                next += core.period();
                steps += 1;
            }
            core.publish(now.into_std());
            core.record_tick(started);
        });
        if let Err(panic) = ticked {
            error!(match_id = %id, panic = %panic, "match panicked; ending it");
            core.count_panic();
            break EndReason::Error;
        }
        if next <= now {
            let behind = now.duration_since(next).as_nanos() / core.period().as_nanos().max(1) + 1;
            core.count_dropped(behind as u64);
            next = now + core.period();
        }
        if let Some(reason) = core.outcome() {
            break reason;
        }
        if core.is_empty() {
            empty_since.get_or_insert(now);
        } else {
            empty_since = None;
            ever_joined = true;
        }
    };
    let record = core.end(reason);
    let recorded = core.finish_recording();
    if let Some(log) = results {
        let written = tokio::task::spawn_blocking(move || log.append_blocking(&record)).await;
        if !matches!(written, Ok(Ok(()))) {
            error!(match_id = %id, ?written, "could not write match results");
        }
    }
    // Like the results, the recording is on disk before anyone is told the match ended.
    if let Some(recorded) = recorded {
        match recorded.await {
            Ok(Ok(path)) => info!(match_id = %id, path = %path.display(), "match recorded"),
            Ok(Err(e)) => error!(match_id = %id, error = %e, "the match's recording failed"),
            Err(_) => error!(match_id = %id, "the recording writer stopped"),
        }
    }
    core.farewell(reason);
    // With a spectator delay, spectators see the match to its end, as far behind as always.
    while let Some(due) = core.spectators_waiting() {
        tokio::time::sleep_until(due.into()).await;
        core.show_spectators(std::time::Instant::now());
    }
    core.farewell_spectators(reason);
}

/// Hands one inbox message to the core: changes are applied, questions answered.
fn deliver(core: &mut MatchCore<SessionLink>, cmd: MatchCmd, now: std::time::Instant) {
    match cmd {
        MatchCmd::Apply { cmd, reply } => {
            let done = core.apply(cmd, now);
            if let Some(reply) = reply {
                let _ = reply.send(done);
            }
        }
        MatchCmd::Inspect { detail, reply } => {
            let _ = reply.send(core.report(detail));
        }
        MatchCmd::World { reply } => {
            let _ = reply.send(core.world());
        }
    }
}
