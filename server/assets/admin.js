"use strict";
const HISTORY = 120;            // chart points kept per match (one a second)
const history = new Map();      // match id -> [{p50, p99, max, budget}]
let token = sessionStorage.getItem("tickwire-admin-token") || "";
let spectatorToken = "";        // minted once a session: "watch" works on private matches too

const $ = (id) => document.getElementById(id);
let holdStatusUntil = 0;        // an action's message stays up this long before the poll's

/** Shows what an action did, for a few seconds. */
function say(text) { $("status").textContent = text; holdStatusUntil = Date.now() + 5000; }
function fmt(n, digits = 2) { return n == null ? "–" : Number(n).toFixed(digits); }

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "Authorization": "Bearer " + token, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.message) || ("HTTP " + res.status));
  return data;
}

const COLUMNS = ["id", "state", "players", "tick-rate", "interval", "map", "interest", "lag-comp", "p50", "p99", "max", "budget", "overruns", "kbps", "snap-rate", "spectators"];

/** Builds a match's row once: text cells, then the tick-rate editor and the end button. */
function makeRow(id) {
  const tr = document.createElement("tr");
  tr.dataset.match = id;
  for (const c of COLUMNS) tr.appendChild(Object.assign(document.createElement("td"), { className: c }));
  const edit = document.createElement("td");
  const rate = Object.assign(document.createElement("input"), { type: "number", min: 1, max: 240, className: "rate-input" });
  const apply = Object.assign(document.createElement("button"), { textContent: "Apply", className: "apply" });
  apply.onclick = async () => {
    try {
      await api("PATCH", `/v1/admin/matches/${id}`, { tick_rate: Number(rate.value) });
      say(`tick rate of ${id} set to ${rate.value} Hz`);
      rate.dataset.dirty = "";
    } catch (e) { say("change refused: " + e.message); }
  };
  rate.oninput = () => { rate.dataset.dirty = "1"; };
  edit.append(rate, " ", apply);
  const endTd = document.createElement("td");
  const end = Object.assign(document.createElement("button"), { textContent: "End", className: "danger" });
  end.onclick = async () => { if (confirm(`End match ${id}?`)) await api("DELETE", `/v1/admin/matches/${id}`).catch(() => {}); };
  endTd.append(end);
  // Watch it live in the game page, as a spectator (no seat taken).
  const watchTd = document.createElement("td");
  watchTd.append(Object.assign(document.createElement("a"), { textContent: "watch", className: "watch", target: "_blank" }));
  tr.append(edit, endTd, watchTd);
  return tr;
}

function renderRows(matches) {
  const rows = $("rows");
  for (const m of matches) {
    let tr = rows.querySelector(`tr[data-match="${m.id}"]`);
    if (!tr) { tr = makeRow(m.id); rows.appendChild(tr); }
    const used = m.tick_time.budget_used_pct;
    const set = (c, text, cls) => { const td = tr.querySelector("td." + c); td.textContent = text; if (cls !== undefined) td.className = c + " " + cls; };
    set("id", m.id);
    set("state", m.state);
    set("players", `${m.players}/${m.capacity}`);
    set("tick-rate", String(m.tick_rate));
    set("interval", String(m.snapshot_interval));
    set("map", m.map);
    set("interest", m.interest_radius ? `${m.interest_radius} u` : "off");
    set("lag-comp", m.lag_compensation_ms ? `${m.lag_compensation_ms} ms` : "off");
    set("p50", fmt(m.tick_time.p50_ms, 3));
    set("p99", fmt(m.tick_time.p99_ms, 3));
    set("max", fmt(m.tick_time.max_ms, 3));
    set("budget", fmt(used, 1) + " %", used > 80 ? "bad" : used > 50 ? "warn" : "ok");
    set("overruns", String(m.overruns), m.overruns > 0 ? "bad" : "");
    set("kbps", fmt(m.bytes_out_per_sec / 1000, 1));
    set("snap-rate", fmt(m.players ? m.snapshots_per_sec / m.players : 0, 1));
    set("spectators", `${m.spectators}/${m.max_spectators}` + (m.spectator_delay_ms ? ` (${m.spectator_delay_ms / 1000} s behind)` : ""));
    // The spectator token rides in the fragment, which never reaches a server or its logs.
    const fragment = spectatorToken ? `#spectator=${spectatorToken}` : "";
    tr.querySelector("a.watch").setAttribute("href", `/?watch=${encodeURIComponent(m.id)}${fragment}`);
    // Leave the editor alone while the operator is typing in it.
    const rate = tr.querySelector("input.rate-input");
    if (!rate.dataset.dirty) rate.value = String(m.tick_rate);
  }
  for (const tr of [...rows.children]) {
    if (!matches.some((m) => m.id === tr.dataset.match)) tr.remove();
  }
}

