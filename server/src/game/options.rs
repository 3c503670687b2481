//! Per-match settings, chosen at creation and validated with errors that name the field.

use shared::limits;

pub use shared::api::MatchOptionsRequest;

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
    /// The map's name ([`crate::maps`]).
    pub map: String,
    /// Radius of each player's area of interest in world units (0: everything).
    pub interest_radius: u32,
    /// How far back a shot may be tested against what its shooter saw (0: off).
    pub lag_compensation_ms: u16,
    /// Spectators allowed at once (0: none).
    pub max_spectators: u16,
    /// How far behind the match spectators watch (0: live).
    pub spectator_delay_ms: u32,
}

/// Why requested match options were refused; the message names the field and its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOptions(pub String);

impl std::fmt::Display for InvalidOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidOptions {}

pub const DEFAULT_SCORE_LIMIT: u16 = 20;
pub const DEFAULT_TIME_LIMIT_SECS: u32 = 300;

fn check<T: PartialOrd + std::fmt::Display>(
    name: &str,
    v: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, InvalidOptions> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(InvalidOptions(format!(
            "{name} = {v} is outside {}..={}",
            range.start(),
            range.end()
        )))
    }
}

/// Fills the gaps of `req` from the server defaults and validates every field.
pub fn resolve(
    req: &MatchOptionsRequest,
    defaults: &crate::config::Config,
) -> Result<MatchOptions, InvalidOptions> {
    let default_tick_rate = defaults.tick_rate;
    let default_max_players = defaults.max_players;
    let private = req.private.unwrap_or(false);
    let matchmaking = req.matchmaking.unwrap_or(false);
    if private && matchmaking {
        return Err(InvalidOptions(
            "a private match cannot be in matchmaking".into(),
        ));
    }
    let tick_rate = check(
        "tick_rate",
        req.tick_rate.unwrap_or(default_tick_rate),
        limits::TICK_RATE,
    )?;
    Ok(MatchOptions {
        max_players: check(
            "max_players",
            req.max_players.unwrap_or(default_max_players),
            limits::MAX_PLAYERS,
        )?,
        tick_rate,
        snapshot_interval: check(
            "snapshot_interval",
            req.snapshot_interval
                .unwrap_or(defaults.snapshot_interval.min(tick_rate)),
            limits::snapshot_interval(tick_rate),
        )?,
        score_limit: check(
            "score_limit",
            req.score_limit.unwrap_or(DEFAULT_SCORE_LIMIT),
            limits::SCORE_LIMIT,
        )?,
        time_limit_secs: check(
            "time_limit_secs",
            req.time_limit_secs.unwrap_or(DEFAULT_TIME_LIMIT_SECS),
            limits::TIME_LIMIT_SECS,
        )?,
        seed: req.seed.unwrap_or_else(rand::random),
        matchmaking,
        private,
        map: match &req.map {
            None => defaults.map.clone(),
            Some(name) if crate::maps::exists(name, defaults.map_file.is_some()) => name.clone(),
            Some(name) => {
                return Err(InvalidOptions(format!(
                    "map = {name:?} is not one of {}",
                    crate::maps::names(defaults.map_file.is_some()).join(", ")
                )));
            }
        },
        interest_radius: check(
            "interest_radius",
            req.interest_radius.unwrap_or(defaults.interest_radius),
            limits::INTEREST_RADIUS,
        )?,
        lag_compensation_ms: check(
            "lag_compensation_ms",
            req.lag_compensation_ms
                .unwrap_or(defaults.lag_compensation_max_ms),
            limits::LAG_COMPENSATION_MS,
        )?,
        max_spectators: check(
            "max_spectators",
            req.max_spectators.unwrap_or(defaults.max_spectators),
            limits::MAX_SPECTATORS,
        )?,
        spectator_delay_ms: check(
            "spectator_delay_ms",
            req.spectator_delay_ms
                .unwrap_or(defaults.spectator_delay_ms),
            limits::SPECTATOR_DELAY_MS,
        )?,
    })
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
            resolve(&req, &crate::config::Config::with_secret(vec![0; 32])),
            Err(InvalidOptions("tick_rate = 500 is outside 1..=240".into()))
        );
        let req = MatchOptionsRequest {
            max_players: Some(0),
            ..Default::default()
        };
        assert!(
            resolve(&req, &crate::config::Config::with_secret(vec![0; 32]))
                .is_err_and(|e| e.0.starts_with("max_players"))
        );
    }

    #[test]
    fn maps_interest_and_lag_compensation_resolve_or_name_what_is_wrong() {
        let config = crate::config::Config::with_secret(vec![0; 32]);
        let defaults = resolve(&MatchOptionsRequest::default(), &config).expect("defaults");
        assert_eq!(
            (
                defaults.map.as_str(),
                defaults.interest_radius,
                defaults.lag_compensation_ms
            ),
            ("arena", 0, 200)
        );
        let req = MatchOptionsRequest {
            map: Some("large".into()),
            interest_radius: Some(1000),
            lag_compensation_ms: Some(0),
            ..Default::default()
        };
        let o = resolve(&req, &config).expect("valid");
        assert_eq!(
            (o.map.as_str(), o.interest_radius, o.lag_compensation_ms),
            ("large", 1000, 0)
        );
        for (req, error) in [
            (
                MatchOptionsRequest {
                    map: Some("file".into()),
                    ..Default::default()
                },
                "map = \"file\" is not one of arena, large",
            ),
            (
                MatchOptionsRequest {
                    lag_compensation_ms: Some(1001),
                    ..Default::default()
                },
                "lag_compensation_ms = 1001 is outside 0..=1000",
            ),
            (
                MatchOptionsRequest {
                    interest_radius: Some(200_001),
                    ..Default::default()
                },
                "interest_radius = 200001 is outside 0..=200000",
            ),
        ] {
            assert_eq!(resolve(&req, &config), Err(InvalidOptions(error.into())));
        }
    }
}
