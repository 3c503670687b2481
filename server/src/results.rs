//! The results log: one JSON line per finished match, written and fsynced before the match is
//! torn down, so a crash after a match ends loses nothing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Milliseconds since the Unix epoch (0 if the clock is before it): the times a record carries.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One player's line in a match record.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PlayerRecord {
    pub player_id: String,
    pub name: String,
    pub entity: u32,
    pub score: u16,
    pub deaths: u16,
}

/// A finished match.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MatchRecord {
    pub match_id: String,
    /// `score_limit`, `time_limit`, `empty`, `admin`, `shutdown` or `error`.
    pub reason: String,
    /// Unix milliseconds.
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
    pub duration_secs: f64,
    pub ticks: u32,
    pub tick_rate: u16,
    /// Players in the match at the end, best first.
    pub players: Vec<PlayerRecord>,
}

/// An append-only JSON-lines file shared by every match.
#[derive(Debug)]
pub struct ResultsLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl ResultsLog {
    /// Opens (creating) the log for appending; fails early if it cannot be written.
    pub fn open(path: &Path) -> std::io::Result<ResultsLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(ResultsLog {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and waits for it to reach the disk. Blocking: call it off the async
    /// workers (`spawn_blocking`).
    pub fn append_blocking(&self, record: &MatchRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line)?;
        file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_lines() {
        let path =
            std::env::temp_dir().join(format!("tickwire-results-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let log = ResultsLog::open(&path).expect("open");
        let rec = MatchRecord {
            match_id: "m1".into(),
            reason: "time_limit".into(),
            started_at_ms: 1,
            ended_at_ms: 2,
            duration_secs: 0.001,
            ticks: 3,
            tick_rate: 30,
            players: vec![],
        };
        log.append_blocking(&rec).expect("append");
        log.append_blocking(&rec).expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with("{\"match_id\":\"m1\""));
        let _ = std::fs::remove_file(&path);
    }
}