function drawChart(m) {
  let box = $("chart-" + m.id);
  if (!box) {
    box = document.createElement("div");
    box.className = "chart";
    box.id = "chart-" + m.id;
    box.innerHTML = `<h2></h2><canvas width="640" height="200"></canvas>
      <div class="legend"><span class="ok">p50</span><span class="warn">p99</span><span class="bad">max</span><span>— budget</span></div>`;
    $("charts").appendChild(box);
  }
  const points = history.get(m.id) || [];
  box.querySelector("h2").textContent = `${m.id} · ${m.tick_rate} Hz · tick duration vs budget (log scale)`;
  const canvas = box.querySelector("canvas");
  canvas.dataset.points = String(points.length);
  canvas.dataset.budgetMs = fmt(m.budget_ms, 2);
  canvas.dataset.lastP99Ms = points.length ? fmt(points[points.length - 1].p99, 4) : "";
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 44;
  ctx.clearRect(0, 0, W, H);
  // Log scale from 0.01 ms to 1000 ms.
  const lo = Math.log10(0.01), hi = Math.log10(1000);
  const y = (ms) => H - 8 - (Math.log10(Math.max(ms, 0.01)) - lo) / (hi - lo) * (H - 16);
  ctx.font = "10px sans-serif"; ctx.fillStyle = "#8a96a3"; ctx.strokeStyle = "#2a3542";
  for (const ms of [0.01, 0.1, 1, 10, 100, 1000]) {
    ctx.beginPath(); ctx.moveTo(L, y(ms)); ctx.lineTo(W, y(ms)); ctx.stroke();
    ctx.fillText(ms + " ms", 2, y(ms) + 3);
  }
  const x = (i) => L + (W - L) * i / (HISTORY - 1);
  const line = (key, color) => {
    ctx.strokeStyle = color; ctx.lineWidth = key === "budget" ? 1.5 : 1.2; ctx.beginPath();
    points.forEach((p, i) => { const px = x(i + HISTORY - points.length); i ? ctx.lineTo(px, y(p[key])) : ctx.moveTo(px, y(p[key])); });
    ctx.stroke();
  };
  line("budget", "#8a96a3"); line("max", "#e5604c"); line("p99", "#e5b84c"); line("p50", "#4fc38a");
}

async function poll() {
  try {
    const matches = await api("GET", "/v1/admin/matches");
    for (const m of matches) {
      const h = history.get(m.id) || [];
      h.push({ p50: m.tick_time.p50_ms, p99: m.tick_time.p99_ms, max: m.tick_time.max_ms, budget: m.budget_ms });
      if (h.length > HISTORY) h.shift();
      history.set(m.id, h);
    }
    for (const id of [...history.keys()]) {
      if (!matches.some((m) => m.id === id)) { history.delete(id); const c = $("chart-" + id); if (c) c.remove(); }
    }
    renderRows(matches);
    matches.forEach(drawChart);
    $("status").dataset.ok = "1";
    if (Date.now() > holdStatusUntil) $("status").textContent = `${matches.length} matches · updated ${new Date().toLocaleTimeString()}`;
    return true;
  } catch (e) {
    $("status").textContent = "error: " + e.message;
    return false;
  }
}

/** Replaces a table body's rows: one per item, cells from `cells(item)`, keyed by `key`. */
function fillTable(tbody, items, key, cells, extra) {
  const rows = items.map((item) => {
    const tr = document.createElement("tr");
    tr.dataset.key = key(item);
    for (const [cls, text] of cells(item)) tr.appendChild(Object.assign(document.createElement("td"), { className: cls, textContent: text }));
    if (extra) tr.appendChild(extra(item));
    return tr;
  });
  tbody.replaceChildren(...rows);
}

