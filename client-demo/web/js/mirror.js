// The client's copy of the world, kept by applying snapshot deltas in order (docs/protocol.md §5).

export class Mirror {
  constructor() { this.tick = 0; this.entities = new Map(); this.names = new Map(); this.ackInputSeq = 0; }

  /** Applies one Snapshot message body; throws when the delta does not fit the mirror. */
  apply(snap) {
    let base;
    if (snap.baseline === 0) base = new Map();
    else if (snap.baseline === this.tick && this.tick !== 0) base = new Map(this.entities);
    else throw new Error(`delta against tick ${snap.baseline}, mirror is at ${this.tick}`);
    for (const id of snap.delta.removed) {
      if (!base.delete(id)) throw new Error(`removed entity ${id} is unknown`);
    }
    for (const { id, patch } of snap.delta.changed) {
      const state = base.get(id);
      if (!state) throw new Error(`changed entity ${id} is unknown`);
      const next = { ...state };
      for (const [k, v] of Object.entries(patch)) if (v !== null) next[k] = v;
      base.set(id, next);
    }
    for (const { id, state, name } of snap.delta.spawned) {
      if (base.has(id)) throw new Error(`entity ${id} spawned twice`);
      base.set(id, { ...state });
    }
    if (snap.baseline === 0) this.names.clear();
    for (const id of snap.delta.removed) this.names.delete(id);
    for (const s of snap.delta.spawned) if (s.name) this.names.set(s.id, s.name);
    this.entities = base;
    this.tick = snap.tick;
    this.ackInputSeq = snap.ack_input_seq;
  }

  /** [id, state] pairs sorted by id, as the server's snapshot lists them. */
  sorted() { return [...this.entities.entries()].sort((a, b) => a[0] - b[0]); }
}
