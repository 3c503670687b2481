//! Merging the layers: defaults ← TOML file ← `TICKWIRE_*` environment ← flags. Every layer is
//! a flat table of keys; unknown keys are errors in every layer; environment and flag values
//! are strings, read as the type of the key's default.

use std::path::PathBuf;

use toml::{Table, Value};

use crate::config::ConfigError;
use crate::config::raw::RawConfig;

/// Where the non-default values come from.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    pub file: Option<PathBuf>,
    /// `(NAME, value)` of the process environment (only `TICKWIRE_*` are read).
    pub env: Vec<(String, String)>,
    /// `(key, value)` pairs from flags, applied in order.
    pub flags: Vec<(String, String)>,
}

impl Layers {
    /// The layers of this process: its environment and the given file and flags.
    pub fn from_process(file: Option<PathBuf>, flags: Vec<(String, String)>) -> Layers {
        Layers {
            file,
            env: std::env::vars().collect(),
            flags,
        }
    }
}

const ENV_PREFIX: &str = "TICKWIRE_";

/// Merges the layers into a [`RawConfig`] (types checked, ranges not yet).
pub fn load_raw(layers: &Layers) -> Result<RawConfig, ConfigError> {
    let defaults =
        Table::try_from(RawConfig::default()).map_err(|e| ConfigError(format!("defaults: {e}")))?;
    let mut merged = defaults.clone();
    if let Some(path) = &layers.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let file: Table = toml::from_str(&text)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.message())))?;
        for (key, value) in file {
            if !defaults.contains_key(&key) {
                return Err(unknown(&key, &format!("in {}", path.display())));
            }
            merged.insert(key, value);
        }
    }
    for (name, text) in &layers.env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        let default = defaults
            .get(&key)
            .ok_or_else(|| unknown(&key, &format!("(environment variable {name})")))?;
        merged.insert(key.clone(), coerce(&key, default, text)?);
    }
    for (key, text) in &layers.flags {
        let default = defaults.get(key).ok_or_else(|| unknown(key, "(flag)"))?;
        merged.insert(key.clone(), coerce(key, default, text)?);
    }
    RawConfig::deserialize_table(merged)
}

fn unknown(key: &str, where_: &str) -> ConfigError {
    ConfigError(format!("unknown key `{key}` {where_}"))
}

/// Reads a string as the type of `default`.
fn coerce(key: &str, default: &Value, text: &str) -> Result<Value, ConfigError> {
    let bad = |what: &str| ConfigError(format!("{key} = {text:?}: expected {what}"));
    match default {
        Value::Integer(_) => text
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| bad("an integer")),
        Value::Boolean(_) => match text.trim() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(bad("true or false")),
        },
        Value::Array(_) => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )),
        _ => Ok(Value::String(text.to_owned())),
    }
}

impl RawConfig {
    fn deserialize_table(table: Table) -> Result<RawConfig, ConfigError> {
        Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(e.message().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(env: &[(&str, &str)], flags: &[(&str, &str)]) -> Layers {
        Layers {
            file: None,
            env: env
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            flags: flags
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn flags_win_over_env_over_defaults() {
        let raw = load_raw(&layers(
            &[
                ("TICKWIRE_TICK_RATE", "60"),
                ("TICKWIRE_MAX_PLAYERS", "8"),
                ("PATH", "/bin"),
            ],
            &[("tick_rate", "64")],
        ))
        .expect("loads");
        assert_eq!((raw.tick_rate, raw.max_players), (64, 8));
    }

    #[test]
    fn unknown_keys_and_bad_types_are_errors() {
        let e = load_raw(&layers(&[("TICKWIRE_TICKRATE", "60")], &[])).expect_err("must fail");
        assert!(e.0.contains("unknown key `tickrate`"), "{e}");
        let e = load_raw(&layers(&[], &[("tick_rate", "fast")])).expect_err("must fail");
        assert!(e.0.contains("tick_rate") && e.0.contains("fast"), "{e}");
    }

    #[test]
    fn lists_from_env_are_comma_separated() {
        let raw = load_raw(&layers(
            &[(
                "TICKWIRE_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            )],
            &[],
        ))
        .expect("loads");
        assert_eq!(
            raw.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    #[test]
    fn example_parses_and_equals_the_defaults() {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tickwire.example.toml"
        ));
        let layers = Layers {
            file: Some(path),
            env: vec![],
            flags: vec![],
        };
        assert_eq!(
            load_raw(&layers).expect("example parses"),
            RawConfig::default()
        );
    }

    #[test]
    fn unknown_key_in_a_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("tickwire-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("bad.toml");
        std::fs::write(&path, "tick_rate = 60\ntickrate = 60\n").expect("write");
        let layers = Layers {
            file: Some(path),
            env: vec![],
            flags: vec![],
        };
        let e = load_raw(&layers).expect_err("unknown key");
        assert!(e.0.contains("unknown key `tickrate`"), "{e}");
    }

    #[test]
    fn printed_config_redacts_the_secret() {
        let raw = RawConfig {
            jwt_secret: "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t".into(),
            redis_url: "redis://:s3cr3t@cache:6379".into(),
            ..RawConfig::default()
        };
        let text = raw.to_redacted_toml();
        assert!(
            text.contains("jwt_secret = \"<redacted>\"")
                && text.contains("redis_url = \"<redacted>\"")
                && !text.contains("s3cr3t"),
            "{text}"
        );
    }
}
