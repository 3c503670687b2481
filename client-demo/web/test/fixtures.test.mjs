// The JS codec, mirror and movement rule agree with Rust byte for byte and step for step:
// fixtures/ is written by `cargo test -p server --test it fixtures` (which fails when it is stale).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeClient, decodeServer, encodeClient, DecodeError } from "../js/codec.js";
import { Mirror } from "../js/mirror.js";
import { movePlayer } from "../js/rules.js";

const load = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const messages = load("messages.json");

test("client messages encode to the same bytes and decode back", () => {
  for (const { name, hex, value } of messages.client) {
    assert.equal(toHex(encodeClient(value)), hex, name);
    assert.deepEqual(decodeClient(fromHex(hex)), value, name);
  }
});

test("server messages decode to the same values", () => {
  for (const { name, hex, value } of messages.server) {
    assert.deepEqual(decodeServer(fromHex(hex)), value, name);
  }
});

test("snapshots applied in order give the server's world", () => {
  const mirror = new Mirror();
  mirror.setMatch(messages.arena, messages.tick_rate);
  const snaps = messages.server.filter((m) => m.world);
  assert.ok(snaps.length >= 5);
  for (const { name, hex, world } of snaps) {
    mirror.apply(decodeServer(fromHex(hex)).Snapshot);
    assert.deepEqual(mirror.sorted(), world, name);
  }
});

test("a quiet snapshot is four bytes and moves walking players by the shared rule", () => {
  const quiet = messages.server.find((m) => m.name === "snapshot_quiet");
  assert.equal(quiet.hex.length / 2, 4);
  const mirror = new Mirror();
  mirror.setMatch(messages.arena, messages.tick_rate);
  mirror.apply(decodeServer(fromHex(quiet.before)).Snapshot);
  mirror.apply(decodeServer(fromHex(quiet.hex)).Snapshot);
  assert.deepEqual(mirror.sorted(), quiet.world_after);
});

test("malformed bytes are errors, never crashes", () => {
  const ping = fromHex(messages.client.find((m) => m.name === "ping").hex);
  assert.throws(() => decodeClient(Uint8Array.from([...ping, 0])), DecodeError);
  assert.throws(() => decodeClient(ping.subarray(0, 1)), DecodeError);
  assert.throws(() => decodeServer(Uint8Array.from([9])), DecodeError);
  // Since 1, sections: spawned, with a count of u64::MAX.
  assert.throws(() => decodeServer(Uint8Array.from([1, 1, 4, 253, 255, 255, 255, 255, 255, 255, 255, 255])), DecodeError);
  // An unknown section bit; a changed bitmap ending in a zero byte.
  assert.throws(() => decodeServer(Uint8Array.from([1, 1, 16, 0])), DecodeError);
  assert.throws(() => decodeServer(Uint8Array.from([1, 1, 2, 1, 0, 0])), DecodeError);
  let seed = 0x9e3779b9;
  for (let i = 0; i < 5000; i++) {
    const len = seed % 40;
    const bytes = Uint8Array.from({ length: len }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    try { decodeServer(bytes); } catch (e) { assert.ok(e instanceof DecodeError, String(e)); }
  }
});

test("the movement rule replays the Rust trace step for step", () => {
  const { arena, start, steps } = load("movement.json");
  let [x, y] = [start.x, start.y];
  steps.forEach((s, i) => {
    [x, y] = movePlayer(arena, x, y, s.buttons, s.tick_rate);
    assert.deepEqual([x, y], [s.x, s.y], `step ${i} at ${s.tick_rate} Hz`);
  });
});
