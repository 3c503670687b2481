// Tickwire's schema-driven wire (protocol v4) for JavaScript: a game's schema, snapshots decoded
// against the client's baseline, deltas applied with the game's prediction plug-in, and a mirror
// of any game's world. It agrees with Rust's shared::wire byte for byte and value for value
// (checked against fixtures/wire.json). No dependencies, no build step.
//
// Values are unsigned 32-bit words, as in Rust: a Signed field holds an i32's bits (read it with
// `v | 0`), and arithmetic on them wraps (`(a + b) >>> 0`). A frame is an array of
// `{ id, kind, fields }` sorted by id.

/** Malformed bytes, or a snapshot that does not fit the mirror: the caller closes. */
export class WireError extends Error {}

export const ENCODINGS = ["U8", "U16", "U32", "Varint", "Signed", "Entity", "Tick"];
const HINTS = ["Plain", "X", "Y", "Angle", "Owner"];
/** Section bits of a snapshot, in the order the sections follow. */
export const SECTION = { REMOVED: 1, CHANGED: 2, SPAWNED: 4, EVENTS: 8, ALL: 15 };
/** Most fields of a kind (a patch's mask is 32 bits), of an event, of the input. */
export const MAX_KIND_FIELDS = 32;
export const MAX_EVENT_FIELDS = 8;
export const MAX_INPUT_FIELDS = 8;
/** A prediction rule steps at most this many ticks; past it, the base values stand. */
export const MAX_PREDICTED_TICKS = 128;

/** Reads bincode 2 standard values; throws WireError on anything malformed. */
export class Reader {
  constructor(bytes) { this.b = bytes; this.i = 0; }
  remaining() { return this.b.length - this.i; }
  u8() {
    if (this.i >= this.b.length) throw new WireError("the bytes end inside a value");
    return this.b[this.i++];
  }
  u16le() { return this.u8() | (this.u8() << 8); }
  u32le() { return (this.u16le() | (this.u16le() << 16)) >>> 0; }
  /** A varint as a Number (a 64-bit one only when it is below 2^53). */
  varint() {
    const t = this.u8();
    if (t < 251) return t;
    if (t === 251) return this.u16le();
    if (t === 252) return this.u32le();
    if (t === 253) {
      const lo = this.u32le(), hi = this.u32le();
      if (hi >= 1 << 21) throw new WireError("varint past 2^53");
      return hi * 2 ** 32 + lo;
    }
    throw new WireError("varint marker 254 or 255");
  }
  // As bincode: a marker wider than the type is an error; a narrower-than-needed form is read.
  varintU32() {
    if (this.b[this.i] === 253) throw new WireError("varint marker wider than u32");
    const v = this.varint();
    if (v > 0xffffffff) throw new WireError("varint past u32");
    return v;
  }
  varintU16() {
    if (this.b[this.i] === 252 || this.b[this.i] === 253) throw new WireError("varint marker wider than u16");
    const v = this.varint();
    if (v > 0xffff) throw new WireError("varint past u16");
    return v;
  }
  /** A count of things that follow, each at least a byte: more than the bytes left is refused. */
  count() {
    const n = this.varint();
    if (n > this.remaining()) throw new WireError("count larger than the message");
    return n;
  }
  zigzag() { const z = this.varintU32(); return (z >>> 1) ^ -(z & 1); }
  bool() {
    const b = this.u8();
    if (b > 1) throw new WireError("bool not 0 or 1");
    return b === 1;
  }
  str() {
    const n = this.count();
    const bytes = this.b.subarray(this.i, this.i + n);
    this.i += n;
    // ignoreBOM: a leading U+FEFF is part of the string, as in Rust.
    try { return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes); }
    catch { throw new WireError("string not UTF-8"); }
  }
  vec(item) { const n = this.count(); const out = []; for (let k = 0; k < n; k++) out.push(item()); return out; }
  finish() { if (this.remaining() !== 0) throw new WireError("trailing bytes"); }
}

