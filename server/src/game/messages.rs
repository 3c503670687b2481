//! What changes a match ([`Command`], applied by the core at a tick boundary, with its
//! [`Reply`]) and what sessions and the admin API put in a match's inbox ([`MatchCmd`]).

use std::time::Duration;

use shared::delta::Entry;
use shared::ids::{ConnId, NetId};
use shared::protocol::{EndReason, Input};
use tokio::sync::oneshot;

use crate::game::clients::Joiner;
use crate::game::report::MatchReport;
use crate::game::session_link::SessionLink;
use crate::game::spectators::Watcher;

/// A change to a match, over a client link of type `L`. Everything that alters the world comes
/// through here, in the order it is applied.
pub enum Command<L> {
    Join(Joiner<L>),
    /// A spectator starts watching (no entity, no seat).
    Watch(Watcher<L>),
    Input {
        conn: ConnId,
        input: Input,
    },
    /// The session ended; `dropped`: without a proper close (the player may come back).
    Leave {
        conn: ConnId,
        dropped: bool,
    },
    /// Change timing from the next tick on.
    Configure {
        change: TimingChange,
        by: String,
    },
    /// End the match now (results are still written).
    End {
        reason: EndReason,
        by: String,
    },
    /// Remove a player (by entity id) with the KICKED close code, and refuse them (and their
    /// address) a seat for `ban`.
    Kick {
        entity: NetId,
        ban: Duration,
        by: String,
    },
    /// Debug builds only: make the match's systems panic on the next tick.
    #[cfg(debug_assertions)]
    InjectPanic,
}

/// What applying a [`Command`] did, for the commands that answer.
#[derive(Debug)]
pub enum Reply {
    Done,
    /// Whether the kicked player was there.
    Kicked(bool),
    /// The timing now in force, or why the change was refused.
    Configured(Result<Box<MatchReport>, TimingError>),
}

/// A requested timing change; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimingChange {
    pub tick_rate: Option<u16>,
    pub snapshot_interval: Option<u16>,
}

/// Why a timing change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingError {
    TickRate(u16),
    SnapshotInterval { interval: u16, tick_rate: u16 },
}

impl std::fmt::Display for TimingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rates = shared::limits::TICK_RATE;
        match self {
            TimingError::TickRate(rate) => write!(
                f,
                "tick_rate = {rate} is outside {}..={}",
                rates.start(),
                rates.end()
            ),
            TimingError::SnapshotInterval {
                interval,
                tick_rate,
            } => write!(
                f,
                "snapshot_interval = {interval} is outside 1..={tick_rate}"
            ),
        }
    }
}

impl std::error::Error for TimingError {}

/// A message to a running match task, through its bounded inbox.
pub enum MatchCmd {
    /// A change, applied at the next tick; `reply` hears what it did (Configure and Kick
    /// answer, the rest say [`Reply::Done`]).
    Apply {
        cmd: Command<SessionLink>,
        reply: Option<oneshot::Sender<Reply>>,
    },
    /// Figures for operators; `detail` adds one line per player.
    Inspect {
        detail: bool,
        reply: oneshot::Sender<MatchReport>,
    },
    /// The newest replicated world (tick and entities), as clients mirror it.
    World {
        reply: oneshot::Sender<Option<(u32, Vec<Entry>)>>,
    },
}

impl MatchCmd {
    /// A change nobody waits on.
    pub fn apply(cmd: Command<SessionLink>) -> MatchCmd {
        MatchCmd::Apply { cmd, reply: None }
    }
}
