// Tickwire wire codec for the browser: bincode 2 "standard" encoding of the messages in
// docs/protocol.md. Must agree with shared::codec byte for byte (checked against fixtures/).

/** Malformed bytes: the caller closes the connection. */
export class DecodeError extends Error {}

const MAX_U64 = (1n << 64n) - 1n;

/** Reads bincode 2 values from a Uint8Array; throws DecodeError on anything malformed. */
export class Reader {
  constructor(bytes) { this.b = bytes; this.i = 0; }
  u8() {
    if (this.i >= this.b.length) throw new DecodeError("unexpected end of message");
    return this.b[this.i++];
  }
  le(n) {
    let v = 0n;
    for (let k = 0; k < n; k++) v |= BigInt(this.u8()) << BigInt(8 * k);
    return v;
  }
  /** An unsigned varint of at most `maxBytes` bytes (2, 4 or 8), as a BigInt. */
  varint(maxBytes) {
    const t = this.u8();
    if (t < 251) return BigInt(t);
    const width = { 251: 2, 252: 4, 253: 8 }[t];
    if (!width || width > maxBytes) throw new DecodeError(`bad varint tag ${t}`);
    return this.le(width);
  }
  u16() { return Number(this.varint(2)); }
  u32() { return Number(this.varint(4)); }
  /** A u64 as a Number when it is exactly representable, else a BigInt. */
  u64() {
    const v = this.varint(8);
    if (v > MAX_U64) throw new DecodeError("u64 out of range");
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  i32() {
    const z = Number(this.varint(4));
    return (z >>> 1) ^ -(z & 1);
  }
  /** A collection length; each element takes at least one byte, so longer is malformed. */
  len() {
    const n = this.varint(8);
    if (n > BigInt(this.b.length - this.i)) throw new DecodeError("length exceeds the message");
    return Number(n);
  }
  string() {
    const n = this.len();
    const bytes = this.b.subarray(this.i, this.i + n);
    this.i += n;
    try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes); }
    catch { throw new DecodeError("invalid UTF-8"); }
  }
  vec(item) { const n = this.len(); const out = []; for (let k = 0; k < n; k++) out.push(item()); return out; }
  variant(names) {
    const v = this.u32();
    if (v >= names.length) throw new DecodeError(`unknown variant ${v}`);
    return names[v];
  }
  end() { if (this.i !== this.b.length) throw new DecodeError(`${this.b.length - this.i} trailing bytes`); }
}

/** Writes bincode 2 values. */
export class Writer {
  constructor() { this.out = []; }
  u8(v) { this.out.push(v & 0xff); }
  le(v, n) { let x = BigInt(v); for (let k = 0; k < n; k++) { this.out.push(Number(x & 0xffn)); x >>= 8n; } }
  varint(v) {
    const x = BigInt(v);
    if (x < 251n) this.u8(Number(x));
    else if (x < 1n << 16n) { this.u8(251); this.le(x, 2); }
    else if (x < 1n << 32n) { this.u8(252); this.le(x, 4); }
    else { this.u8(253); this.le(x, 8); }
  }
  bytes() { return Uint8Array.from(this.out); }
}

const KINDS = ["Player", "Projectile"];
const END_REASONS = ["ScoreLimit", "TimeLimit", "Empty", "Admin", "Shutdown", "Error"];
// Entity patch fields in mask-bit order (shared::entity::bit).
const PATCH_FIELDS = [["aim_hi", "u8"], ["buttons", "u8"], ["aim_lo", "u8"], ["kind", "kind"],
  ["owner", "u32"], ["age", "u32"], ["hp", "u8"], ["flags", "u8"], ["dx", "i32"], ["dy", "i32"],
  ["score", "u16"], ["deaths", "u16"]];
/** Bits of a snapshot's section byte. */
export const SECTION = { REMOVED: 1, CHANGED: 2, SPAWNED: 4, EVENTS: 8 };

/** A patch; `mask` 0 is allowed only where `allowEmpty` (a spawn equal to its template). */
function entityPatch(r, allowEmpty) {
  const mask = r.u16();
  if (mask >= 1 << PATCH_FIELDS.length) throw new DecodeError("entity patch: unknown field bit");
  if (mask === 0 && !allowEmpty) throw new DecodeError("snapshot: changed entity with no field");
  const patch = {};
  PATCH_FIELDS.forEach(([name, type], bit) => {
    patch[name] = mask & (1 << bit) ? (type === "kind" ? r.variant(KINDS) : r[type]()) : null;
  });
  return patch;
}

/** A section's element count: present sections are never empty. */
function count(r, what) {
  const n = r.len();
  if (n === 0) throw new DecodeError(what);
  return n;
}

/** The next value of a gap-coded increasing list (the first as is, then `v - prev - 1`). */
function ungap(r, prev) {
  const g = r.u32();
  if (prev === null) return g;
  const v = prev + g + 1;
  if (v > 0xffffffff) throw new DecodeError("snapshot: index or id past u32");
  return v;
}

