// The schema-driven wire (sdk/wire.js) agrees with Rust's shared::wire value for value:
// fixtures/wire.json is written by `cargo test -p server --test it fixtures` from a real arena
// match (the schema's bytes, then every snapshot with the world, names and events after it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Schema, WireError, WireMirror, applyDelta, decodeSchema, decodeServer, decodeSnapshot, encodeClient } from "../sdk/wire.js";
import { arenaPrediction } from "../js/arena-rule.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/wire.json", import.meta.url)));
const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

test("the schema's bytes decode to what the server registered", () => {
  assert.deepEqual(decodeSchema(fromHex(fixture.schema_hex)), fixture.schema);
  const schema = new Schema(fixture.schema);
  assert.equal(schema.kindIndex("shot"), 1);
  assert.deepEqual(schema.kinds[0].predicted, [2, 3]);
});

test("a mirror that knows the game only by its schema and rule holds the server's world after every snapshot", () => {
  const schema = new Schema(decodeSchema(fromHex(fixture.schema_hex)));
  const mirror = new WireMirror(schema, arenaPrediction(fixture.arena), fixture.tick_rate);
  let sawEvents = 0;
  for (const snap of fixture.snapshots) {
    const events = mirror.apply(fromHex(snap.hex));
    assert.equal(mirror.tick, snap.tick);
    assert.deepEqual(mirror.frame.map((e) => [e.id, e.kind, e.fields]), snap.world, `tick ${snap.tick}`);
    assert.deepEqual(Object.fromEntries(mirror.names), snap.names, `names at ${snap.tick}`);
    assert.deepEqual(events.map((e) => [e.kind, e.fields]), snap.events, `events at ${snap.tick}`);
    sawEvents += events.length;
  }
  assert.ok(sawEvents >= 4, "the fixture has hits, a rail and a kill");
  const [first] = mirror.frame;
  assert.deepEqual(Object.keys(mirror.component(first.id, "position")), ["x", "y"]);
});

test("a quiet delta is two bytes and an ack, and the rule moves walkers through it", () => {
  const schema = new Schema(fixture.schema);
  const mirror = new WireMirror(schema, arenaPrediction(fixture.arena), fixture.tick_rate);
  let walkedForFree = 0;
  for (const snap of fixture.snapshots) {
    const before = mirror.frame.map((e) => e.fields.slice(2, 4).join());
    mirror.apply(fromHex(snap.hex));
    const after = mirror.frame.map((e) => e.fields.slice(2, 4).join());
    // Base, sections 0, ack: 3 bytes, yet someone moved.
    if (snap.hex.length === 6 && before.join() !== after.join()) walkedForFree++;
  }
  assert.ok(walkedForFree > 0, "a walking player costs nothing on the wire");
});