function field(r) {
  const name = r.str();
  const e = r.varintU32();
  if (e >= ENCODINGS.length) throw new WireError(`unknown encoding ${e}`);
  const predicted = r.bool();
  const h = r.varintU32();
  let hint;
  switch (HINTS[h]) {
    case "Plain": case "Owner": hint = HINTS[h]; break;
    case "X": case "Y": hint = { [HINTS[h]]: { scale: r.varintU32() } }; break;
    case "Angle": hint = { Angle: { turn: r.varintU32() } }; break;
    default: throw new WireError(`unknown hint ${h}`);
  }
  return { encoding: ENCODINGS[e], hint, name, predicted };
}

/** Decodes a schema as the Welcome carries it (bincode of Rust's SchemaDef). */
export function decodeSchema(bytes) {
  const r = bytes instanceof Reader ? bytes : new Reader(bytes);
  const game = r.str();
  const components = r.vec(() => ({ name: r.str(), fields: r.vec(() => field(r)) }));
  const kinds = r.vec(() => ({
    name: r.str(),
    components: r.vec(() => r.varintU16()),
    named: r.bool(),
    template: r.vec(() => r.varintU32()),
  }));
  const events = r.vec(() => ({ name: r.str(), fields: r.vec(() => field(r)) }));
  const input = r.vec(() => field(r));
  if (!(bytes instanceof Reader)) r.finish();
  return { game, components, kinds, events, input };
}

/** Cuts a value to what its encoding carries (Rust's `fit`). */
function fit(encoding, v) {
  if (encoding === "U8") return v & 0xff;
  if (encoding === "U16") return v & 0xffff;
  return v >>> 0;
}

/** A checked schema laid out for the codec (Rust's Schema::new); throws WireError naming what is wrong. */
export class Schema {
  constructor(def) {
    this.def = def;
    const unique = (what, names) => {
      const seen = new Set();
      for (const n of names) {
        if (!n || seen.has(n)) throw new WireError(`${what} name ${JSON.stringify(n)} is empty or used twice`);
        seen.add(n);
      }
    };
    for (const [what, n] of [["kinds", def.kinds.length], ["components", def.components.length], ["events", def.events.length]]) {
      if (n > 65536) throw new WireError(`more than 65536 ${what}`);
    }
    unique("component", def.components.map((c) => c.name));
    unique("kind", def.kinds.map((k) => k.name));
    unique("event", def.events.map((e) => e.name));
    for (const c of def.components) {
      unique("component", c.fields.map((f) => f.name));
      const bad = c.fields.find((f) => f.predicted && f.encoding !== "Signed");
      if (bad) throw new WireError(`component field ${bad.name}: a predicted field must be Signed`);
    }
    const plain = (what, fields, ticks) => {
      for (const f of fields) {
        if (f.predicted) throw new WireError(`${what} field ${f.name}: only component fields can be predicted`);
        if (!ticks && f.encoding === "Tick") throw new WireError(`${what} field ${f.name}: an input has no snapshot tick`);
      }
      unique(what, fields.map((f) => f.name));
    };
    this.kinds = def.kinds.map((k) => {
      const slots = [], components = [];
      for (const index of k.components) {
        const c = def.components[index];
        if (!c) throw new WireError(`kind ${k.name} names component ${index}, which does not exist`);
        components.push([index, slots.length]);
        // Checked as it grows: one wide component named many times is refused at once.
        if (slots.length + c.fields.length > MAX_KIND_FIELDS) throw new WireError(`kind ${k.name} has more than ${MAX_KIND_FIELDS} fields`);
        for (const f of c.fields) slots.push({ encoding: f.encoding, predicted: f.predicted, name: f.name, component: c.name });
      }
      if (k.template.length !== slots.length) throw new WireError(`kind ${k.name}: template of ${k.template.length} for ${slots.length} fields`);
      const predicted = slots.flatMap((s, i) => (s.predicted ? [i] : []));
      return {
        name: k.name, slots, components, named: k.named, predicted,
        template: k.template.map((v, i) => fit(slots[i].encoding, v)),
      };
    });
    this.events = def.events.map((e) => {
      if (e.fields.length > MAX_EVENT_FIELDS) throw new WireError(`event ${e.name} has too many fields`);
      plain("event", e.fields, true);
      return e.fields.map((f) => f.encoding);
    });
    if (def.input.length > MAX_INPUT_FIELDS) throw new WireError("input has too many fields");
    plain("input", def.input, false);
    this.input = def.input.map((f) => f.encoding);
  }
  kindIndex(name) { return this.def.kinds.findIndex((k) => k.name === name); }
  eventIndex(name) { return this.def.events.findIndex((e) => e.name === name); }
}

