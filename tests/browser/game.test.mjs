// The browser game client, two players in one match: one holds a movement key and the other
// sees it move; firing at the other lowers its health; the HUD shows a live RTT and the tick
// rate; no console errors. An open map (no walls, spawns on one line) keeps the shot clear.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gameState, joinGame, launchBrowser, startServer, waitFor } from "./harness.mjs";

const OPEN_MAP = { width: 1000, height: 600, walls: [], spawns: [{ x: 200, y: 300 }, { x: 800, y: 300 }] };

test("game: two players see each other move, shots hurt, the HUD is live", async (t) => {
  const mapPath = path.join(tmpdir(), `tickwire-open-map-${process.pid}.json`);
  writeFileSync(mapPath, JSON.stringify(OPEN_MAP));
  const server = await startServer(["--set", `map_file=${mapPath}`]);
  t.after(server.stop);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const errors = [];
  const state = gameState;
  const join = (name) => joinGame(browser, server.addr, name, errors);
  const alice = await join("alice");
  const bob = await join("bob");
  await waitFor(async () => (await state(alice)).players.length === 2 && (await state(bob)).players.length === 2,
    10000, "each sees both players");

  // Alice holds a key towards the centre; Bob sees her move.
  const aliceId = (await state(alice)).entity;
  const aliceOnBob = async () => (await state(bob)).players.find((p) => p.id === aliceId);
  const start = await aliceOnBob();
  assert.equal(start.name, "alice");
  const key = start.x < OPEN_MAP.width / 2 ? "KeyD" : "KeyA";
  await alice.keyboard.down(key);
  await waitFor(async () => Math.abs((await aliceOnBob()).x - start.x) > 50, 5000, "bob seeing alice move");
  await alice.keyboard.up(key);

  // Alice aims at Bob and fires; Bob's health drops.
  const bobId = (await state(bob)).entity;
  const bobOnAlice = (await state(alice)).players.find((p) => p.id === bobId);
  await alice.mouse.move(bobOnAlice.page[0], bobOnAlice.page[1]);
  await alice.keyboard.down("Space");
  await waitFor(async () => (await state(bob)).players.find((p) => p.id === bobId).hp < 100, 8000, "bob's health dropping");
  await alice.keyboard.up("Space");

  // The HUD shows a measured RTT and the tick rate.
  await waitFor(async () => /RTT \d+\.\d ms · tick 30 Hz · \d+ snapshots\/s/.test((await state(bob)).hud), 5000, "a live HUD");

  mkdirSync("artifacts", { recursive: true });
  await alice.screenshot({ path: "artifacts/game-alice.png" });
  await bob.screenshot({ path: "artifacts/game-bob.png" });
  assert.deepEqual(errors, []);
});
