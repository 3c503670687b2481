//! Per-match settings, chosen at creation and validated with errors that name the field.

use serde::Deserialize;
use shared::limits;

/// How a match is played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchOptions {
    pub max_players: u16,
    pub tick_rate: u16,
    /// A snapshot is sent every this many ticks.
    pub snapshot_interval: u16,
    pub score_limit: u16,
    pub time_limit_secs: u32,
    /// Seed of the match's RNG (spawn choice), for replays.
    pub seed: u64,
    /// Whether `/v1/matchmake` may put players in it.
    pub matchmaking: bool,
    /// Joining needs the match's ticket (given to its creator) or a seat already held.
    pub private: bool,
}

/// `POST /v1/matches` body; every field optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct MatchOptionsRequest {
    pub max_players: Option<u16>,
    pub tick_rate: Option<u16>,
    pub snapshot_interval: Option<u16>,
    pub score_limit: Option<u16>,
    pub time_limit_secs: Option<u32>,
    pub seed: Option<u64>,
    pub matchmaking: Option<bool>,
    pub private: Option<bool>,
}

pub const DEFAULT_SCORE_LIMIT: u16 = 20;
pub const DEFAULT_TIME_LIMIT_SECS: u32 = 300;

fn check<T: PartialOrd + std::fmt::Display>(
    name: &str,
    v: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, String> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{name} = {v} is outside {}..={}",
            range.start(),
            range.end()
        ))
    }
}

impl MatchOptionsRequest {
    /// Fills gaps from the server defaults and validates every field.
    pub fn resolve(&self, defaults: &crate::config::Config) -> Result<MatchOptions, String> {
        let default_tick_rate = defaults.tick_rate;
        let default_max_players = defaults.max_players;
        let private = self.private.unwrap_or(false);
        let matchmaking = self.matchmaking.unwrap_or(false);
        if private && matchmaking {
            return Err("a private match cannot be in matchmaking".into());
        }
        let tick_rate = check(
            "tick_rate",
            self.tick_rate.unwrap_or(default_tick_rate),
            limits::TICK_RATE,
        )?;
        Ok(MatchOptions {
            max_players: check(
                "max_players",
                self.max_players.unwrap_or(default_max_players),
                limits::MAX_PLAYERS,
            )?,
            tick_rate,
            snapshot_interval: check(
                "snapshot_interval",
                self.snapshot_interval
                    .unwrap_or(defaults.snapshot_interval.min(tick_rate)),
                limits::snapshot_interval(tick_rate),
            )?,
            score_limit: check(
                "score_limit",
                self.score_limit.unwrap_or(DEFAULT_SCORE_LIMIT),
                limits::SCORE_LIMIT,
            )?,
            time_limit_secs: check(
                "time_limit_secs",
                self.time_limit_secs.unwrap_or(DEFAULT_TIME_LIMIT_SECS),
                limits::TIME_LIMIT_SECS,
            )?,
            seed: self.seed.unwrap_or_else(rand::random),
            matchmaking,
            private,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_and_range() {
        let req = MatchOptionsRequest {
            tick_rate: Some(500),
            ..Default::default()
        };
        assert_eq!(
            req.resolve(&crate::config::Config::with_secret(vec![0; 32])),
            Err("tick_rate = 500 is outside 1..=240".into())
        );
        let req = MatchOptionsRequest {
            max_players: Some(0),
            ..Default::default()
        };
        assert!(
            req.resolve(&crate::config::Config::with_secret(vec![0; 32]))
                .is_err_and(|e| e.starts_with("max_players"))
        );
    }
}
