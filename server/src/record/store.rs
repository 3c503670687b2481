//! The recordings on disk: listing them (newest first), finding one by match id, and the
//! retention rule (keep the newest `record_keep`, delete those older than `record_max_age`).
//!
//! Matches a player created (`POST /v1/matches`) are recorded as `ID~cKEY.twrec`, KEY a hash
//! of the creator's address (or player id when the address is unknown), and retained apart:
//! the newest `record_keep` of them, and of those the newest `record_keep_per_creator` per
//! creator. A player creating and ending matches in a loop replaces only their own recordings,
//! never the operator's (matchmade, dedicated) ones.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::config::Retention;
use crate::record::format::Header;
use crate::record::reader;

/// The extension of a finished recording.
pub const EXTENSION: &str = "twrec";

/// The file stem of a recording: `ID`, or `ID~cKEY` for a match a player created.
pub fn stem(id: &str, creator: Option<&str>) -> String {
    match creator {
        None => id.to_owned(),
        Some(who) => format!("{id}~c{:016x}", fnv1a(who.as_bytes())),
    }
}

/// A stable, non-reversible-looking key for a creator (FNV-1a, 64 bits).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The creator key in a recording's file name, for player-created matches.
fn creator_of(path: &Path) -> Option<&str> {
    let name = path.file_stem()?.to_str()?;
    name.split_once("~c").map(|(_, key)| key)
}

/// A finished recording as the admin API lists it.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RecordingSummary {
    pub match_id: String,
    pub bytes: u64,
    /// When it was finished (the file's modification time), Unix milliseconds.
    pub ended_at_ms: u64,
    pub started_at_ms: u64,
    pub map: String,
    pub tick_rate: u16,
    pub protocol: String,
    pub build: String,
}

/// A match id as it may appear in a file name: what the registry makes (hex), nothing else.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The file of match `id`'s finished recording, if there is one.
pub fn path_of(dir: &Path, id: &str) -> Option<PathBuf> {
    if !valid_id(id) {
        return None;
    }
    let path = dir.join(format!("{id}.{EXTENSION}"));
    if path.is_file() {
        return Some(path);
    }
    // A player-created match's file carries its creator's key after the id.
    let prefix = format!("{id}~c");
    finished(dir).ok()?.into_iter().map(|f| f.0).find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&prefix))
    })
}

fn finished(dir: &Path) -> std::io::Result<Vec<(PathBuf, SystemTime, u64)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        let meta = entry.metadata()?;
        if meta.is_file() {
            out.push((path, meta.modified()?, meta.len()));
        }
    }
    // Newest first; the name breaks ties so the order is stable.
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// Reads only a recording's header.
pub fn read_header(path: &Path) -> Result<Header, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut start = [0u8; 9];
    file.read_exact(&mut start).map_err(|e| e.to_string())?;
    let len = u32::from_le_bytes([start[5], start[6], start[7], start[8]]) as usize;
    let mut bytes = start.to_vec();
    file.take(len.min(16 << 20) as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    reader::open(&bytes)
        .map(|(h, _)| h)
        .map_err(|e| e.to_string())
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The finished recordings in `dir`, newest first (unreadable ones are skipped).
pub fn list(dir: &Path) -> std::io::Result<Vec<RecordingSummary>> {
    Ok(finished(dir)?
        .into_iter()
        .filter_map(|(path, modified, bytes)| {
            let h = read_header(&path).ok()?;
            Some(RecordingSummary {
                match_id: h.match_id,
                bytes,
                ended_at_ms: unix_ms(modified),
                started_at_ms: h.started_at_ms,
                map: h.options.map,
                tick_rate: h.options.tick_rate,
                protocol: h.protocol,
                build: h.build,
            })
        })
        .collect())
}

/// Deletes the finished recordings the rule does not keep; returns how many.
pub fn apply_retention(dir: &Path, rule: &Retention, now: SystemTime) -> std::io::Result<usize> {
    let mut deleted = 0;
    // Newest first: count each pool (the operator's, the players') and each creator as we go.
    let (mut operators, mut created) = (0u32, 0u32);
    let mut per_creator: std::collections::HashMap<String, u32> = Default::default();
    for (path, modified, _) in finished(dir)? {
        let too_many = match creator_of(&path) {
            None => {
                operators += 1;
                rule.keep > 0 && operators > rule.keep
            }
            Some(key) => {
                created += 1;
                let mine = per_creator.entry(key.to_owned()).or_insert(0);
                *mine += 1;
                (rule.keep > 0 && created > rule.keep)
                    || (rule.per_creator > 0 && *mine > rule.per_creator)
            }
        };
        let too_old = !rule.max_age.is_zero()
            && now.duration_since(modified).unwrap_or_default() > rule.max_age;
        if too_many || too_old {
            std::fs::remove_file(&path)?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retention_keeps_the_newest_and_drops_the_old() {
        let dir = std::env::temp_dir().join(format!("tickwire-retention-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let now = SystemTime::now();
        for (i, age) in [10u64, 20, 30, 4000].iter().enumerate() {
            let p = dir.join(format!("m{i}.{EXTENSION}"));
            std::fs::write(&p, b"x").expect("write");
            let f = std::fs::File::options().write(true).open(&p).expect("open");
            f.set_modified(now - Duration::from_secs(*age))
                .expect("mtime");
        }
        std::fs::write(dir.join("other.txt"), b"x").expect("write");
        let keep_three = Retention {
            keep: 3,
            max_age: Duration::from_secs(25),
            per_creator: 0,
        };
        assert_eq!(
            apply_retention(&dir, &keep_three, now).expect("retention"),
            2
        );
        let left: Vec<_> = finished(&dir)
            .expect("list")
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(
            left,
            vec![
                dir.join(format!("m0.{EXTENSION}")),
                dir.join(format!("m1.{EXTENSION}"))
            ]
        );
        assert!(
            dir.join("other.txt").exists(),
            "only recordings are touched"
        );
        assert!(path_of(&dir, "../m0").is_none() && path_of(&dir, "m0").is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_creator_replaces_only_their_own_recordings() {
        let dir = std::env::temp_dir().join(format!("tickwire-creators-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let now = SystemTime::now();
        // Oldest first: 3 of the operator's, then 10 by one creator, 1 by another.
        let mut names = vec![stem("op0", None), stem("op1", None), stem("op2", None)];
        names.extend((0..10).map(|i| stem(&format!("x{i}"), Some("10.0.0.9"))));
        names.push(stem("y0", Some("10.0.0.7")));
        let n = names.len() as u64;
        for (i, name) in names.iter().enumerate() {
            let p = dir.join(format!("{name}.{EXTENSION}"));
            std::fs::write(&p, b"x").expect("write");
            let f = std::fs::File::options().write(true).open(&p).expect("open");
            f.set_modified(now - Duration::from_secs(n - i as u64))
                .expect("mtime");
        }
        let rule = Retention {
            keep: 4,
            max_age: Duration::ZERO,
            per_creator: 2,
        };
        // x0..x7 go (over 2 for their creator); the operator's three and y0 stay.
        assert_eq!(apply_retention(&dir, &rule, now).expect("retention"), 8);
        for id in ["op0", "op1", "op2", "x8", "x9", "y0"] {
            assert!(path_of(&dir, id).is_some(), "{id} kept");
        }
        assert!(path_of(&dir, "x7").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