/** The position of entity `id` in a frame, or -1. */
export function findEntity(frame, id) {
  let lo = 0, hi = frame.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (frame[mid].id < id) lo = mid + 1; else hi = mid;
  }
  return lo < frame.length && frame[lo].id === id ? lo : -1;
}

function readValue(r, encoding) {
  switch (encoding) {
    case "U8": return r.u8();
    case "U16": return r.u16le();
    case "U32": return r.u32le();
    case "Signed": return r.zigzag() >>> 0;
    default: return r.varintU32();
  }
}

function readPatch(r, slots, values) {
  const mask = r.varintU32();
  if (slots.length < 32 && mask >>> slots.length !== 0) throw new WireError("snapshot: mask names a field the kind lacks");
  for (let i = 0; i < slots.length; i++) if (mask & (1 << i)) values.push(readValue(r, slots[i].encoding));
  return mask >>> 0;
}

function ungap(r, prev) {
  const g = r.varintU32();
  if (prev === null) return g;
  const v = prev + g + 1;
  if (v > 0xffffffff) throw new WireError("snapshot: index or id past u32");
  return v;
}

function sectionCount(r, what) {
  const n = r.count();
  if (n === 0) throw new WireError(what);
  return n;
}

/**
 * Decodes a snapshot's bytes (after the message's variant) against `base`, the frame of tick
 * `baseTick` (ignored for a full snapshot): its kinds lay out the changed entities.
 */
export function decodeSnapshot(schema, bytes, base, baseTick) {
  const r = new Reader(bytes);
  const first = r.varintU32();
  let snapBase, tick;
  if (first === 0) { tick = r.varintU32(); snapBase = { Full: { tick } }; }
  else { snapBase = { Since: { ticks: first } }; tick = (baseTick + first) >>> 0; }
  if (snapBase.Full) base = [];
  const sections = r.u8();
  if (sections & ~SECTION.ALL) throw new WireError("snapshot: unknown section bit");
  const delta = { removed: [], changed: [], spawned: [], values: [] };
  if (sections & SECTION.REMOVED) {
    const n = sectionCount(r, "snapshot: empty removed section");
    let prev = null;
    for (let k = 0; k < n; k++) { prev = ungap(r, prev); delta.removed.push(prev); }
  }
  if (sections & SECTION.CHANGED) {
    const n = sectionCount(r, "snapshot: empty changed bitmap");
    const bitmap = [];
    for (let k = 0; k < n; k++) bitmap.push(r.u8());
    if (bitmap[bitmap.length - 1] === 0) throw new WireError("snapshot: changed bitmap ends in zeros");
    bitmap.forEach((byte, at) => {
      for (let b = 0; b < 8; b++) {
        if (!(byte & (1 << b))) continue;
        const index = at * 8 + b;
        if (index >= base.length) throw new WireError("snapshot: changed index past the baseline");
        const layout = schema.kinds[base[index].kind];
        if (!layout) throw new WireError("snapshot: baseline entity of no kind");
        const mask = readPatch(r, layout.slots, delta.values);
        if (mask === 0) throw new WireError("snapshot: changed entity with no field");
        delta.changed.push({ index, mask });
      }
    });
  }
  if (sections & SECTION.SPAWNED) {
    const n = sectionCount(r, "snapshot: empty spawned section");
    let prev = null;
    for (let k = 0; k < n; k++) {
      const id = (prev = ungap(r, prev));
      const kind = r.varintU16();
      const layout = schema.kinds[kind];
      if (!layout) throw new WireError("snapshot: spawn of an unknown kind");
      const name = layout.named ? r.str() : "";
      const mask = readPatch(r, layout.slots, delta.values);
      delta.spawned.push({ id, kind, name, mask });
    }
  }
  const events = [];
  if (sections & SECTION.EVENTS) {
    const n = sectionCount(r, "snapshot: empty events section");
    for (let k = 0; k < n; k++) {
      const kind = r.varintU16();
      const encodings = schema.events[kind];
      if (!encodings) throw new WireError("snapshot: event of an unknown kind");
      const fields = new Array(MAX_EVENT_FIELDS).fill(0);
      encodings.forEach((e, i) => {
        const v = readValue(r, e);
        fields[i] = e === "Tick" ? (tick - v) >>> 0 : v;
      });
      events.push({ kind, fields });
    }
  }
  const ack = r.varintU32();
  r.finish();
  return { base: snapBase, delta, events, ack };
}

