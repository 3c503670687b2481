//! The recording writer: one thread per server that appends each recorded match's bytes to its
//! file, so a match's tick never waits on the disk. A finished recording is fsynced and renamed
//! from `ID.twrec.part` to `ID.twrec` before its match is reported ended; then the retention
//! rule runs.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;

use tokio::sync::oneshot;
use tracing::{error, warn};

use crate::config::Retention;
use crate::metrics::Metrics;
use crate::record::store::{self, EXTENSION};

/// Bytes handed to the writer and not yet written, across all matches, past which a match's
/// recording is abandoned rather than let memory grow while the disk cannot keep up.
const MAX_PENDING: usize = 256 << 20;

enum Msg {
    Open {
        id: String,
        bytes: Vec<u8>,
    },
    Append {
        id: String,
        bytes: Vec<u8>,
    },
    Finish {
        id: String,
        bytes: Vec<u8>,
        done: oneshot::Sender<Result<PathBuf, String>>,
    },
    Abandon {
        id: String,
    },
    /// The match went away without finishing (its task died): close the file, keep the part.
    Forget {
        id: String,
    },
    /// Nobody played the match: close the file and delete it.
    Discard {
        id: String,
    },
}

/// The server's recording writer.
#[derive(Debug)]
pub struct Recorder {
    tx: mpsc::Sender<Msg>,
    pending: Arc<AtomicUsize>,
}

impl Recorder {
    /// Creates `dir` if needed and starts the writer thread.
    pub fn start(
        dir: &Path,
        retention: Retention,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(dir)?;
        let (tx, rx) = mpsc::channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let thread = Writer {
            dir: dir.to_owned(),
            files: HashMap::new(),
            pending: pending.clone(),
            retention,
            metrics,
        };
        std::thread::Builder::new()
            .name("tickwire-recorder".into())
            .spawn(move || thread.run(rx))?;
        Ok(Recorder { tx, pending })
    }

    /// Starts the recording of match `id` with its file's first bytes. `creator` (an address
    /// or a player id) for a match a player created: its file is retained with theirs
    /// ([`store::stem`]).
    pub fn begin(&self, id: &str, creator: Option<&str>, header: Vec<u8>) -> MatchRecording {
        let mut rec = MatchRecording {
            id: store::stem(id, creator),
            tx: self.tx.clone(),
            pending: self.pending.clone(),
            abandoned: false,
        };
        rec.send(|id, bytes| Msg::Open { id, bytes }, header);
        rec
    }
}

/// One match's recording: what its match task holds to hand bytes to the writer.
#[derive(Debug)]
pub struct MatchRecording {
    id: String,
    tx: mpsc::Sender<Msg>,
    pending: Arc<AtomicUsize>,
    abandoned: bool,
}

impl MatchRecording {
    /// Queues `bytes` for the file. Never blocks. If the writer is too far behind, the
    /// recording is abandoned (logged; the match goes on).
    pub fn append(&mut self, bytes: Vec<u8>) {
        self.send(|id, bytes| Msg::Append { id, bytes }, bytes);
    }

    /// Queues the last bytes; the answer comes once the file is on disk under its final name.
    pub fn finish(mut self, bytes: Vec<u8>) -> oneshot::Receiver<Result<PathBuf, String>> {
        let (done, rx) = oneshot::channel();
        if self.abandoned {
            let _ = done.send(Err("the recording was abandoned".into()));
            return rx;
        }
        self.pending.fetch_add(bytes.len(), Relaxed);
        let msg = Msg::Finish {
            id: std::mem::take(&mut self.id),
            bytes,
            done,
        };
        if let Err(mpsc::SendError(Msg::Finish { done, .. })) = self.tx.send(msg) {
            let _ = done.send(Err("the recording writer stopped".into()));
        }
        rx
    }

    /// Nobody played the match: its file is deleted, not finished (an empty matchmaking match
    /// would otherwise push real recordings out of the retention count).
    pub fn discard(mut self) {
        let id = std::mem::take(&mut self.id);
        let _ = self.tx.send(Msg::Discard { id });
    }

    fn send(&mut self, msg: impl FnOnce(String, Vec<u8>) -> Msg, bytes: Vec<u8>) {
        if self.abandoned {
            return;
        }
        let before = self.pending.fetch_add(bytes.len(), Relaxed);
        if before > MAX_PENDING {
            self.pending.fetch_sub(bytes.len(), Relaxed);
            error!(match_id = %self.id, pending_bytes = before, "recording writer is too far behind; abandoning this match's recording");
            self.abandoned = true;
            let _ = self.tx.send(Msg::Abandon {
                id: self.id.clone(),
            });
            return;
        }
        let _ = self.tx.send(msg(self.id.clone(), bytes));
    }
}

impl Drop for MatchRecording {
    /// A recording dropped without [`MatchRecording::finish`] (its match's task died) closes
    /// its file and leaves it as `ID.twrec.part`, readable up to where it stops.
    fn drop(&mut self) {
        if !self.id.is_empty() && !self.abandoned {
            let _ = self.tx.send(Msg::Forget {
                id: std::mem::take(&mut self.id),
            });
        }
    }
}

