// The client's copy of the world, kept by applying snapshot deltas in order with the same
// prediction the server encoded them against (docs/protocol.md §5; shared::predict, shared::delta).
import { movePlayer, BUTTONS, SIM_SCALE } from "./rules.js";

const MOVE = BUTTONS.UP | BUTTONS.DOWN | BUTTONS.LEFT | BUTTONS.RIGHT;
const ALIVE = 1;
const MAX_HP = 100;
/** Longest gap between snapshots that is predicted tick by tick (shared::predict). */
export const MAX_PREDICTED_TICKS = 128;

/** Where an entity that was at `base` is after `ticks`, given its new fields `next`. */
function moved(arena, rate, ticks, base, next) {
  const inside = (v, side) => v >= 0 && v <= side * SIM_SCALE;
  const moves = next.kind === "Player" && (base.flags & ALIVE) !== 0 && (next.buttons & MOVE) !== 0
    && ticks >= 1 && ticks <= MAX_PREDICTED_TICKS && inside(base.x, arena.width) && inside(base.y, arena.height);
  let pos = [base.x, base.y];
  if (moves) for (let k = 0; k < ticks; k++) pos = movePlayer(arena, pos[0], pos[1], next.buttons, rate);
  return pos;
}

/** The state a spawned entity of `kind` starts from before its patch. */
function template(kind, tick) {
  const s = { kind, x: 0, y: 0, aim: 0, buttons: 0, hp: 0, flags: 0, score: 0, deaths: 0, owner: 0, tick: 0 };
  if (kind === "Player") { s.hp = MAX_HP; s.flags = ALIVE; } else s.tick = tick;
  return s;
}

/** The patch's fields but the position, in a snapshot of tick `at` (`age` is `at - tick`). */
function applyFields(patch, s, at) {
  if (patch.aim_hi !== null) s.aim = (patch.aim_hi << 8) | (s.aim & 0xff);
  if (patch.aim_lo !== null) s.aim = (s.aim & 0xff00) | patch.aim_lo;
  for (const k of ["buttons", "kind", "owner", "hp", "flags", "score", "deaths"]) {
    if (patch[k] !== null) s[k] = patch[k];
  }
  if (patch.age !== null) s.tick = (at - patch.age) >>> 0;
}

/** Prediction plus correction, wrapping like i32. */
function place(patch, s, [px, py]) {
  s.x = (px + (patch ? patch.dx ?? 0 : 0)) | 0;
  s.y = (py + (patch ? patch.dy ?? 0 : 0)) | 0;
}

export class Mirror {
  constructor() {
    this.arena = null; this.rate = 30; this.tick = 0;
    this.entities = new Map(); this.names = new Map(); this.ackInputSeq = 0;
  }

  /** The match's map and tick rate, from Welcome. */
  setMatch(arena, tickRate) { this.arena = arena; this.rate = tickRate; }

  /** The tick rate changed (MatchSettings arrive before the snapshots they apply to). */
  setTickRate(rate) { this.rate = rate; }

  /** Applies one Snapshot message body and returns its tick; throws when the delta does not
   *  fit the mirror. */
  apply(snap) {
    if (!this.arena) throw new Error("snapshot before Welcome");
    let base, tick, ticks;
    if (snap.base.Full) { base = []; tick = snap.base.Full.tick; ticks = 0; }
    else if (this.tick !== 0) {
      base = [...this.entities.entries()]; ticks = snap.base.Since.ticks; tick = this.tick + ticks;
      if (tick > 0xffffffff) throw new Error("snapshot tick past u32");
    } else throw new Error("a delta before any full snapshot");
    const { removed, changed, spawned } = snap.delta;
    // Removed and changed name baseline indices: increasing, in range, never both.
    let last = -1;
    for (const i of [...removed, ...changed.map((c) => c.index)].sort((a, b) => a - b)) {
      if (i >= base.length || i <= last) throw new Error(`delta names baseline index ${i}, which it cannot`);
      last = i;
    }
    const gone = new Set(removed);
    const patches = new Map(changed.map((c) => [c.index, c.patch]));
    const next = new Map();
    base.forEach(([id, bs], i) => {
      if (gone.has(i)) return;
      const s = { ...bs };
      const patch = patches.get(i);
      if (patch) applyFields(patch, s, tick);
      place(patch, s, moved(this.arena, this.rate, ticks, bs, s));
      next.set(id, s);
    });
    let prev = -1;
    for (const sp of spawned) {
      if (sp.id <= prev || next.has(sp.id)) throw new Error(`delta spawns entity ${sp.id} twice or out of order`);
      prev = sp.id;
    }
    const survivors = new Map(next);
    for (const sp of spawned) {
      const s = template(sp.patch.kind ?? "Player", tick);
      applyFields(sp.patch, s, tick);
      const owner = s.kind === "Projectile" ? survivors.get(s.owner) : undefined;
      place(sp.patch, s, owner ? [owner.x, owner.y] : [0, 0]);
      next.set(sp.id, s);
    }
    if (snap.base.Full) { this.names.clear(); this.ackInputSeq = snap.ack; }
    else {
      for (const id of this.names.keys()) if (!next.has(id)) this.names.delete(id);
      this.ackInputSeq = (this.ackInputSeq + snap.ack) >>> 0;
    }
    for (const s of spawned) if (s.name) this.names.set(s.id, s.name);
    this.entities = new Map([...next.entries()].sort((a, b) => a[0] - b[0]));
    this.tick = tick;
    return tick;
  }

  /** [id, state] pairs sorted by id, as the server's snapshot lists them. */
  sorted() { return [...this.entities.entries()].sort((a, b) => a[0] - b[0]); }
}