/**
 * Applies a decoded delta to `base` as a client predicting with `predictor` at `step`
 * (`{ tickRate, ticks, tick }`), giving the new frame. `predictor` may have
 * `moved(step, kind, base, next)` and `origin(step, kind, spawned, survivors)`, which overwrite
 * the predicted fields of `next` / `spawned` (arrays of u32 words). Throws WireError when the
 * delta does not fit the baseline.
 */
export function applyDelta(schema, base, delta, step, predictor = {}) {
  let vi = 0;
  const take = () => {
    if (vi >= delta.values.length) throw new WireError("delta patches need more values than it has");
    return delta.values[vi++];
  };
  // Writes present non-predicted fields into `state`; returns the corrections (or null).
  const patch = (layout, mask, state) => {
    let corrections = null;
    layout.slots.forEach((slot, i) => {
      if (!(mask & (1 << i))) return;
      const v = take();
      if (slot.predicted) (corrections ??= new Array(layout.slots.length).fill(0))[i] = v;
      else state[i] = slot.encoding === "Tick" ? (step.tick - v) >>> 0 : v;
    });
    return corrections;
  };
  const place = (layout, corrections, state) => {
    if (corrections) for (const i of layout.predicted) state[i] = (state[i] + corrections[i]) >>> 0;
  };
  const removed = new Set();
  let lastRemoved = -1;
  for (const i of delta.removed) {
    if (i <= lastRemoved || i >= base.length) throw new WireError(`delta names baseline index ${i}, which it cannot`);
    removed.add(i); lastRemoved = i;
  }
  let ci = 0, lastChanged = -1;
  const survivors = [];
  base.forEach((e, i) => {
    const c = delta.changed[ci];
    const hasPatch = c !== undefined && c.index === i;
    if (removed.has(i)) {
      if (hasPatch) throw new WireError(`delta names baseline index ${i}, which it cannot`);
      return;
    }
    const layout = schema.kinds[e.kind];
    if (!layout) throw new WireError(`delta names kind ${e.kind}`);
    const state = e.fields.slice();
    let corrections = null;
    if (hasPatch) {
      if (layout.slots.length < 32 && c.mask >>> layout.slots.length !== 0) throw new WireError(`delta names a field kind ${e.kind} lacks`);
      corrections = patch(layout, c.mask, state);
      lastChanged = i; ci++;
    }
    if (layout.predicted.length) {
      // The rule works on a copy and only its predicted fields are kept, as the server's diff
      // reads them: a rule that writes anything else cannot change what the client holds.
      const p = state.slice();
      predictor.moved?.(step, e.kind, e.fields, p);
      for (const k of layout.predicted) state[k] = p[k] >>> 0;
      place(layout, corrections, state);
    }
    survivors.push({ id: e.id, kind: e.kind, fields: state });
  });
  if (ci < delta.changed.length) throw new WireError(`delta names baseline index ${delta.changed[ci].index}, which it cannot`);
  if (!delta.spawned.length) return survivors;
  const spawned = [];
  for (const s of delta.spawned) {
    if ((spawned.length && spawned[spawned.length - 1].id >= s.id) || findEntity(survivors, s.id) >= 0) {
      throw new WireError(`delta spawns entity ${s.id} twice or out of order`);
    }
    const layout = schema.kinds[s.kind];
    if (!layout) throw new WireError(`delta names kind ${s.kind}`);
    if (layout.slots.length < 32 && s.mask >>> layout.slots.length !== 0) throw new WireError(`delta names a field kind ${s.kind} lacks`);
    const state = layout.slots.map((slot, i) => (slot.encoding === "Tick" ? step.tick : layout.template[i]));
    const corrections = patch(layout, s.mask, state);
    if (layout.predicted.length) {
      const p = state.slice();
      predictor.origin?.(step, s.kind, p, survivors);
      for (const k of layout.predicted) state[k] = p[k] >>> 0;
      place(layout, corrections, state);
    }
    spawned.push({ id: s.id, kind: s.kind, fields: state });
  }
  return [...survivors, ...spawned].sort((a, b) => a.id - b.id);
}

