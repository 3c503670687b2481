//! Graceful drain: on SIGTERM, ctrl-c or `POST /v1/admin/drain` the server refuses new players
//! (`/readyz` and joins answer 503), lets running matches end on their own until the drain
//! timeout, then ends the rest (players get MatchEnded and close 1001) and stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use shared::protocol::EndReason;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::game::messages::{Command, MatchCmd};
use crate::registry::Registry;

/// Whether the server is draining, and a way to wait for it to start.
#[derive(Debug, Default)]
pub struct Drain {
    draining: AtomicBool,
    started: Notify,
}

impl Drain {
    /// Starts draining; true the first time.
    pub fn start(&self) -> bool {
        let first = !self.draining.swap(true, Relaxed);
        if first {
            self.started.notify_waiters();
        }
        first
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Relaxed)
    }

    /// Completes once draining has started.
    pub async fn started(&self) {
        let notified = self.started.notified();
        if self.is_draining() {
            return;
        }
        notified.await;
    }
}

/// How long matches get to write results and say goodbye after being told to end.
const GOODBYE: Duration = Duration::from_secs(5);

/// Waits for `signal` or a drain request, then drains the registry: matches may end on their
/// own until `timeout`, then the rest are ended with reason Shutdown. Returns when no match is
/// left (or the goodbye time is over), for the HTTP server to stop.
pub async fn drain_on(
    signal: impl Future<Output = ()>,
    drain: Arc<Drain>,
    registry: Arc<Registry>,
    timeout: Duration,
) {
    tokio::select! {
        _ = signal => {},
        _ = drain.started() => {},
    }
    drain.start();
    info!(
        matches = registry.list().len(),
        timeout_secs = timeout.as_secs_f64(),
        "draining: refusing new players"
    );
    if tokio::time::timeout(timeout, registry.all_ended())
        .await
        .is_err()
    {
        let left = registry.list();
        info!(
            matches = left.len(),
            "drain timeout: ending the remaining matches"
        );
        for m in left {
            let end = MatchCmd::apply(Command::End {
                reason: EndReason::Shutdown,
                by: "server shutdown".into(),
            });
            let _ = m.inbox.send(end).await;
        }
        if tokio::time::timeout(GOODBYE, registry.all_ended())
            .await
            .is_err()
        {
            warn!(
                matches = registry.list().len(),
                "matches still running at exit"
            );
        }
    }
    info!("drained");
}