/// The writer thread's state: the open files by match id.
struct Writer {
    dir: PathBuf,
    /// `None`: the file failed; the rest of its bytes are dropped and its finish reports it.
    files: HashMap<String, Option<File>>,
    pending: Arc<AtomicUsize>,
    retention: Retention,
    metrics: Arc<Metrics>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        // Ends when the last sender (the server's Recorder and every match's) is gone.
        while let Ok(msg) = rx.recv() {
            match msg {
                Msg::Open { id, bytes } => {
                    let file = self.open(&id, &bytes);
                    self.files.insert(id, file);
                }
                Msg::Append { id, bytes } => self.append(&id, &bytes),
                Msg::Finish { id, bytes, done } => {
                    self.append(&id, &bytes);
                    let _ = done.send(self.finish(&id));
                }
                Msg::Discard { id } => {
                    self.files.remove(&id);
                    let _ = std::fs::remove_file(self.part(&id));
                }
                Msg::Forget { id } => {
                    self.files.remove(&id);
                    warn!(match_id = %id, "a recording was left unfinished (ID.twrec.part)");
                }
                Msg::Abandon { id } => {
                    self.files.remove(&id);
                    let _ = std::fs::remove_file(self.part(&id));
                    self.metrics.recordings_failed.fetch_add(1, Relaxed);
                }
            }
        }
    }

    fn part(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.{EXTENSION}.part"))
    }

    fn open(&mut self, id: &str, header: &[u8]) -> Option<File> {
        self.pending.fetch_sub(header.len(), Relaxed);
        let path = self.part(id);
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(header).map(|()| f));
        match opened {
            Ok(f) => Some(f),
            Err(e) => {
                error!(match_id = %id, path = %path.display(), error = %e, "cannot record the match");
                None
            }
        }
    }

    fn append(&mut self, id: &str, bytes: &[u8]) {
        self.pending.fetch_sub(bytes.len(), Relaxed);
        let Some(slot) = self.files.get_mut(id) else {
            return;
        };
        if let Some(f) = slot
            && let Err(e) = f.write_all(bytes)
        {
            error!(match_id = %id, error = %e, "recording write failed; the rest of it is lost");
            *slot = None;
        }
    }

    fn finish(&mut self, id: &str) -> Result<PathBuf, String> {
        let failed = || format!("the recording of {id} failed (see the log)");
        let file = self.files.remove(id).flatten().ok_or_else(failed);
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                self.metrics.recordings_failed.fetch_add(1, Relaxed);
                return Err(e);
            }
        };
        let done = self.dir.join(format!("{id}.{EXTENSION}"));
        let synced = file
            .sync_all()
            .and_then(|()| std::fs::rename(self.part(id), &done))
            // The rename is durable once the directory is synced.
            .and_then(|()| File::open(&self.dir)?.sync_all());
        if let Err(e) = synced {
            self.metrics.recordings_failed.fetch_add(1, Relaxed);
            return Err(format!("{}: {e}", done.display()));
        }
        self.metrics.recordings.fetch_add(1, Relaxed);
        match store::apply_retention(&self.dir, &self.retention, std::time::SystemTime::now()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "recordings deleted by retention"),
            Err(e) => warn!(error = %e, "recording retention failed"),
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_recording_is_renamed_and_an_unfinished_one_stays_a_part() {
        let dir = std::env::temp_dir().join(format!("tickwire-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let retention = Retention {
            keep: 0,
            max_age: std::time::Duration::ZERO,
            per_creator: 0,
        };
        let recorder =
            Recorder::start(&dir, retention, Arc::new(Metrics::default())).expect("start");
        let mut done = recorder.begin("m1", None, b"head".to_vec());
        done.append(b"-one".to_vec());
        let path = done
            .finish(b"-two".to_vec())
            .blocking_recv()
            .expect("answer")
            .expect("written");
        assert_eq!(path, dir.join("m1.twrec"));
        assert_eq!(std::fs::read(&path).expect("file"), b"head-one-two");
        assert!(!dir.join("m1.twrec.part").exists());

        let mut left = recorder.begin("m2", None, b"head".to_vec());
        left.append(b"-one".to_vec());
        drop(left);
        // The writer handles messages in order: once m3 is finished, m2's were handled.
        let m3 = recorder.begin("m3", None, Vec::new());
        m3.finish(Vec::new())
            .blocking_recv()
            .expect("answer")
            .expect("written");
        assert_eq!(
            std::fs::read(dir.join("m2.twrec.part")).expect("part"),
            b"head-one"
        );
        assert_eq!(recorder.pending.load(Relaxed), 0, "nothing left pending");

        let unplayed = recorder.begin("m4", None, b"head".to_vec());
        unplayed.discard();
        let m5 = recorder.begin("m5", None, Vec::new());
        m5.finish(Vec::new())
            .blocking_recv()
            .expect("answer")
            .expect("written");
        assert!(!dir.join("m4.twrec.part").exists() && !dir.join("m4.twrec").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
