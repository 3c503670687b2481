// The browser client reconnects on its own: a TCP proxy between the page and the server cuts
// every connection abruptly (no close frame, as a network loss would); the page says it is
// reconnecting, comes back through the proxy, and resumes the same entity.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { launchBrowser, startServer, waitFor } from "./harness.mjs";

/** A loopback TCP proxy to `target` whose live connections can all be cut at once. */
function startProxy(target) {
  const [host, port] = target.split(":");
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) { sockets.add(s); s.on("close", () => sockets.delete(s)); s.on("error", () => {}); }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    addr: `127.0.0.1:${server.address().port}`,
    cutAll: () => { for (const s of sockets) s.destroy(); },
    stop: () => { for (const s of sockets) s.destroy(); server.close(); },
  })));
}

test("browser: a cut connection is retried and the same entity resumed", async (t) => {
  // Behind a proxy the server must be told to build ws_url from the Host the page called (the
  // proxy's); otherwise it names its own address, and the page would go around the proxy.
  const server = await startServer(["--set", "trust_host_header=true"]);
  t.after(server.stop);
  const proxy = await startProxy(server.addr);
  t.after(proxy.stop);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const state = () => page.evaluate(() => window.__tickwire.state());

  await page.goto(`http://${proxy.addr}/`);
  await page.fill("#name", "rita");
  await page.click("#play");
  await waitFor(async () => (await state()).phase === "playing" && (await state()).players.length === 1, 10000, "playing");
  const before = await state();

  proxy.cutAll();
  await waitFor(async () => (await state()).reconnects >= 1, 15000, "a reconnect");
  const after = await state();
  assert.equal(after.phase, "playing");
  assert.equal(after.entity, before.entity, "the same entity");
  assert.match(after.lastBanner, /reconnecting/i);
  await waitFor(async () => (await state()).players.some((p) => p.id === before.entity), 5000, "own player drawn again");
});