/** The world as of the last snapshot, for any game: it needs only the schema (and, for a game that predicts, its rule). */
export class WireMirror {
  constructor(schema, predictor = {}, tickRate = 30) {
    this.schema = schema;
    this.predictor = predictor;
    this.tickRate = tickRate;
    this.tick = 0;
    this.frame = [];
    this.names = new Map();
    this.ackInputSeq = 0;
  }
  setTickRate(rate) { this.tickRate = rate; }
  /** Applies one snapshot's bytes; returns its events (`{ kind, fields }`, ticks absolute). */
  apply(bytes) {
    const snap = decodeSnapshot(this.schema, bytes, this.frame, this.tick);
    let base, tick, ticks;
    if (snap.base.Full) { base = []; tick = snap.base.Full.tick; ticks = 0; }
    else {
      if (this.tick === 0) throw new WireError("a delta before any full snapshot");
      ticks = snap.base.Since.ticks;
      tick = this.tick + ticks;
      if (tick > 0xffffffff) throw new WireError("snapshot tick past u32");
      base = this.frame;
    }
    const next = applyDelta(this.schema, base, snap.delta, { tickRate: this.tickRate, ticks, tick }, this.predictor);
    if (snap.base.Full) { this.names.clear(); this.ackInputSeq = snap.ack; }
    else {
      // By the baseline's ids, before the spawns: an entity removed and spawned again in one
      // delta (its kind changed) keeps only the name it spawns with.
      for (const i of snap.delta.removed) if (base[i]) this.names.delete(base[i].id);
      this.ackInputSeq = (this.ackInputSeq + snap.ack) >>> 0;
    }
    for (const s of snap.delta.spawned) if (s.name) this.names.set(s.id, s.name);
    this.frame = next;
    this.tick = tick;
    return snap.events;
  }
  entity(id) { const i = findEntity(this.frame, id); return i < 0 ? null : this.frame[i]; }
  /** Component `name` of entity `id` as `{ field: value }` (Signed fields signed), or null. */
  component(id, name) {
    const e = this.entity(id);
    if (!e) return null;
    const layout = this.schema.kinds[e.kind];
    const c = this.schema.def.components.findIndex((c) => c.name === name);
    const at = layout.components.find(([index]) => index === c);
    if (!at) return null;
    const out = {};
    this.schema.def.components[c].fields.forEach((f, i) => {
      const v = e.fields[at[1] + i];
      out[f.name] = f.encoding === "Signed" ? v | 0 : v;
    });
    return out;
  }
  name(id) { return this.names.get(id); }
}

/** Protocol v4's version number and WebSocket subprotocol. */
export const PROTOCOL_VERSION = 4;
export const SUBPROTOCOL = "tickwire.v4";
const END_REASONS = ["Empty", "Admin", "Shutdown", "Error", "Game"];

