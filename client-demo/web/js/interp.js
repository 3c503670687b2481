// Interpolation of everyone else: a buffer of snapshots rendered about 100 ms in the past
// (at least two snapshot intervals, so it adapts when the operator changes the tick rate).
import { POS_SCALE } from "./rules.js";

export class Interpolator {
  constructor(delayMs = 100) {
    this.baseDelay = delayMs;
    this.delay = delayMs;
    this.frames = []; // {time, tick, entities: Map(id -> state)}
  }

  /** Snapshot interval changed: keep at least two intervals of buffer. */
  setTiming(tickRate, snapshotInterval) {
    this.delay = Math.max(this.baseDelay, (2 * 1000 * snapshotInterval) / tickRate);
  }

  push(time, tick, entities) {
    this.frames.push({ time, tick, entities: new Map(entities) });
    while (this.frames.length > 2 && this.frames[1].time < time - 1000) this.frames.shift();
  }

  /** Entity states at `now - delay`, positions (world units) interpolated between snapshots. */
  sample(now) {
    const t = now - this.delay;
    const f = this.frames;
    if (f.length === 0) return new Map();
    let i = f.length - 1;
    while (i > 0 && f[i - 1].time > t) i--;
    const b = f[i];
    const a = i > 0 ? f[i - 1] : b;
    const span = b.time - a.time;
    const u = span > 0 ? Math.min(Math.max((t - a.time) / span, 0), 1) : 1;
    const out = new Map();
    for (const [id, sb] of b.entities) {
      const sa = a.entities.get(id) || sb;
      out.set(id, { ...sb, wx: (sa.x + (sb.x - sa.x) * u) / POS_SCALE, wy: (sa.y + (sb.y - sa.y) * u) / POS_SCALE });
    }
    return out;
  }

  /** The server's tick now (fractional), extrapolated from the newest snapshot: projectiles
   *  are drawn at the present, since their path is known. */
  presentTick(now, tickRate) {
    const last = this.frames[this.frames.length - 1];
    if (!last) return 0;
    return last.tick + ((now - last.time) * tickRate) / 1000;
  }
}
