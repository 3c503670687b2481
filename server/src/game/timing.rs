//! A match's live timing: tick rate, snapshot interval, and what follows from them.

use std::time::Duration;

use crate::game::messages::{TimingChange, TimingError};

/// The loop's timing, derived from the tick rate and snapshot interval.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub rate: u16,
    pub interval: u16,
    pub period: Duration,
    /// Snapshots skipped in a row before a client is too slow.
    pub slow_limit: u32,
}

impl Timing {
    pub fn new(rate: u16, interval: u16, slow_timeout: Duration) -> Timing {
        let snapshots_per_sec = f64::from(rate) / f64::from(interval);
        Timing {
            rate,
            interval,
            period: Duration::from_secs_f64(1.0 / f64::from(rate)),
            slow_limit: (slow_timeout.as_secs_f64() * snapshots_per_sec)
                .ceil()
                .max(1.0) as u32,
        }
    }

    /// The timing after `change`, checked against the allowed ranges. An interval left out
    /// keeps its value, lowered to the new rate if it would exceed it.
    pub fn changed(
        &self,
        change: TimingChange,
        slow_timeout: Duration,
    ) -> Result<Timing, TimingError> {
        let rate = change.tick_rate.unwrap_or(self.rate);
        if !shared::limits::TICK_RATE.contains(&rate) {
            return Err(TimingError::TickRate(rate));
        }
        let interval = change.snapshot_interval.unwrap_or(self.interval.min(rate));
        if !shared::limits::snapshot_interval(rate).contains(&interval) {
            return Err(TimingError::SnapshotInterval {
                interval,
                tick_rate: rate,
            });
        }
        Ok(Timing::new(rate, interval, slow_timeout))
    }
}
