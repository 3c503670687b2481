// The browser in a cluster. The game page (served by node A) is matched into node B's open
// match; B is killed; the page notices the match is gone once B's entry expires and goes back to
// matchmaking on its own, landing in a new match on A. The console on A shows both nodes and B's
// match, and ends it (the action routed to B).
import { test } from "node:test";
import assert from "node:assert/strict";
import { adminToken, launchBrowser, startBots, startRedis, startServer, waitFor } from "./harness.mjs";

const TTL = ["--set", "cluster_ttl=2s", "--set", "cluster_heartbeat=250ms"];

/** Two nodes on one Redis, both listed by each other. */
async function twoNodes(t, redis) {
  // The page comes from A and plays on B: B must accept A's origin, and the page may connect to B.
  const node = (id) => startServer(["--redis-url", redis.url, "--node-id", id, "--set", "allowed_origins=*",
    "--set", "connect_src=ws://127.0.0.1:*", ...TTL]);
  const b = await node("b");
  t.after(b.stop);
  const a = await node("a");
  t.after(a.stop);
  await waitFor(async () => (await nodesSeen(a.addr, 2)) && (await nodesSeen(b.addr, 2)), 10000, "both nodes listed");
  return { a, b };
}

async function nodesSeen(addr, count) {
  const text = await (await fetch(`http://${addr}/metrics`)).text();
  return text.includes(`tickwire_cluster_nodes ${count}`);
}

test("browser: when the match's node dies, the page goes back to matchmaking", async (t) => {
  const redis = await startRedis();
  t.after(redis.stop);
  const { a, b } = await twoNodes(t, redis);

  // An open match on B (equal nodes: B hosts its own new match).
  const post = async (path, token, body) => (await fetch(`http://${b.addr}${path}`, {
    method: "POST",
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  })).json();
  const { token } = await post("/v1/auth/guest", null, { name: "host" });
  const onB = await post("/v1/matchmake", token);
  assert.match(onB.ws_url, new RegExp(b.addr));

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const state = () => page.evaluate(() => window.__tickwire.state());
  await page.goto(`http://${a.addr}/`);
  await page.fill("#name", "wanderer");
  await page.click("#play");
  await waitFor(async () => (await state()).phase === "playing", 10000, "playing").catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await state())}`); });
  assert.equal((await state()).matchId, onB.match_id, "matched into B's open match through A");

  b.stop();
  await waitFor(async () => {
    const s = await state();
    return s.phase === "playing" && s.matchId && s.matchId !== onB.match_id;
  }, 20000, "a new match after B died");
  const after = await state();
  assert.match(after.lastBanner, /gone|reconnecting/i);
  const listed = await (await fetch(`http://${a.addr}/v1/matches/${after.matchId}`)).json();
  assert.equal(listed.node, "a", "the new match runs on the live node");
});

test("console: every node and match of the cluster, and ending another node's match", async (t) => {
  const redis = await startRedis();
  t.after(redis.stop);
  const { a, b } = await twoNodes(t, redis);
  const bots = startBots(b.addr, 2, 60); // matchmade through B: B's own match
  t.after(bots.stop);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => d.accept());

  await page.goto(`http://${a.addr}/admin`);
  await page.fill("#token", adminToken());
  await page.click("#connect");
  const cell = async (row, cls) => (await row.locator(`td.${cls}`).textContent()).trim();
  await waitFor(async () => (await page.locator("#nodes tr").count()) === 2, 10000, "two nodes in the table");
  const nodeB = page.locator('#nodes tr[data-key="b"]');
  assert.equal(await cell(nodeB, "state"), "live");
  const remote = page.locator("#cluster-matches tr").first();
  await waitFor(async () => (await page.locator("#cluster-matches tr").count()) === 1
    && (await cell(remote, "players")) === "2/16", 20000, "B's match with two bots");
  assert.equal(await cell(remote, "node"), "b");
  assert.equal(await page.locator("#rows tr").count(), 0, "A itself runs no match");

  const id = await cell(remote, "id");
  await remote.locator("button.end-remote").click();
  // (The bots then matchmake again, into a new match.)
  await waitFor(async () => (await page.locator(`#cluster-matches tr[data-key="${id}"]`).count()) === 0,
    10000, "the match ended on B through A");
  assert.match(await page.locator("#status").textContent(), /ended .* on b/);
  assert.deepEqual(errors, []);
});
