//! A recorded match: its journal's bytes handed to the recording writer every housekeeping
//! pass (a quarter second), and the last of them at the end, which the shell awaits before it
//! reports the match ended.

use std::path::PathBuf;

use shared::protocol::SUBPROTOCOL;
use tokio::sync::oneshot;

use crate::game::core::MatchCore;
use crate::game::info::MatchInfo;
use crate::game::link::Link;
use crate::game::options::MatchOptions;
use crate::record::format::{HASH_EVERY, Header, RecordedOptions, header_bytes};
use crate::record::writer::Recorder;

/// The recording header of a match about to start.
pub fn header(info: &MatchInfo, arena: &shared::arena::Arena, started_at_ms: u64) -> Header {
    Header {
        protocol: SUBPROTOCOL.to_owned(),
        build: env!("CARGO_PKG_VERSION").to_owned(),
        match_id: info.id.clone(),
        started_at_ms,
        options: recorded(&info.options),
        arena: arena.clone(),
        hash_every: HASH_EVERY,
    }
}

/// What a recording keeps of a match's options (what a replay needs to run it again).
pub fn recorded(o: &MatchOptions) -> RecordedOptions {
    RecordedOptions {
        max_players: o.max_players,
        tick_rate: o.tick_rate,
        snapshot_interval: o.snapshot_interval,
        score_limit: o.score_limit,
        time_limit_secs: o.time_limit_secs,
        seed: o.seed,
        map: o.map.clone(),
        interest_radius: o.interest_radius,
        lag_compensation_ms: o.lag_compensation_ms,
        private: o.private,
    }
}

impl<L: Link> MatchCore<L> {
    /// Records this match through `recorder` from now on (before any command is applied).
    pub fn record_with(&mut self, recorder: &Recorder) {
        let header = header(&self.info, self.sim.arena(), self.started_at_ms);
        // A match a player created is retained with that creator's (by address, else player).
        let creator = self.info.creator.as_ref().map(|c| match c.ip {
            Some(ip) => ip.to_string(),
            None => c.player.clone(),
        });
        let bytes = header_bytes(&header);
        self.recording = Some(recorder.begin(&self.info.id, creator.as_deref(), bytes));
        self.sim.record();
    }

    /// Hands what the journal holds to the writer (never waits).
    pub(crate) fn flush_recording(&mut self) {
        if let (Some(rec), Some(j)) = (&mut self.recording, self.sim.journal())
            && !j.is_empty()
        {
            rec.append(j.take());
        }
    }

    /// After [`MatchCore::end`]: the last bytes to the writer; the answer comes when the file
    /// is on disk. `None` when the match is not recorded, or nobody ever joined it (its file is
    /// deleted).
    pub fn finish_recording(&mut self) -> Option<oneshot::Receiver<Result<PathBuf, String>>> {
        let rec = self.recording.take()?;
        if self.sim.journal().is_none_or(|j| j.joins() == 0) {
            rec.discard();
            return None;
        }
        let rest = self.sim.journal().map(|j| j.take()).unwrap_or_default();
        Some(rec.finish(rest))
    }
}
