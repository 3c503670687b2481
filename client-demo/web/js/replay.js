// The replay viewer at /replay?id=MATCH: fetches the match's replay stream with the operator's
// admin token, then plays it at 0.25×–8× with the game's own renderer: pause, seek (from the
// nearest keyframe), scoreboard and kill feed as they were at each tick, any player's camera.
import { draw } from "./render.js";
import { projectilePosition } from "./rules.js";
import { Playback, parseStream } from "./playback.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "tickwire-admin-token"; // the console's: opened from it, no second login
const KILL_FEED_SECONDS = 6;
const matchId = new URLSearchParams(location.search).get("id") || "";

let playback = null;
let playing = false;
let speed = 1;
let clock = 0;            // the tick being shown, fractional while playing
let follow = null;        // entity id the camera follows (null: the whole map)
let previous = new Map(); // positions one tick before the shown one (drawn between the two)
let effects = { rails: [], hits: [] };
let last = performance.now();

function show(screen) { $("login").hidden = screen !== "login"; $("viewer").hidden = screen !== "viewer"; }

async function open(token) {
  $("message").textContent = "Loading…";
  const res = await fetch(`/v1/admin/recordings/${encodeURIComponent(matchId)}/replay`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status === 401 || res.status === 403) { show("login"); $("message").textContent = "That token was refused."; return; }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    show("login");
    $("message").textContent = body?.message || `The server answered ${res.status}.`;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  playback = new Playback(parseStream(await res.arrayBuffer()));
  const { firstTick, lastTick, welcome, ended } = playback.stream;
  $("title").textContent = `Match ${welcome.match_id}`;
  Object.assign($("seek"), { min: firstTick, max: lastTick, value: firstTick });
  $("ending").textContent = ended ? `Ended: ${ended.reason} at tick ${ended.tick}` : "";
  seekTo(firstTick);
  show("viewer");
  requestAnimationFrame(frame);
}

/** Shows tick `t` at once (no effects replayed). */
function seekTo(t) {
  playback.seek(t);
  clock = playback.tick;
  previous = positions();
  effects = { rails: [], hits: [] };
  refreshSide();
}

function positions() {
  const out = new Map();
  for (const [id, s] of playback.mirror.entities) if (s.kind === "Player") out.set(id, [s.x / 256, s.y / 256]);
  return out;
}

/** Plays forward to `clock`, collecting the effects of the ticks passed. */
function advance() {
  const want = Math.floor(clock);
  if (want <= playback.tick) return;
  const now = performance.now();
  const before = positions();
  playback.seek(want, (step) => {
    for (const ev of step.snapshot.events) {
      if (ev.Rail) effects.rails.push({ ...ev.Rail, at: now });
      if (ev.Hit) effects.hits.push({ victim: ev.Hit.victim, kill: false, at: now });
      if (ev.Kill) effects.hits.push({ victim: ev.Kill.victim, kill: true, at: now });
    }
  });
  // Several ticks in one frame (high speed): nothing to draw between.
  previous = playback.lastApplied === 1 ? before : positions();
  refreshSide();
}

function refreshSide() {
  const m = playback.mirror;
  const players = [...m.entities].filter(([, s]) => s.kind === "Player");
  const rows = players
    .map(([id, s]) => ({ id, name: m.names.get(id) || `#${id}`, score: s.score, deaths: s.deaths }))
    .sort((a, b) => b.score - a.score || a.deaths - b.deaths);
  const trs = rows.map((r) => {
    const tr = document.createElement("tr");
    if (r.id === follow) tr.className = "followed";
    for (const v of [r.name, r.score, r.deaths]) tr.appendChild(Object.assign(document.createElement("td"), { textContent: String(v) }));
    tr.onclick = () => setFollow(r.id);
    return tr;
  });
  $("scores").replaceChildren(...trs);
  const options = [Object.assign(document.createElement("option"), { value: "", textContent: "whole map" })]
    .concat(rows.map((r) => Object.assign(document.createElement("option"), { value: String(r.id), textContent: r.name })));
  const select = $("follow");
  if (select.options.length !== options.length || [...select.options].some((o, i) => o.value !== options[i].value)) {
    select.replaceChildren(...options);
  }
  select.value = follow === null ? "" : String(follow);
  $("seek").value = String(playback.tick);
  const rate = playback.rate, secs = Math.max(0, playback.tick / rate);
  $("clock").textContent = `tick ${playback.tick} · ${Math.floor(secs / 60)}:${String(Math.floor(secs % 60)).padStart(2, "0")}`;
}

function setFollow(id) {
  follow = id;
  refreshSide();
}

