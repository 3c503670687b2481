// A big map with interest management in the browser: two players start out of each other's
// area of interest; when one walks closer the other sees it appear (fading in), a rail shot at
// it hits (a hit marker for the shooter, 50 hit points off the target), and walking away makes
// it disappear again. The camera follows the player and the minimap shows where it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gameState, joinGame, launchBrowser, startServer, waitFor } from "./harness.mjs";

const RADIUS = 900;
const WIDE_MAP = { width: 5000, height: 1000, walls: [], spawns: [{ x: 300, y: 500 }, { x: 1700, y: 500 }] };

test("interest: players appear and disappear at the radius, the rail hits, minimap and camera follow", async (t) => {
  const mapPath = path.join(tmpdir(), `tickwire-wide-map-${process.pid}.json`);
  writeFileSync(mapPath, JSON.stringify(WIDE_MAP));
  const server = await startServer(["--set", `map_file=${mapPath}`, "--set", `interest_radius=${RADIUS}`]);
  t.after(server.stop);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const errors = [];
  const state = gameState;
  const join = (name) => joinGame(browser, server.addr, name, errors, { width: 1000, height: 800 });
  const alice = await join("alice");
  const bob = await join("bob");
  const [a, b] = [await state(alice), await state(bob)];
  assert.equal(a.interestRadius, RADIUS);
  await waitFor(async () => (await state(alice)).camera !== null && (await state(bob)).players.length === 1, 5000,
    "each sees only itself (1400 units apart)");
  assert.ok(!(await state(bob)).mirrored.includes(a.entity), "alice is not even in bob's mirror");

  // The camera follows: the page shows 2000 units, so alice's own dot is where she is, not at
  // the scale of the whole 5000-unit map; the minimap draws her dot in her colour.
  const me = (s) => s.players.find((p) => p.me);
  const pixel = (page, x, y) => page.evaluate(([x, y]) => [...document.getElementById("canvas").getContext("2d").getImageData(x, y, 1, 1).data], [x, y]);
  const canvasSize = await alice.evaluate(() => [document.getElementById("canvas").width, document.getElementById("canvas").height]);
  const s = 150 / WIDE_MAP.width;
  const dot = await pixel(alice, Math.round(12 + me(await state(alice)).x * s), Math.round(canvasSize[1] - 162 + me(await state(alice)).y * s));
  assert.deepEqual(dot.slice(0, 3), [0x4f, 0xc3, 0x8a], "alice's dot on her minimap");

  // Alice walks towards bob until he sees her.
  const leftOne = a.players[0].x < b.players[0].x ? alice : bob;
  const rightOne = leftOne === alice ? bob : alice;
  const walker = await state(leftOne);
  await leftOne.keyboard.down("KeyD");
  await waitFor(async () => (await state(rightOne)).players.some((p) => p.id === walker.entity), 8000, "appearing in view");
  await leftOne.keyboard.up("KeyD");
  const seen = (await state(rightOne)).players.find((p) => p.id === walker.entity);
  assert.ok(seen.alpha <= 1 && seen.alpha >= 0, "drawn with a fade");

  // The walker rails the other player: a hit marker for the shooter, 50 hit points off.
  const targetId = (await state(rightOne)).entity;
  await waitFor(async () => (await state(leftOne)).players.some((p) => p.id === targetId), 5000, "both see each other");
  const target = (await state(leftOne)).players.find((p) => p.id === targetId);
  await leftOne.mouse.move(target.page[0], target.page[1]);
  await leftOne.keyboard.down("KeyE");
  await waitFor(async () => (await state(leftOne)).hits > 0, 8000, "a hit marker");
  await leftOne.keyboard.up("KeyE");
  await waitFor(async () => me(await state(rightOne)).hp <= 50, 5000, "50 hit points off");

  // Walking away makes it disappear again.
  await leftOne.keyboard.down("KeyA");
  await waitFor(async () => !(await state(rightOne)).mirrored.includes(walker.entity), 10000, "gone from the mirror");
  await leftOne.keyboard.up("KeyA");
  await waitFor(async () => !(await state(rightOne)).players.some((p) => p.id === walker.entity), 3000, "faded out");

  mkdirSync("artifacts", { recursive: true });
  await leftOne.screenshot({ path: "artifacts/interest-walker.png" });
  assert.deepEqual(errors, []);
});
