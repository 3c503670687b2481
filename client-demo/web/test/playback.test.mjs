// The replay viewer's playback agrees with the server's re-simulation: fixtures/replay.json is a
// replay stream built by the server from a recorded match (written by `cargo test -p server
// --test it fixtures`) and the world a fresh re-simulation gives at some ticks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Playback, parseStream } from "../js/playback.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/replay.json", import.meta.url)));
const bytes = Uint8Array.from(fixture.stream.match(/../g), (h) => parseInt(h, 16));

test("the stream parses: one snapshot per tick, keyframes every 256, the tick-rate change", () => {
  const s = parseStream(bytes.buffer);
  assert.equal(s.firstTick, 1);
  assert.equal(s.lastTick, 700);
  assert.equal(s.steps.length, 700);
  assert.deepEqual(s.keyframes.map((k) => k.tick), [256, 512]);
  assert.equal(s.steps[399].rate, 30, "tick 400 ran at 30 Hz");
  assert.equal(s.steps[400].rate, 60, "the change came before tick 401");
  assert.equal(s.ended.reason, "Admin");
});

test("seeking anywhere, in any order, shows the re-simulated world", () => {
  const p = new Playback(parseStream(bytes.buffer));
  const order = [...fixture.worlds, ...[...fixture.worlds].reverse()];
  for (const { tick, world } of order) {
    assert.equal(p.seek(tick), tick);
    assert.deepEqual(p.mirror.sorted(), world, `tick ${tick}`);
    assert.ok(p.lastApplied <= 256, `tick ${tick}: ${p.lastApplied} deltas applied`);
  }
  p.seek(100);
  p.seek(600);
  assert.equal(p.lastApplied, 600 - 512, "from the keyframe at 512");
});

test("playing forward a few ticks at a time passes every tick, keyframes or not", () => {
  const p = new Playback(parseStream(bytes.buffer));
  p.seek(1);
  let events = 0, steps = 0;
  for (let t = 5; t <= 700; t += 5) p.seek(t, (s) => { steps += 1; events += s.snapshot.events.length; });
  assert.equal(steps, 699);
  assert.ok(events > 0, "shots and hits happened");
  assert.deepEqual(p.mirror.sorted(), fixture.worlds.at(-1).world);
});
