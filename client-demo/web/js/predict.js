// Client-side prediction of the player's own movement with the shared rule, reconciled on every
// snapshot against the server's last applied input; mispredictions are smoothed, not snapped,
// unless large.
import { movePlayer, SIM_SCALE } from "./rules.js";

/** Errors larger than this (world units) snap instead of being smoothed. */
export const SNAP_UNITS = 48;
/** Time constant of the smoothing, seconds. */
const SMOOTHING = 0.1;

export class Predictor {
  constructor(arena, tickRate) {
    this.arena = arena;
    this.rate = tickRate;
    this.pending = [];       // inputs sent but not yet applied (replayed at the current rate: the
                             // server applies each at the rate current when it runs it)
    this.pos = null;         // predicted position, sim units
    this.alive = true;
    this.offset = [0, 0];    // visual correction still to absorb, world units
    this.lastError = 0;      // size of the last correction, world units
  }

  setTickRate(rate) { this.rate = rate; }

  /** One input sent this tick: predict its step right away. */
  applyInput(input) {
    this.pending.push(input);
    if (this.pending.length > 256) this.pending.shift();
    if (this.pos && this.alive) this.pos = movePlayer(this.arena, this.pos[0], this.pos[1], input.buttons, this.rate);
  }

  /** A snapshot gave the server's state of our entity and the last input it applied. */
  reconcile(state, ackSeq) {
    this.pending = this.pending.filter((p) => p.seq > ackSeq);
    this.alive = (state.flags & 1) !== 0;
    // The wire carries the server's own fixed point: replay from it exactly.
    let pos = [state.x, state.y];
    if (this.alive) {
      for (const p of this.pending) pos = movePlayer(this.arena, pos[0], pos[1], p.buttons, this.rate);
    }
    if (this.pos) {
      const ex = (this.pos[0] - pos[0]) / SIM_SCALE;
      const ey = (this.pos[1] - pos[1]) / SIM_SCALE;
      this.lastError = Math.hypot(ex, ey);
      if (this.lastError > SNAP_UNITS || !this.alive) this.offset = [0, 0];
      else this.offset = [this.offset[0] + ex, this.offset[1] + ey];
    }
    this.pos = pos;
  }

  /** Where to draw the player (world units), `dt` seconds after the last frame. */
  renderPos(dt) {
    if (!this.pos) return null;
    const k = Math.exp(-dt / SMOOTHING);
    this.offset = [this.offset[0] * k, this.offset[1] * k];
    return [this.pos[0] / SIM_SCALE + this.offset[0], this.pos[1] / SIM_SCALE + this.offset[1]];
  }
}
