// A replay stream (GET /v1/admin/recordings/{id}/replay, docs/recording.md) played into a
// Mirror: tick by tick when playing, from the nearest keyframe when seeking, so a seek applies
// at most one keyframe's worth of deltas instead of the match from its start.
import { DecodeError, decodeServer } from "./codec.js";
import { Mirror } from "./mirror.js";

const MAGIC = [0x54, 0x57, 0x52, 0x53, 0x01]; // "TWRS", version 1
const KEYFRAME = 1;
/** Ticks between keyframes in the stream (replay::stream::KEYFRAME_EVERY). */
const KEYFRAME_EVERY = 256;

/**
 * Splits a stream into the Welcome, the snapshots in play order (each with the tick rate it
 * is predicted at), the keyframes (full snapshots, each with the index of the step it equals)
 * and the MatchEnded.
 */
export function parseStream(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) throw new DecodeError("not a Tickwire replay stream");
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = MAGIC.length, tick = 0, rate = 0, welcome = null, ended = null;
  const steps = [], keyframes = [];
  while (at < bytes.length) {
    if (at + 5 > bytes.length) throw new DecodeError("replay stream cut short");
    const kind = bytes[at], len = data.getUint32(at + 1, true);
    at += 5;
    if (at + len > bytes.length) throw new DecodeError("replay stream cut short");
    const msg = decodeServer(bytes.subarray(at, at + len));
    at += len;
    if (kind === KEYFRAME) {
      if (!msg.Snapshot?.base.Full || steps.length === 0) throw new DecodeError("a keyframe that is not a full snapshot");
      keyframes.push({ tick, step: steps.length - 1, snapshot: msg.Snapshot });
    } else if (msg.Welcome) {
      welcome = msg.Welcome; rate = welcome.tick_rate;
    } else if (msg.MatchSettings) {
      rate = msg.MatchSettings.tick_rate;
    } else if (msg.Snapshot) {
      const b = msg.Snapshot.base;
      tick = b.Full ? b.Full.tick : tick + b.Since.ticks;
      steps.push({ tick, rate, snapshot: msg.Snapshot });
    } else if (msg.MatchEnded) {
      ended = msg.MatchEnded;
    }
  }
  if (!welcome || steps.length === 0) throw new DecodeError("a replay stream without a Welcome or snapshots");
  return { welcome, steps, keyframes, ended, firstTick: steps[0].tick, lastTick: tick };
}

/** The index of the last step at or before `tick` (0 before the first). */
function stepAt(steps, tick) {
  let lo = 0, hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid].tick <= tick) lo = mid; else hi = mid - 1;
  }
  return lo;
}

export class Playback {
  constructor(stream) {
    this.stream = stream;
    this.mirror = null;
    this.index = -1;
    /** Deltas the last seek applied (a keyframe's worth at most). */
    this.lastApplied = 0;
    // One pass to name who killed whom when (a name may be gone by the time it is shown).
    this.kills = [];
    const m = new Mirror();
    m.setMatch(stream.welcome.arena, stream.welcome.tick_rate);
    for (const s of stream.steps) {
      m.setTickRate(s.rate);
      m.apply(s.snapshot);
      for (const ev of s.snapshot.events) {
        if (ev.Kill) this.kills.push({ tick: ev.Kill.tick, killer: m.names.get(ev.Kill.killer) || `#${ev.Kill.killer}`, victim: m.names.get(ev.Kill.victim) || `#${ev.Kill.victim}` });
      }
    }
  }

  get tick() { return this.mirror ? this.mirror.tick : 0; }

  /** The tick rate the world shown now ran at. */
  get rate() { return this.index >= 0 ? this.stream.steps[this.index].rate : this.stream.welcome.tick_rate; }

  /**
   * Shows the world at `tick` (the last snapshot at or before it). Forward and at most a
   * keyframe interval away: the deltas in between (so playing never skips a tick's events);
   * else from the last keyframe before it. Either way at most 256 deltas. Calls `onStep` with
   * each step applied in play order (effects: rails, hits).
   */
  seek(tick, onStep = () => {}) {
    const steps = this.stream.steps;
    const target = stepAt(steps, tick);
    const keyframe = this.stream.keyframes.filter((k) => k.step <= target).pop();
    const fromKeyframe = keyframe ? keyframe.step : 0;
    let applied = 0;
    const forward = this.mirror && target >= this.index && target - this.index <= KEYFRAME_EVERY;
    if (!forward) {
      this.mirror = new Mirror();
      this.mirror.setMatch(this.stream.welcome.arena, steps[fromKeyframe].rate);
      this.mirror.apply(keyframe ? keyframe.snapshot : steps[0].snapshot);
      this.index = fromKeyframe;
    }
    while (this.index < target) {
      const s = steps[++this.index];
      this.mirror.setTickRate(s.rate);
      this.mirror.apply(s.snapshot);
      onStep(s);
      applied += 1;
    }
    this.lastApplied = applied;
    return this.mirror.tick;
  }

  /** Kills in the `window` ticks up to the one shown, newest first. */
  killFeed(window) {
    const t = this.tick;
    return this.kills.filter((k) => k.tick <= t && k.tick > t - window).reverse().slice(0, 5);
  }
}