/** Every node and match of the cluster (any node answers; actions go to the match's owner). */
async function pollCluster() {
  let view;
  try { view = await api("GET", "/v1/admin/cluster"); } catch (e) {
    $("cluster-status").textContent = "· " + e.message;
    return;
  }
  $("cluster").hidden = !view.enabled;
  if (!view.enabled) return;
  $("cluster-status").textContent = `· answered by ${view.node} · ${view.nodes.length} nodes · ${view.matches.length} matches`;
  fillTable($("nodes"), view.nodes, (n) => n.id, (n) => [
    ["id", n.id], ["state", n.draining ? "draining" : "live"], ["version", n.version], ["address", n.ws],
    ["players", String(n.players)], ["matches", `${n.matches}/${n.max_matches}`], ["budget", fmt(n.budget_used * 100, 1) + " %"],
  ]);
  fillTable($("cluster-matches"), view.matches, (m) => m.id, (m) => [
    ["id", m.id], ["node", m.node], ["state", m.state], ["players", `${m.players}/${m.capacity}`],
    ["seats", `${m.seats_taken}/${m.capacity}`], ["tick-rate", String(m.tick_rate)],
    ["kind", m.private ? "private" : m.matchmaking ? "matchmaking" : "by id"],
  ], (m) => {
    const td = document.createElement("td");
    const end = Object.assign(document.createElement("button"), { textContent: "End", className: "danger end-remote" });
    end.onclick = async () => {
      if (!confirm(`End match ${m.id} on node ${m.node}?`)) return;
      try { await api("DELETE", `/v1/admin/matches/${m.id}`); say(`ended ${m.id} on ${m.node}`); }
      catch (e) { say("end refused: " + e.message); }
    };
    td.append(end);
    return td;
  });
}

/** Finished matches' recordings, each with a link to the replay viewer and a download. */
async function pollRecordings() {
  let answer;
  try { answer = await api("GET", "/v1/admin/recordings"); }
  catch (e) { $("recordings-status").textContent = e.message; $("recordings").replaceChildren(); return; }
  const list = answer.recordings;
  $("recordings-status").textContent = answer.enabled ? `${list.length} on this node` : "off on this node (record_dir is not set)";
  const rows = list.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.match = r.match_id;
    const cells = [r.match_id, new Date(r.ended_at_ms).toLocaleString(), r.map, String(r.tick_rate), `${(r.bytes / 1024).toFixed(1)} KiB`];
    for (const text of cells) tr.appendChild(Object.assign(document.createElement("td"), { textContent: text }));
    const replay = document.createElement("td");
    replay.append(Object.assign(document.createElement("a"), { textContent: "replay", className: "replay", href: `/replay?id=${encodeURIComponent(r.match_id)}` }));
    const download = document.createElement("td");
    const button = Object.assign(document.createElement("button"), { textContent: "download" });
    button.onclick = async () => {
      const res = await fetch(`/v1/admin/recordings/${encodeURIComponent(r.match_id)}`, { headers: { Authorization: "Bearer " + token } });
      if (!res.ok) return say("download refused: HTTP " + res.status);
      const a = Object.assign(document.createElement("a"), { href: URL.createObjectURL(await res.blob()), download: `${r.match_id}.twrec` });
      a.click();
      URL.revokeObjectURL(a.href);
    };
    download.append(button);
    tr.append(replay, download);
    return tr;
  });
  $("recordings").replaceChildren(...rows);
}

/** A spectator token for the "watch" links (they then open private matches too). */
async function mintSpectatorToken() {
  try { spectatorToken = (await api("POST", "/v1/admin/spectator-tokens", { name: "console" })).token; } catch { spectatorToken = ""; }
}

async function start() {
  // Minted first, so the first "watch" links carry it (a refused token fails the poll below);
  // again every half hour, well within a token's lifetime.
  await mintSpectatorToken();
  if (!(await poll())) {
    $("login").hidden = false; $("console").hidden = true;
    $("error").textContent = "that token was refused";
    return;
  }
  sessionStorage.setItem("tickwire-admin-token", token);
  $("login").hidden = true; $("console").hidden = false;
  setInterval(poll, 1000);
  pollCluster();
  setInterval(pollCluster, 1000);
  pollRecordings();
  setInterval(pollRecordings, 5000);
  setInterval(mintSpectatorToken, 30 * 60 * 1000);
}

$("connect").onclick = () => { token = $("token").value.trim(); start(); };
$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") $("connect").click(); });
if (token) start();
