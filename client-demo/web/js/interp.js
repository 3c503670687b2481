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

  /** The two snapshots around the render time `now - delay` and how far between them it is. */
  around(now) {
    const t = now - this.delay;
    const f = this.frames;
    if (f.length === 0) return null;
    let i = f.length - 1;
    while (i > 0 && f[i - 1].time > t) i--;
    const b = f[i];
    const a = i > 0 ? f[i - 1] : b;
    const span = b.time - a.time;
    return { a, b, u: span > 0 ? Math.min(Math.max((t - a.time) / span, 0), 1) : 1 };
  }

  /**
   * Entity states at `now - delay`, positions (world units) interpolated between snapshots.
   * An entity that appears (it came into this player's area of interest) fades in where it is;
   * one that disappears fades out where it was, so neither pops. `alpha` says how far.
   */
  sample(now) {
    const out = new Map();
    const at = this.around(now);
    if (!at) return out;
    const { a, b, u } = at;
    for (const [id, sb] of b.entities) {
      const sa = a.entities.get(id);
      const from = sa || sb;
      out.set(id, { ...sb, alpha: sa || a === b ? 1 : u,
        wx: (from.x + (sb.x - from.x) * u) / POS_SCALE, wy: (from.y + (sb.y - from.y) * u) / POS_SCALE });
    }
    for (const [id, sa] of a.entities) {
      if (!b.entities.has(id)) out.set(id, { ...sa, alpha: 1 - u, wx: sa.x / POS_SCALE, wy: sa.y / POS_SCALE });
    }
    return out;
  }

  /** The server tick shown now (rounded): what each input says it saw, for lag compensation. */
  viewTick(now) {
    const at = this.around(now);
    return at ? Math.round(at.a.tick + (at.b.tick - at.a.tick) * at.u) : 0;
  }

  /** The server's tick now (fractional), extrapolated from the newest snapshot: projectiles
   *  are drawn at the present, since their path is known. */
  presentTick(now, tickRate) {
    const last = this.frames[this.frames.length - 1];
    if (!last) return 0;
    return last.tick + ((now - last.time) * tickRate) / 1000;
  }
}
