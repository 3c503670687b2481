//! The recordings on disk: listing them (newest first), finding one by match id, and the
//! retention rule (keep the newest `record_keep`, delete those older than `record_max_age`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::record::format::Header;
use crate::record::reader;
use crate::record::writer::EXTENSION;

/// Which finished recordings are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest this many are kept (0: no count limit).
    pub keep: u32,
    /// Older than this are deleted (zero: no age limit).
    pub max_age: Duration,
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
    let path = dir.join(format!("{id}.{EXTENSION}"));
    (valid_id(id) && path.is_file()).then_some(path)
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
    for (i, (path, modified, _)) in finished(dir)?.into_iter().enumerate() {
        let too_many = rule.keep > 0 && i >= rule.keep as usize;
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
}