/** What the game's renderer draws: the same view shape as the game page. */
function view(now) {
  const m = playback.mirror, rate = playback.rate;
  const f = playing ? clock - Math.floor(clock) : 1;
  const players = [], projectiles = [];
  for (const [id, s] of m.entities) {
    if (s.kind === "Projectile") {
      const [x, y] = projectilePosition(s.x, s.y, s.aim, Math.max(0, m.tick - s.tick), rate);
      projectiles.push({ x, y });
      continue;
    }
    const [x1, y1] = [s.x / 256, s.y / 256];
    const [x0, y0] = previous.get(id) || [x1, y1];
    const near = Math.hypot(x1 - x0, y1 - y0) < 100; // a respawn jumps; do not slide
    players.push({ id, me: id === follow, name: m.names.get(id) || `#${id}`, x: near ? x0 + (x1 - x0) * f : x1,
      y: near ? y0 + (y1 - y0) * f : y1, aim: s.aim, hp: s.hp, alive: (s.flags & 1) !== 0, score: s.score, deaths: s.deaths, alpha: 1 });
  }
  const followed = players.find((p) => p.me);
  const w = playback.stream.welcome;
  const fade = (list, ms) => list.filter((e) => now - e.at < ms).map((e) => ({ ...e, fade: 1 - (now - e.at) / ms }));
  effects.rails = effects.rails.filter((r) => now - r.at < 200);
  effects.hits = effects.hits.filter((h) => now - h.at < 400);
  const rails = effects.rails.flatMap((r) => {
    const s = players.find((p) => p.id === r.shooter);
    if (!s) return [];
    const a = (r.aim / 65536) * 2 * Math.PI;
    return [{ from: [s.x, s.y], to: [s.x + Math.cos(a) * r.length, s.y + Math.sin(a) * r.length], at: r.at }];
  });
  const hitMarkers = effects.hits.flatMap((h) => {
    const v = players.find((p) => p.id === h.victim);
    return v ? [{ x: v.x, y: v.y, kill: h.kill, at: h.at }] : [];
  });
  return { arena: w.arena, players, projectiles, killFeed: playback.killFeed(KILL_FEED_SECONDS * rate), showScores: false,
    secondsLeft: w.time_limit_secs - playback.tick / rate, camera: followed ? [followed.x, followed.y] : null, interestRadius: 0,
    rails: fade(rails, 200), hitMarkers: fade(hitMarkers, 400) };
}

function frame(now) {
  const dt = Math.min((now - last) / 1000, 0.25);
  last = now;
  if (playing) {
    clock = Math.min(clock + dt * playback.rate * speed, playback.stream.lastTick);
    advance();
    if (clock >= playback.stream.lastTick) setPlaying(false);
  }
  draw($("canvas").getContext("2d"), view(now));
  requestAnimationFrame(frame);
}

function setPlaying(on) {
  playing = on && playback.tick < playback.stream.lastTick;
  clock = playback.tick;
  $("toggle").textContent = playing ? "Pause" : "Play";
}

$("toggle").onclick = () => setPlaying(!playing);
$("speed").onchange = () => { speed = Number($("speed").value); };
$("seek").oninput = () => seekTo(Number($("seek").value));
$("follow").onchange = () => setFollow($("follow").value === "" ? null : Number($("follow").value));
$("connect").onclick = () => open($("token").value.trim());
$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") $("connect").click(); });
addEventListener("keydown", (e) => {
  if (!playback || e.target.tagName === "INPUT") return;
  if (e.code === "Space") { setPlaying(!playing); e.preventDefault(); }
});

// Read-only view of the viewer for automated tests.
window.__replay = {
  state() {
    if (!playback) return { loaded: false, message: $("message").textContent };
    const m = playback.mirror;
    return { loaded: true, tick: playback.tick, playing, speed, follow, firstTick: playback.stream.firstTick,
      lastTick: playback.stream.lastTick, lastApplied: playback.lastApplied, keyframes: playback.stream.keyframes.length,
      camera: view(performance.now()).camera,
      entities: [...m.entities].map(([id, s]) => ({ id, kind: s.kind, x: s.x / 256, y: s.y / 256, hp: s.hp,
        alive: (s.flags & 1) !== 0, score: s.score, deaths: s.deaths, name: m.names.get(id) || "" })),
      scores: [...$("scores").children].map((tr) => [...tr.children].map((td) => td.textContent)),
      killFeed: playback.killFeed(KILL_FEED_SECONDS * playback.rate) };
  },
};

if (!matchId) { show("login"); $("message").textContent = "No recording named: open this page from the console."; }
else {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) open(saved); else show("login");
}
