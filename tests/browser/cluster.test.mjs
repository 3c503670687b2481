// The browser client in a cluster: the page (served by node A) is matched into node B's open
// match; B is killed; the page notices the match is gone once B's entry expires, and goes back
// to matchmaking on its own, landing in a new match on A.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, startRedis, startServer, waitFor } from "./harness.mjs";

const TTL = ["--set", "cluster_ttl=2s", "--set", "cluster_heartbeat=250ms"];

async function nodesSeen(addr, count) {
  const text = await (await fetch(`http://${addr}/metrics`)).text();
  return text.includes(`tickwire_cluster_nodes ${count}`);
}

test("browser: when the match's node dies, the page goes back to matchmaking", async (t) => {
  const redis = await startRedis();
  t.after(redis.stop);
  // The page comes from A and plays on B: B must accept A's origin, and the page may connect to B.
  const node = (id) => startServer(["--redis-url", redis.url, "--node-id", id, "--set", "allowed_origins=*",
    "--set", "connect_src=ws://127.0.0.1:*", ...TTL]);
  const b = await node("b");
  t.after(b.stop);
  const a = await node("a");
  t.after(a.stop);
  await waitFor(async () => (await nodesSeen(a.addr, 2)) && (await nodesSeen(b.addr, 2)), 10000, "both nodes listed");

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
