//! What a match measures about itself for operators: tick durations over the last 10 s, and
//! once-a-second rates of bytes and snapshots sent, per match and per client.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use std::time::Instant;

/// How far back tick durations are kept.
pub const WINDOW: Duration = Duration::from_secs(10);

/// Tick durations of the last [`WINDOW`].
#[derive(Debug, Default)]
pub struct TickTimes {
    samples: VecDeque<(Instant, Duration)>,
}

/// Tick duration figures in milliseconds, and the share of the tick budget used on average.
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct TickFigures {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub budget_used_pct: f64,
    pub samples: usize,
}

impl TickTimes {
    pub fn record(&mut self, at: Instant, took: Duration) {
        self.samples.push_back((at, took));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Figures over the window against a tick of `period`.
    pub fn figures(&self, period: Duration) -> TickFigures {
        let mut ms: Vec<f64> = self
            .samples
            .iter()
            .map(|(_, d)| d.as_secs_f64() * 1e3)
            .collect();
        if ms.is_empty() {
            return TickFigures::default();
        }
        ms.sort_by(f64::total_cmp);
        let at = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        let mean = ms.iter().sum::<f64>() / ms.len() as f64;
        TickFigures {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: at(1.0),
            mean_ms: mean,
            budget_used_pct: mean / (period.as_secs_f64() * 1e3) * 100.0,
            samples: ms.len(),
        }
    }
}

/// A counter's per-second rate, resampled once a second.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    last_total: u64,
    last_at: Instant,
    per_sec: f64,
}

impl Rate {
    pub fn new(now: Instant) -> Rate {
        Rate {
            last_total: 0,
            last_at: now,
            per_sec: 0.0,
        }
    }

    /// Updates the rate from the counter's current total, at most once a second.
    pub fn sample(&mut self, total: u64, now: Instant) {
        let dt = now.duration_since(self.last_at);
        if dt >= Duration::from_secs(1) {
            self.per_sec = total.saturating_sub(self.last_total) as f64 / dt.as_secs_f64();
            self.last_total = total;
            self.last_at = now;
        }
    }

    pub fn per_sec(&self) -> f64 {
        self.per_sec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_over_the_window() {
        let t0 = Instant::now();
        let mut t = TickTimes::default();
        t.record(t0, Duration::from_millis(50));
        for i in 1..=100u64 {
            t.record(
                t0 + Duration::from_secs(11) + Duration::from_millis(i),
                Duration::from_micros(100 * i),
            );
        }
        let f = t.figures(Duration::from_millis(10));
        assert_eq!(f.samples, 100, "the 11 s old sample is gone");
        assert!((f.p50_ms - 5.0).abs() < 1e-9 && (f.max_ms - 10.0).abs() < 1e-9);
        assert!((f.budget_used_pct - 50.5).abs() < 1e-6);
    }
}
