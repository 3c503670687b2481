// Test harness for the browser tests: the real server and bots binaries (built by cargo) on
// loopback, and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR || path.join(here, "..", "..", "target");
const bin = (name) => path.join(targetDir, "debug", name);
export const SECRET = "browser-test-secret-0123456789abcdefgh";

/** Starts tickwire-server on a free loopback port; resolves to { addr, stop }. */
export function startServer(args = []) {
  const child = spawn(bin("tickwire-server"), ["--bind", "127.0.0.1:0", "--set", "results_log=", ...args], {
    env: { ...process.env, TICKWIRE_JWT_SECRET: SECRET },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stop = () => { if (child.exitCode === null) child.kill("SIGKILL"); };
  return new Promise((resolve, reject) => {
    // `kill` is SIGKILL: what a crashed machine looks like to the rest of a cluster.
    const timer = setTimeout(() => { stop(); reject(new Error("server did not start in 20 s")); }, 20000);
    let buffered = "";
    child.stderr.on("data", (chunk) => {
      buffered += chunk;
      const m = buffered.match(/addr=(127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve({ addr: m[1], stop }); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${buffered}`)); });
  });
}

/**
 * A real redis-server on a free loopback port with no persistence (scripts/test.sh installs
 * Debian's package); resolves to { url, stop }.
 */
export async function startRedis() {
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    { stdio: "ignore" });
  const stop = () => { if (child.exitCode === null) child.kill("SIGKILL"); };
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  }), 10000, "redis-server");
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** Runs the real `tickwire-server` with `args` (a subcommand such as `replay`); its stdout. */
export function serverCli(args) {
  return execFileSync(bin("tickwire-server"), args).toString();
}

/** An admin token from the real `admin-token` subcommand. */
export function adminToken() {
  return execFileSync(bin("tickwire-server"), ["admin-token", "--name", "browser-test"], {
    env: { ...process.env, TICKWIRE_JWT_SECRET: SECRET },
  }).toString().trim();
}

/** Runs `count` bots for `seconds` (bounded: they stop by themselves). */
export function startBots(addr, count, seconds) {
  const child = spawn(bin("tickwire-demo"), ["bots", "--count", String(count), "--duration", String(seconds),
    "--server", `http://${addr}`, "--metrics", "none"], { stdio: "ignore" });
  return { stop: () => { if (child.exitCode === null) child.kill("SIGKILL"); } };
}

/** Headless Debian Chromium with the flags this machine needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--disable-quic", "--no-first-run"],
  });
}

/** What the game page says about itself (`window.__tickwire.state()`). */
export const gameState = (page) => page.evaluate(() => window.__tickwire.state());

/**
 * Opens the game page of the server at `addr` as player `name` and presses Play; resolves once
 * it plays. Console errors and page errors go to `errors`.
 */
export async function joinGame(browser, addr, name, errors, viewport = { width: 1000, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  page.on("console", (m) => { if (m.type() === "error") errors.push(`${name}: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`${name}: ${e}`));
  await page.goto(`http://${addr}/`);
  await page.fill("#name", name);
  await page.click("#play");
  await waitFor(async () => (await gameState(page)).phase === "playing", 10000, `${name} playing`);
  return page;
}

/** Polls `check` every 100 ms until it is truthy; fails with `what` after `ms`. */
export async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await check(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
