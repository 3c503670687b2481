//! Small statistics helpers: percentiles of samples and of Prometheus histograms.

/// The `p`-th percentile (0..=100) of `samples` by nearest rank; `None` when empty.
pub fn percentile(samples: &mut [f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    Some(samples[rank.clamp(1, samples.len()) - 1])
}

/// A scrape of the server's `/metrics`, reduced to the figures the bots report.
#[derive(Debug, Clone, Default)]
pub struct ServerFigures {
    /// (upper bound in seconds, cumulative count) of `tickwire_tick_duration_seconds`.
    pub tick_buckets: Vec<(f64, f64)>,
    pub ticks: f64,
    pub overruns: f64,
    pub tick_max_seconds: f64,
    pub cpu_seconds: f64,
}

impl ServerFigures {
    pub fn parse(text: &str) -> ServerFigures {
        let mut f = ServerFigures::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(v) = value.parse::<f64>() else {
                continue;
            };
            if let Some(le) = key
                .strip_prefix("tickwire_tick_duration_seconds_bucket{le=\"")
                .and_then(|r| r.strip_suffix("\"}"))
            {
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::INFINITY)
                };
                f.tick_buckets.push((bound, v));
            }
            match key {
                "tickwire_ticks_total" => f.ticks = v,
                "tickwire_tick_overruns_total" => f.overruns = v,
                "tickwire_tick_duration_max_seconds" => f.tick_max_seconds = v,
                "process_cpu_seconds_total" => f.cpu_seconds = v,
                _ => {}
            }
        }
        f
    }

    /// The bucket bound at or under which `p` % of the ticks between `earlier` and `self` took.
    pub fn tick_percentile_since(&self, earlier: &ServerFigures, p: f64) -> Option<f64> {
        let counts: Vec<(f64, f64)> = self
            .tick_buckets
            .iter()
            .map(|(le, c)| {
                let before = earlier
                    .tick_buckets
                    .iter()
                    .find(|(l, _)| l == le)
                    .map_or(0.0, |(_, c)| *c);
                (*le, c - before)
            })
            .collect();
        let total = counts.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let want = total * p / 100.0;
        counts.iter().find(|(_, c)| *c >= want).map(|(le, _)| *le)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), Some(50.0));
        assert_eq!(percentile(&mut v, 99.0), Some(99.0));
        assert_eq!(percentile(&mut [], 50.0), None);
    }

    #[test]
    fn histogram_percentiles_use_the_window() {
        let before = ServerFigures::parse(
            "tickwire_tick_duration_seconds_bucket{le=\"0.0001\"} 10\ntickwire_tick_duration_seconds_bucket{le=\"0.001\"} 10\ntickwire_tick_duration_seconds_bucket{le=\"+Inf\"} 10\n",
        );
        let after = ServerFigures::parse(
            "tickwire_tick_duration_seconds_bucket{le=\"0.0001\"} 10\ntickwire_tick_duration_seconds_bucket{le=\"0.001\"} 110\ntickwire_tick_duration_seconds_bucket{le=\"+Inf\"} 110\n",
        );
        assert_eq!(after.tick_percentile_since(&before, 50.0), Some(0.001));
    }
}
