//! The Agones lifecycle of a dedicated match (cargo feature `agones`, `dedicated --agones`):
//! connect to the SDK server beside the game server (the sidecar, at `AGONES_SDK_GRPC_HOST` /
//! `AGONES_SDK_GRPC_PORT`), `Ready` once listening, a health ping every 2 s while the process
//! runs, the match id and the player count as labels, and `Shutdown` once the results are written.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::registry::MatchHandle;

/// Agones marks a game server unhealthy after `failureThreshold` missed periods (5 s by default):
/// pinging every 2 s leaves room for one late ping.
const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// How often the players label is brought up to date (only written when it changed).
const PLAYERS_EVERY: Duration = Duration::from_secs(1);

/// Label keys (Agones prefixes them with `agones.dev/sdk-`).
pub const MATCH_LABEL: &str = "tickwire-match";
pub const PLAYERS_LABEL: &str = "tickwire-players";

/// A connection to the SDK server, and the tasks that keep it informed.
pub struct Lifecycle {
    sdk: agones::Sdk,
    tasks: Vec<JoinHandle<()>>,
}

impl Lifecycle {
    /// Connects to the SDK server (it answers `GetGameServer` first); fails after 30 s.
    pub async fn connect() -> Result<Lifecycle, String> {
        let sdk = agones::Sdk::new_with_host(None, None, None)
            .await
            .map_err(|e| format!("agones: could not reach the SDK server: {e}"))?;
        info!("agones: connected to the SDK server");
        Ok(Lifecycle {
            sdk,
            tasks: Vec::new(),
        })
    }

    /// The server listens and hosts `handle`: label it, say `Ready`, then ping health and keep
    /// the players label current until [`Lifecycle::shutdown`].
    pub async fn ready(&mut self, handle: Arc<MatchHandle>) -> Result<(), String> {
        self.sdk
            .set_label(MATCH_LABEL, handle.id.clone())
            .await
            .map_err(|e| format!("agones: SetLabel: {e}"))?;
        self.sdk
            .set_label(PLAYERS_LABEL, "0")
            .await
            .map_err(|e| format!("agones: SetLabel: {e}"))?;
        self.sdk
            .ready()
            .await
            .map_err(|e| format!("agones: Ready: {e}"))?;
        info!(match_id = %handle.id, "agones: Ready");
        let health = self.sdk.health_check();
        self.tasks.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(HEALTH_EVERY);
            loop {
                every.tick().await;
                if health.send(()).await.is_err() {
                    warn!("agones: the health stream closed");
                    return;
                }
            }
        }));
        let mut sdk = self.sdk.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut shown = 0;
            let mut every = tokio::time::interval(PLAYERS_EVERY);
            loop {
                every.tick().await;
                let now = handle.players();
                if now != shown {
                    match sdk.set_label(PLAYERS_LABEL, now.to_string()).await {
                        Ok(()) => shown = now,
                        Err(e) => warn!(error = %e, "agones: SetLabel players"),
                    }
                }
            }
        }));
        Ok(())
    }

    /// The results are written: stop pinging and ask Agones to shut the game server down.
    pub async fn shutdown(mut self) -> Result<(), String> {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.sdk
            .shutdown()
            .await
            .map_err(|e| format!("agones: Shutdown: {e}"))?;
        info!("agones: Shutdown");
        Ok(())
    }
}
