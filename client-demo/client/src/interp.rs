//! Interpolation of other entities: snapshots buffered and shown a fixed delay in the past
//! (at least two snapshot intervals), positions blended between the two around that time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use shared::delta::Entry;
use shared::quant::q_to_pos;

/// A buffer of received snapshots, sampled `delay` in the past.
#[derive(Debug, Clone)]
pub struct Interpolator {
    base_delay: Duration,
    delay: Duration,
    frames: VecDeque<(Instant, u32, Vec<Entry>)>,
}

impl Interpolator {
    /// `delay` is the usual render delay (about 100 ms).
    pub fn new(delay: Duration) -> Interpolator {
        Interpolator {
            base_delay: delay,
            delay,
            frames: VecDeque::new(),
        }
    }

    /// The match's timing changed: keep at least two snapshot intervals of buffer.
    pub fn set_timing(&mut self, tick_rate: u16, snapshot_interval: u16) {
        let two = Duration::from_secs_f64(
            2.0 * f64::from(snapshot_interval) / f64::from(tick_rate.max(1)),
        );
        self.delay = self.base_delay.max(two);
    }

    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The snapshot of `tick` arrived at `at` with these entities (sorted by id).
    pub fn push(&mut self, at: Instant, tick: u32, entities: Vec<Entry>) {
        self.frames.push_back((at, tick, entities));
        while self.frames.len() > 2 && self.frames[1].0 + Duration::from_secs(1) < at {
            self.frames.pop_front();
        }
    }

    /// The server tick shown at `now` (the render time, between the two snapshots around it,
    /// rounded): what inputs say as their view tick, for lag compensation.
    pub fn view_tick(&self, now: Instant) -> Option<u32> {
        let (a, b, u) = self.around(now)?;
        let (ta, tb) = (f64::from(self.frames[a].1), f64::from(self.frames[b].1));
        Some((ta + (tb - ta) * u).round() as u32)
    }

    /// The frames before and after the render time at `now`, and how far between them it is.
    fn around(&self, now: Instant) -> Option<(usize, usize, f64)> {
        let t = now.checked_sub(self.delay)?;
        if self.frames.is_empty() {
            return None;
        }
        // b: the first snapshot after the render time (or the newest); a: the one before it.
        let bi = self
            .frames
            .iter()
            .position(|(at, _, _)| *at > t)
            .unwrap_or(self.frames.len() - 1);
        let ai = bi.saturating_sub(1);
        let (a_at, b_at) = (self.frames[ai].0, self.frames[bi].0);
        let span = b_at.saturating_duration_since(a_at).as_secs_f64();
        let u = if span > 0.0 {
            (t.saturating_duration_since(a_at).as_secs_f64() / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        Some((ai, bi, u))
    }

    /// (id, x, y) in world units for every entity at `now - delay`. An entity new in the later
    /// snapshot is shown where it is there (it appeared; nothing to blend from).
    pub fn sample(&self, now: Instant) -> Vec<(u32, f64, f64)> {
        let Some((ai, bi, u)) = self.around(now) else {
            return Vec::new();
        };
        let (a, b) = (&self.frames[ai].2, &self.frames[bi].2);
        b.iter()
            .map(|(id, sb)| {
                let sa = a.binary_search_by_key(id, |e| e.0).map_or(sb, |k| &a[k].1);
                let lerp = |p: i32, q: i32| q_to_pos(p) + (q_to_pos(q) - q_to_pos(p)) * u;
                (*id, lerp(sa.x, sb.x), lerp(sa.y, sb.y))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::entity::EntityState;

    fn at(x: i32) -> Vec<Entry> {
        vec![(
            1,
            EntityState {
                x,
                ..Default::default()
            },
        )]
    }

    #[test]
    fn blends_between_the_snapshots_around_the_render_time() {
        let t0 = Instant::now();
        let mut i = Interpolator::new(Duration::from_millis(100));
        i.push(t0, 10, at(0));
        i.push(
            t0 + Duration::from_millis(100),
            13,
            at(100 * shared::quant::POS_SCALE),
        );
        // Render time t0 + 50 ms: halfway from x = 0 to x = 100 units.
        let s = i.sample(t0 + Duration::from_millis(150));
        assert_eq!(s.len(), 1);
        assert!((s[0].1 - 50.0).abs() < 1e-9, "{s:?}");
        // ... and the tick shown is halfway from 10 to 13, rounded.
        assert_eq!(i.view_tick(t0 + Duration::from_millis(150)), Some(12));
        // Past the newest snapshot it holds the newest position.
        assert!((i.sample(t0 + Duration::from_secs(2))[0].1 - 100.0).abs() < 1e-9);
    }

    #[test]
    fn delay_covers_two_snapshot_intervals() {
        let mut i = Interpolator::new(Duration::from_millis(100));
        i.set_timing(10, 1);
        assert_eq!(i.delay(), Duration::from_millis(200));
        i.set_timing(60, 1);
        assert_eq!(i.delay(), Duration::from_millis(100));
    }
}
