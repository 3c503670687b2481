// The operator console in a real browser: it lists a match with bots in it, changes its tick
// rate, and the table, the chart's budget and the players' snapshot rate follow.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { adminToken, launchBrowser, startBots, startServer, waitFor } from "./harness.mjs";

test("console: see a match with bots, change its tick rate, table and chart follow", async (t) => {
  const server = await startServer();
  t.after(server.stop);
  const bots = startBots(server.addr, 4, 60);
  t.after(bots.stop);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(`http://${server.addr}/admin`);
  await page.fill("#token", adminToken());
  await page.click("#connect");
  const row = page.locator("#rows tr").first();
  const text = async (sel) => (await row.locator(sel).textContent()).trim();
  await waitFor(async () => (await text("td.players")) === "4/16", 20000, "four bots in the table");
  assert.equal(await text("td.tick-rate"), "30");
  const canvas = page.locator(".chart canvas").first();
  await waitFor(async () => Number(await canvas.getAttribute("data-points")) >= 3, 10000, "the chart drawing");
  assert.equal(await canvas.getAttribute("data-budget-ms"), "33.33");
  await waitFor(async () => Number(await text("td.snap-rate")) > 25, 15000, "about 30 snapshots/s per player");

  const pointsBefore = Number(await canvas.getAttribute("data-points"));
  await row.locator("input.rate-input").fill("60");
  await row.locator("button.apply").click();
  await waitFor(async () => (await text("td.tick-rate")) === "60", 10000, "60 Hz in the table");
  await waitFor(async () => (await canvas.getAttribute("data-budget-ms")) === "16.67", 10000, "the chart's budget at 16.67 ms");
  await waitFor(async () => Number(await text("td.snap-rate")) > 50, 20000, "players' snapshot rate following to 60");
  assert.ok(Number(await canvas.getAttribute("data-points")) > pointsBefore, "the chart kept drawing");

  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/admin-console.png", fullPage: true });
  assert.deepEqual(errors, []);
});