test("malformed bytes are WireErrors, never crashes", () => {
  const schema = new Schema(fixture.schema);
  const base = fixture.snapshots[0].world.map(([id, kind, fields]) => ({ id, kind, fields }));
  const bad = [
    [1, 16, 0], // an unknown section bit
    [1, 2, 1, 0, 0], // a changed bitmap ending in zeros
    [1, 4, 253, 255, 255, 255, 255, 255, 255, 255, 255], // a count past the message
    [0, 5, 4, 1, 0, 9, 0, 0], // a spawn of kind 9
    [1, 2, 1, 64, 1, 0], // a changed index past the baseline
    [1, 0, 0, 0], // trailing bytes
  ];
  for (const bytes of bad) assert.throws(() => decodeSnapshot(schema, Uint8Array.from(bytes), base, 1), WireError, String(bytes));
  let seed = 0x9e3779b9;
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from({ length: seed % 40 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    const mirror = new WireMirror(schema, arenaPrediction(fixture.arena), 30);
    try { mirror.apply(bytes); } catch (e) { assert.ok(e instanceof WireError, String(e)); }
  }
});

test("a bad schema is a WireError that names the problem", () => {
  const def = structuredClone(fixture.schema);
  def.kinds[1].template.pop();
  assert.throws(() => new Schema(def), /template/);
  const twice = structuredClone(fixture.schema);
  twice.kinds[1].name = "player";
  assert.throws(() => new Schema(twice), /used twice/);
});

test("a rule cannot change a field it does not predict", () => {
  const schema = new Schema(fixture.schema);
  const base = [{ id: 1, kind: 0, fields: [0, 0, 2560, 2560, 100, 1, 0, 0] }];
  const scribbler = { moved(step, kind, b, next) { next[4] = 7; next[2] = (b[2] + 1) >>> 0; } };
  const delta = { removed: [], changed: [], spawned: [], values: [] };
  const next = applyDelta(schema, base, delta, { tickRate: 30, ticks: 1, tick: 2 }, scribbler);
  assert.deepEqual(next[0].fields, [0, 0, 2561, 2560, 100, 1, 0, 0]);
});

test("a kind naming a wide component many times is refused before it is laid out", () => {
  const def = structuredClone(fixture.schema);
  def.components[0].fields = Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}`, encoding: "U8", predicted: false, hint: "Plain" }));
  def.kinds[0].components = Array(2000).fill(0);
  assert.throws(() => new Schema(def), /more than 32 fields/);
  const predictedU8 = structuredClone(fixture.schema);
  predictedU8.components[1].fields[0].predicted = true;
  assert.throws(() => new Schema(predictedU8), /must be Signed/);
  const tickInput = structuredClone(fixture.schema);
  tickInput.input[0].encoding = "Tick";
  assert.throws(() => new Schema(tickInput), /input has no snapshot tick/);
});

test("an entity whose kind changes keeps only the name it spawns with", () => {
  const schema = new Schema(fixture.schema);
  const mirror = new WireMirror(schema, {}, 30);
  // Full at tick 5: player 7 "ada" (kind 0, mask 0).
  mirror.apply(Uint8Array.from([0, 5, 4, 1, 7, 0, 3, 0x61, 0x64, 0x61, 0, 0]));
  assert.equal(mirror.name(7), "ada");
  // Since 1: remove index 0, spawn 7 as a shot (kind 1, mask 0).
  mirror.apply(Uint8Array.from([1, 5, 1, 0, 1, 7, 1, 0, 0]));
  assert.equal(mirror.entity(7).kind, 1);
  assert.equal(mirror.name(7), undefined);
});

test("every export wire.d.ts declares exists in wire.js, and no other", async () => {
  const wire = await import("../sdk/wire.js");
  const dts = readFileSync(new URL("../sdk/wire.d.ts", import.meta.url), "utf8");
  const values = [...dts.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(values)].sort(), Object.keys(wire).sort());
});

const toHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

test("every v4 message kind: client messages encode to the Rust bytes, server messages decode to the Rust values", () => {
  const schema = new Schema(fixture.schema);
  for (const { hex, value } of fixture.messages.client) assert.equal(toHex(encodeClient(schema, value)), hex);
  for (const { hex, value } of fixture.messages.server) {
    const got = decodeServer(fromHex(hex));
    if (value.Snapshot !== undefined) assert.equal(toHex(got.Snapshot), value.Snapshot);
    else assert.deepEqual(got, value);
  }
  const welcome = decodeServer(fromHex(fixture.messages.server[0].hex)).Welcome;
  assert.equal(welcome.protocol_version, 4);
  assert.deepEqual(JSON.parse(welcome.setup).map, fixture.arena);
  // Trailing bytes, unknown variants, an unknown end reason, a marker wider than the type (a
  // u16 tick rate as FC…): errors, as in Rust.
  for (const bad of [[2, 1, 1, 0], [9], [3, 5, 0, 0], [4, 1, 0xfc, 30, 0, 0, 0, 1]]) {
    assert.throws(() => decodeServer(Uint8Array.from(bad)), WireError, String(bad));
  }
  assert.deepEqual(decodeServer(Uint8Array.from([4, 1, 0xfb, 30, 0, 1])).MatchSettings.tick_rate, 30, "a longer form than needed is read");
  assert.throws(() => encodeClient(schema, { Ping: { client_time: 2 ** 60 } }), WireError);
  assert.throws(() => encodeClient(schema, { Ping: { client_time: -1 } }), WireError);
  assert.throws(() => decodeServer(new ArrayBuffer(4)), WireError);
});

test("every hex example in docs/protocol-v4.md is a real message of the fixture", () => {
  const doc = readFileSync(new URL("../../../docs/protocol-v4.md", import.meta.url), "utf8");
  const all = [
    ...fixture.messages.client.map((m) => m.hex),
    ...fixture.messages.server.map((m) => m.hex),
    ...fixture.snapshots.map((s) => s.hex),
  ];
  const whole = [...doc.matchAll(/^([0-9a-f]{6,})$/gm), ...doc.matchAll(/`([0-9a-f]{6,})`/g)].map((m) => m[1]);
  const prefixes = [...doc.matchAll(/^([0-9a-f]{6,})…/gm)].map((m) => m[1]);
  assert.ok(whole.length >= 8, `found ${whole.length} examples`);
  for (const hex of whole) assert.ok(all.includes(hex), `${hex} is not in fixtures/wire.json`);
  for (const hex of prefixes) assert.ok(all.some((h) => h.startsWith(hex)), `${hex}… starts no fixture message`);
  assert.ok(doc.includes(fixture.schema_hex.slice(0, 20)) || doc.includes("schema_hex"), "the schema is pointed to");
});
