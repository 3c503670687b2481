// Spectating and replays in a real browser. Four bots play a recorded 12 s match. While it
// runs, the console's "watch" link opens the game page as a spectator that sees every player
// and follows one. Once it ends, the console links its recording to the replay viewer: seeking
// to a tick shows exactly the world `tickwire-server replay --at` re-simulates for that tick
// (from a keyframe, not from the start), it plays at 8× and pauses, and its camera follows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { adminToken, gameState, launchBrowser, serverCli, startBots, startServer, waitFor } from "./harness.mjs";

const TICKS = 360; // 12 s at 30 Hz

/** The world as the viewer shows it and as the re-simulation prints it, made comparable. */
const comparable = (entities) => entities
  .map((e) => ({ id: e.id, kind: e.kind.toLowerCase(), x: e.x, y: e.y, hp: e.hp, alive: e.alive, score: e.score, deaths: e.deaths,
    name: e.kind.toLowerCase() === "player" ? e.name : "" }))
  .sort((a, b) => a.id - b.id);

test("spectate a live match, then replay its recording: seek shows the recorded state", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tickwire-recordings-"));
  const server = await startServer(["--set", `record_dir=${dir}`]);
  t.after(server.stop);
  const base = `http://${server.addr}`;
  const guest = await (await fetch(`${base}/v1/auth/guest`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "organiser" }) })).json();
  const created = await (await fetch(`${base}/v1/matches`, { method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${guest.token}` },
    body: JSON.stringify({ matchmaking: true, time_limit_secs: TICKS / 30, tick_rate: 30 }) })).json();
  const id = created.match_id;
  const bots = startBots(server.addr, 4, 30);
  t.after(bots.stop);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));

  // The console lists the match with a "watch" link.
  await page.goto(`${base}/admin`);
  await page.fill("#token", adminToken());
  await page.click("#connect");
  const watch = page.locator(`#rows tr[data-match="${id}"] a.watch`);
  await waitFor(async () => (await watch.count()) === 1, 10000, "the match in the console");
  const href = await watch.getAttribute("href");
  assert.ok(href.startsWith(`/?watch=${id}#spectator=`), href);

  // Spectating with the console's spectator token: entity 0, every bot in view, no seat
  // taken, a camera on whom it follows.
  const spectator = await browser.newPage({ viewport: { width: 1000, height: 1000 } });
  spectator.on("pageerror", (e) => errors.push(`spectator: ${e}`));
  await spectator.goto(`${base}${href}`);
  await waitFor(async () => (await gameState(spectator)).phase === "playing", 10000, "spectating");
  await waitFor(async () => (await gameState(spectator)).players.length === 4, 15000, "four bots seen");
  let s = await gameState(spectator);
  assert.equal(s.entity, 0);
  assert.equal(s.spectator, true);
  assert.equal(s.camera, null, "the whole map until a player is picked");
  const detail = await (await fetch(`${base}/v1/admin/matches/${id}`, { headers: { Authorization: `Bearer ${adminToken()}` } })).json();
  assert.equal(detail.players, 4, "the spectator holds no seat");
  assert.equal(detail.spectators, 1);
  await spectator.keyboard.press("BracketRight");
  s = await gameState(spectator);
  assert.ok(s.follow > 0, "following a player");
  await waitFor(async () => (await gameState(spectator)).camera !== null, 5000, "the camera on that player");
  assert.match(s.hud, /^Spectating/);
  await spectator.screenshot({ path: "artifacts/spectator.png" });

  // The match ends; the spectator is shown the results and the console lists the recording.
  await waitFor(async () => (await gameState(spectator)).phase === "results", 20000, "the end of the match");
  const replayLink = page.locator(`#recordings tr[data-match="${id}"] a.replay`);
  await waitFor(async () => (await replayLink.count()) === 1, 10000, "the recording in the console");
  await replayLink.click();
  await waitFor(async () => (await page.evaluate(() => window.__replay?.state().loaded)), 10000, "the viewer loaded");
  const state = () => page.evaluate(() => window.__replay.state());
  let r = await state();
  assert.equal(r.lastTick, TICKS);
  assert.ok(r.keyframes >= 1, "keyframes for seeking");
  // A match a player created is filed with its creator's key: ID.twrec or ID~cKEY.twrec.
  const name = readdirSync(dir).find((f) => f === `${id}.twrec` || (f.startsWith(`${id}~c`) && f.endsWith(".twrec")));
  assert.ok(name, `the recording of ${id} in ${dir}`);
  const file = path.join(dir, name);
  assert.match(serverCli(["replay", file, "--verify"]), /^verified: 360 ticks/);

  for (const tick of [100, 300, 37]) {
    await page.locator("#seek").fill(String(tick));
    r = await state();
    assert.equal(r.tick, tick);
    const recorded = JSON.parse(serverCli(["replay", file, "--at", String(tick)]));
    assert.equal(recorded.tick, tick);
    assert.deepEqual(comparable(r.entities), comparable(recorded.entities), `the world at tick ${tick}`);
    assert.equal(r.scores.length, 4, "the scoreboard lists the four players");
  }
  // A long seek (37 → 300) starts from the keyframe at 256, not from tick 1.
  await page.locator("#seek").fill("37");
  await page.locator("#seek").fill("300");
  assert.equal((await state()).lastApplied, 300 - 256);

  // Follow a player: the camera is on it.
  const follow = (await state()).entities.find((e) => e.kind === "Player");
  await page.selectOption("#follow", String(follow.id));
  r = await state();
  assert.equal(r.follow, follow.id);
  assert.deepEqual(r.camera, [follow.x, follow.y]);

  // Play at 8× from tick 37, then pause.
  await page.locator("#seek").fill("37");
  await page.selectOption("#speed", "8");
  await page.click("#toggle");
  await waitFor(async () => (await state()).tick > 150, 5000, "playing at 8×");
  await page.click("#toggle");
  const paused = (await state()).tick;
  assert.equal((await state()).playing, false);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await state()).tick, paused, "paused");

  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/replay.png" });
  assert.deepEqual(errors, []);
});