function arena(r) {
  return { width: r.i32(), height: r.i32(),
    walls: r.vec(() => ({ x: r.i32(), y: r.i32(), w: r.i32(), h: r.i32() })),
    spawns: r.vec(() => ({ x: r.i32(), y: r.i32() })) };
}

function snapshot(r) {
  const since = r.u32();
  const base = since === 0 ? { Full: { tick: r.u32() } } : { Since: { ticks: since } };
  const sections = r.u8();
  if (sections & ~15) throw new DecodeError("snapshot: unknown section bit");
  const delta = { removed: [], changed: [], spawned: [] };
  if (sections & SECTION.REMOVED) {
    const n = count(r, "snapshot: empty removed section");
    let prev = null;
    for (let k = 0; k < n; k++) delta.removed.push(prev = ungap(r, prev));
  }
  if (sections & SECTION.CHANGED) {
    const n = count(r, "snapshot: empty changed bitmap");
    const bitmap = [];
    for (let k = 0; k < n; k++) bitmap.push(r.u8());
    if (bitmap[n - 1] === 0) throw new DecodeError("snapshot: changed bitmap ends in zeros");
    bitmap.forEach((byte, at) => {
      for (let b = 0; b < 8; b++) {
        if (byte & (1 << b)) delta.changed.push({ index: at * 8 + b, patch: entityPatch(r, false) });
      }
    });
  }
  if (sections & SECTION.SPAWNED) {
    const n = count(r, "snapshot: empty spawned section");
    let prev = null;
    for (let k = 0; k < n; k++) {
      const id = prev = ungap(r, prev);
      delta.spawned.push({ id, name: r.string(), patch: entityPatch(r, true) });
    }
  }
  let events = [];
  if (sections & SECTION.EVENTS) {
    events = r.vec(() => {
      switch (r.variant(["Kill", "Hit", "Rail"])) {
        case "Kill": return { Kill: { tick: r.u32(), killer: r.u32(), victim: r.u32() } };
        case "Hit": return { Hit: { tick: r.u32(), shooter: r.u32(), victim: r.u32(), damage: r.u8(), weapon: r.variant(["Gun", "Rail"]) } };
        default: return { Rail: { tick: r.u32(), shooter: r.u32(), aim: r.u16(), length: r.u16() } };
      }
    });
    if (events.length === 0) throw new DecodeError("snapshot: empty events section");
  }
  return { base, delta, events, ack: r.u32() };
}

/** Decodes one server message (a binary frame) into the shape docs/protocol.md gives. */
export function decodeServer(bytes) {
  const r = new Reader(bytes);
  let msg;
  switch (r.variant(["Welcome", "Snapshot", "Pong", "MatchEnded", "MatchSettings"])) {
    case "Welcome":
      msg = { Welcome: { protocol_version: r.u16(), match_id: r.string(), player_id: r.string(), entity: r.u32(),
        tick_rate: r.u16(), snapshot_interval: r.u16(), tick: r.u32(), score_limit: r.u16(),
        time_limit_secs: r.u32(), interest_radius: r.u32(), arena: arena(r) } };
      break;
    case "Snapshot": msg = { Snapshot: snapshot(r) }; break;
    case "Pong": msg = { Pong: { client_time: r.u64(), server_tick: r.u32() } }; break;
    case "MatchEnded":
      msg = { MatchEnded: { reason: r.variant(END_REASONS), tick: r.u32(),
        results: r.vec(() => ({ entity: r.u32(), name: r.string(), score: r.u16(), deaths: r.u16() })) } };
      break;
    case "MatchSettings": msg = { MatchSettings: { tick: r.u32(), tick_rate: r.u16(), snapshot_interval: r.u16() } }; break;
  }
  r.end();
  return msg;
}

/** Decodes a client message (for tests and tools). */
export function decodeClient(bytes) {
  const r = new Reader(bytes);
  const msg = r.variant(["Input", "Ping"]) === "Input"
    ? { Input: { seq: r.u32(), buttons: r.u8(), aim: r.u16(), view_tick: r.u32() } }
    : { Ping: { client_time: r.u64() } };
  r.end();
  return msg;
}

/** Encodes a client message: `{Input: {seq, buttons, aim, view_tick}}` or `{Ping: {client_time}}`. */
export function encodeClient(msg) {
  const w = new Writer();
  if (msg.Input) {
    w.varint(0); w.varint(msg.Input.seq); w.u8(msg.Input.buttons); w.varint(msg.Input.aim);
    w.varint(msg.Input.view_tick ?? 0);
  } else if (msg.Ping) {
    w.varint(1); w.varint(msg.Ping.client_time);
  } else {
    throw new Error("unknown client message");
  }
  return w.bytes();
}