/** Writes bincode 2 standard values. */
class Writer {
  constructor() { this.bytes = []; }
  u8(v) { this.bytes.push(v & 0xff); }
  varint(v) {
    if (v < 251) this.u8(v);
    else if (v <= 0xffff) { this.u8(251); this.u8(v); this.u8(v >>> 8); }
    else if (v <= 0xffffffff) { this.u8(252); for (let k = 0; k < 4; k++) this.u8(v >>> (8 * k)); }
    else {
      this.u8(253);
      const lo = v % 2 ** 32, hi = Math.floor(v / 2 ** 32);
      for (let k = 0; k < 4; k++) this.u8(lo >>> (8 * k));
      for (let k = 0; k < 4; k++) this.u8(hi >>> (8 * k));
    }
  }
  value(encoding, v) {
    switch (encoding) {
      case "U8": this.u8(v); break;
      case "U16": this.u8(v); this.u8(v >>> 8); break;
      case "U32": for (let k = 0; k < 4; k++) this.u8(v >>> (8 * k)); break;
      case "Signed": { const i = v | 0; this.varint(((i << 1) ^ (i >> 31)) >>> 0); break; }
      default: this.varint(v >>> 0);
    }
  }
  done() { return Uint8Array.from(this.bytes); }
}

/**
 * Encodes a client message: `{ Input: { seq, view_tick, fields } }` (fields in the schema's
 * input order) or `{ Ping: { client_time } }`.
 */
export function encodeClient(schema, msg) {
  const w = new Writer();
  if (schema.input.length > MAX_INPUT_FIELDS) throw new WireError("input layout over 8 fields");
  if (msg.Input) {
    w.varint(0);
    w.varint(msg.Input.seq >>> 0);
    w.varint(msg.Input.view_tick >>> 0);
    schema.input.forEach((e, i) => w.value(e, msg.Input.fields[i] ?? 0));
  } else if (msg.Ping) {
    const t = msg.Ping.client_time;
    // It comes back in a Pong, which must decode as a Number.
    if (!Number.isSafeInteger(t) || t < 0) throw new WireError("client_time must be an integer in 0..2^53");
    w.varint(1);
    w.varint(t);
  } else throw new WireError("not a client message");
  return w.done();
}

/**
 * Decodes a server message: `{ Welcome }` (with its `schema` decoded and `setup` as JSON text),
 * `{ Snapshot: payload }` (bytes for `WireMirror.apply`), `{ Pong }`, `{ MatchEnded }` (the
 * game's `results` as JSON text) or `{ MatchSettings }`. Throws WireError on anything malformed.
 */
export function decodeServer(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new WireError("decodeServer takes a Uint8Array (wrap an ArrayBuffer in one)");
  if (bytes.length > 4 * 1024 * 1024) throw new WireError("server message over 4 MiB");
  const r = new Reader(bytes);
  const variant = r.varintU32();
  let msg;
  switch (variant) {
    case 0:
      msg = { Welcome: {
        protocol_version: r.varintU16(), match_id: r.str(), player_id: r.str(), entity: r.varintU32(),
        tick_rate: r.varintU16(), snapshot_interval: r.varintU16(), tick: r.varintU32(),
        interest_radius: r.varintU32(), schema: decodeSchema(r), setup: r.str(),
      } };
      break;
    case 1: return { Snapshot: bytes.subarray(r.i) };
    case 2: msg = { Pong: { client_time: r.varint(), server_tick: r.varintU32() } }; break;
    case 3: {
      const v = r.varintU32();
      if (v >= END_REASONS.length) throw new WireError(`unknown end reason ${v}`);
      const reason = v === 4 ? { Game: r.str() } : END_REASONS[v];
      msg = { MatchEnded: { reason, tick: r.varintU32(), results: r.str() } };
      break;
    }
    case 4: msg = { MatchSettings: { tick: r.varintU32(), tick_rate: r.varintU16(), snapshot_interval: r.varintU16() } }; break;
    default: throw new WireError(`unknown server message ${variant}`);
  }
  r.finish();
  return msg;
}
