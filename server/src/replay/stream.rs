//! The replay stream the `/replay` viewer plays (docs/recording.md): a recording run again and
//! turned into the very messages a spectator would have received, one snapshot per tick, plus
//! a full snapshot every [`KEYFRAME_EVERY`] ticks so the viewer seeks without starting over.

use std::sync::Arc;

use shared::codec::{encode_server, snapshot_trailer};
use shared::protocol::{MatchEnded, PROTOCOL_VERSION, ServerMsg, Welcome};

use crate::game::history::{EncodeScratch, Frame, History};
use crate::replay::{ReplayError, Replayer};

/// The stream's first bytes: "TWRS" and its version.
pub const STREAM_MAGIC: [u8; 5] = *b"TWRS\x01";
/// An entry the viewer plays in order (Welcome, each tick's snapshot, MatchSettings, MatchEnded).
pub const ENTRY_MESSAGE: u8 = 0;
/// A full snapshot of the tick just played, for seeking only.
pub const ENTRY_KEYFRAME: u8 = 1;
/// Ticks between two keyframes: a seek applies at most this many deltas.
pub const KEYFRAME_EVERY: u32 = 256;

fn push(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn snapshot(body: Vec<u8>) -> Vec<u8> {
    let mut msg = body;
    let (trailer, len) = snapshot_trailer(0);
    msg.extend_from_slice(&trailer[..len]);
    msg
}

/// Bytes handed on at a time by [`build_into`].
pub const CHUNK: usize = 64 << 10;

/// Runs `recording` again (checking it as `replay --verify` does) and returns its stream.
pub fn build(recording: &[u8]) -> Result<Vec<u8>, ReplayError> {
    let mut all = Vec::new();
    build_into(recording, |chunk| {
        all.extend_from_slice(&chunk);
        true
    })?;
    Ok(all)
}

/// [`build`], handing the stream to `emit` about [`CHUNK`] bytes at a time as it is made, so
/// a long match never sits whole in memory. `emit` returning false (nobody is reading any
/// more) stops the replay there.
pub fn build_into(
    recording: &[u8],
    mut emit: impl FnMut(Vec<u8>) -> bool,
) -> Result<(), ReplayError> {
    let mut r = Replayer::new(recording)?;
    let h = r.header.clone();
    let arena = h.arena.clone();
    let mut out = Vec::with_capacity(CHUNK + 4096);
    out.extend_from_slice(&STREAM_MAGIC);
    let welcome = ServerMsg::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        match_id: h.match_id.clone(),
        player_id: String::new(),
        // No entity: the viewer watches, as a spectator does.
        entity: 0,
        tick_rate: h.options.tick_rate,
        snapshot_interval: 1,
        tick: 0,
        score_limit: h.options.score_limit,
        time_limit_secs: h.options.time_limit_secs,
        interest_radius: 0,
        arena: arena.clone(),
    });
    push(&mut out, ENTRY_MESSAGE, &encode_server(&welcome));
    let mut history = History::default();
    let mut scratch = EncodeScratch::default();
    let mut rate = h.options.tick_rate;
    let mut previous = 0;
    while let Some(tick) = r.next_tick()? {
        let sim = r.sim();
        if sim.tick_rate() != rate {
            rate = sim.tick_rate();
            let settings = ServerMsg::MatchSettings {
                tick,
                tick_rate: rate,
                snapshot_interval: 1,
            };
            push(&mut out, ENTRY_MESSAGE, &encode_server(&settings));
        }
        history.push(Frame {
            tick,
            tick_rate: rate,
            entities: Arc::new(sim.snapshot()),
            events: sim.take_events(),
        });
        let names = |id| sim.name(id);
        let delta = history.encode_latest(previous, None, &arena, names, &mut scratch);
        push(&mut out, ENTRY_MESSAGE, &snapshot(delta));
        if tick.is_multiple_of(KEYFRAME_EVERY) {
            let full = history.encode_latest(0, None, &arena, |id| sim.name(id), &mut scratch);
            push(&mut out, ENTRY_KEYFRAME, &snapshot(full));
        }
        scratch.next_broadcast();
        previous = tick;
        if out.len() >= CHUNK
            && !emit(std::mem::replace(
                &mut out,
                Vec::with_capacity(CHUNK + 4096),
            ))
        {
            return Ok(());
        }
    }
    // `next_tick` returned None: the results were there and checked.
    if let Some(end) = &r.ending {
        let ended = ServerMsg::MatchEnded(MatchEnded {
            reason: end.reason,
            tick: end.tick,
            results: end.results.clone(),
        });
        push(&mut out, ENTRY_MESSAGE, &encode_server(&ended));
    }
    emit(out);
    Ok(())
}
