// The browser client: start screen → guest login → matchmake → WebSocket → play. Inputs go out
// once per server tick; the own player is predicted, everyone else interpolated. With
// `?watch=MATCH` it spectates that match instead: no entity, no inputs, a camera on any player.
import { decodeServer, encodeClient } from "./codec.js";
import { Mirror } from "./mirror.js";
import { Predictor } from "./predict.js";
import { Interpolator } from "./interp.js";
import { draw, fit } from "./render.js";
import { BUTTONS, RAIL_INTERVAL_MS, projectilePosition, railEnd } from "./rules.js";
import { CLOSE_MESSAGES, PlayerError, explainFailedJoin, login, matchStatus, matchmake, openSocket } from "./net.js";

const $ = (id) => document.getElementById(id);
const MOVES = { KeyW: BUTTONS.UP, ArrowUp: BUTTONS.UP, KeyS: BUTTONS.DOWN, ArrowDown: BUTTONS.DOWN,
  KeyA: BUTTONS.LEFT, ArrowLeft: BUTTONS.LEFT, KeyD: BUTTONS.RIGHT, ArrowRight: BUTTONS.RIGHT };
const END_TEXT = { ScoreLimit: "Score limit reached.", TimeLimit: "Time is up.", Empty: "Everyone left.",
  Admin: "An operator ended the match.", Shutdown: "The server is shutting down.", Error: "The match stopped on a server error." };

/** Interpolation delay for other players, ms: `?interp=150` in the page URL; default 100. */
const INTERP_MS = Math.min(Math.max(Number(new URLSearchParams(location.search).get("interp")) || 100, 0), 1000);
/** `?watch=MATCH`: spectate that match (`#spectator=TOKEN`, from the console: with that token). */
const WATCH = new URLSearchParams(location.search).get("watch");
const SPECTATOR_TOKEN = new URLSearchParams(location.hash.slice(1)).get("spectator");

let game = null;
const held = new Set();
let firing = false;
let railing = false;
let showScores = false;
let mouse = null;

function show(screen) { for (const s of ["start", "game", "results"]) $(s).hidden = s !== screen; }
function message(text) { $("message").textContent = text; }

async function play() {
  const name = $("name").value.trim();
  if (!name) return message("Pick a name first.");
  $("play").disabled = true;
  try {
    message("Logging in…");
    const auth = await login(name);
    if (WATCH) return await watch(auth);
    message("Finding a match…");
    const ticket = await matchmake(auth.token);
    message("Connecting…");
    connect(ticket, auth);
  } catch (e) {
    message(e instanceof PlayerError ? e.message : `Something went wrong: ${e.message}`);
  } finally {
    $("play").disabled = false;
  }
}

/** Spectates the match of `?watch=` (on whichever node runs it). */
async function watch(auth) {
  message("Finding the match…");
  const where = await matchStatus(WATCH);
  if (!where) return message("That match is over (or never existed).");
  const ws = where.ws_url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/ws?match=${encodeURIComponent(WATCH)}`;
  message("Connecting…");
  connect({ match_id: WATCH, ws_url: `${ws}&spectate=1`, spectate: true }, auth);
}

/** Reconnect attempts after a dropped connection before giving up (backoff 250 ms → 3 s). */
const MAX_RECONNECTS = 8;

let reconnects = 0;
let lastBanner = "";

function banner(text) {
  $("banner").textContent = text;
  $("banner").hidden = !text;
  if (text) lastBanner = text;
}

function connect(ticket, auth, attempt = 0) {
  const g = {
    ws: openSocket(ticket.ws_url, auth.token), ticket, auth, attempt, welcome: null, mirror: new Mirror(),
    predictor: null, interp: new Interpolator(INTERP_MS), rate: 30, seq: 0, aim: 0, killFeed: [], opened: false,
    rails: [], hitMarkers: [], lastRail: -Infinity, camera: null,
    ended: null, endsAt: 0, lastFrame: performance.now(), rtt: null,
    counters: { snaps: 0, down: 0, up: 0 }, rates: { snaps: 0, down: 0, up: 0 }, ratesAt: performance.now(),
  };
  game = g;
  g.ws.onopen = () => { g.opened = true; };
  g.ws.onmessage = (ev) => onMessage(g, new Uint8Array(ev.data));
  g.ws.onclose = (ev) => onClose(g, ev);
}

function fail(g, text) {
  g.failure = text;
  g.ws.close(1002, "protocol error");
}

function onMessage(g, bytes) {
  g.counters.down += bytes.length;
  let msg;
  try { msg = decodeServer(bytes); } catch { return fail(g, "The server sent something this client cannot read."); }
  if (msg.Welcome) begin(g, msg.Welcome);
  else if (msg.Snapshot) onSnapshot(g, msg.Snapshot);
  else if (msg.Pong) g.rtt = performance.now() - msg.Pong.client_time / 1000;
  else if (msg.MatchEnded) g.ended = msg.MatchEnded;
  else if (msg.MatchSettings) {
    g.rate = msg.MatchSettings.tick_rate;
    g.predictor.setTickRate(g.rate);
    g.mirror.setTickRate(g.rate);
    g.interp.setTiming(g.rate, msg.MatchSettings.snapshot_interval);
    if (!g.spectator) startInputs(g);
  }
}

function begin(g, w) {
  g.welcome = w;
  // Entity 0: a spectator. It sends no inputs and its camera follows whom it picks.
  g.spectator = w.entity === 0;
  g.follow = g.follow ?? null;
  g.rate = w.tick_rate;
  g.predictor = new Predictor(w.arena, w.tick_rate);
  g.mirror.setMatch(w.arena, w.tick_rate);
  g.interp.setTiming(w.tick_rate, w.snapshot_interval);
  g.endsAt = performance.now() + Math.max(0, w.time_limit_secs - w.tick / w.tick_rate) * 1000;
  message("");
  banner("");
  if (g.attempt > 0) reconnects += 1;
  show("game");
  $("canvas").focus();
  $("help").textContent = g.spectator ? "Spectating · click a player or [ ] to follow · Esc: whole map · Tab scores" : $("help").textContent;
  if (!g.spectator) startInputs(g);
  g.pingTimer = setInterval(() => send(g, { Ping: { client_time: Math.round(performance.now() * 1000) } }), 1000);
  requestAnimationFrame((t) => frame(g, t));
}

/** One input per server tick; re-timed when the operator changes the tick rate. */
function startInputs(g) {
  clearInterval(g.inputTimer);
  g.inputTimer = setInterval(() => sendInput(g), 1000 / g.rate);
}

function sendInput(g) {
  let buttons = (firing ? BUTTONS.FIRE : 0) | (railing ? BUTTONS.RAIL : 0);
  for (const code of held) buttons |= MOVES[code] || 0;
  const me = g.predictor.renderPos(0);
  if (mouse && me) {
    const turns = Math.atan2(mouse[1] - me[1], mouse[0] - me[0]) / (2 * Math.PI);
    g.aim = Math.floor((turns - Math.floor(turns)) * 65536 + 0.5) % 65536;
  }
  const now = performance.now();
  const alive = (g.mirror.entities.get(g.welcome.entity)?.flags & 1) !== 0;
  if (railing && me && alive && now - g.lastRail >= RAIL_INTERVAL_MS) {
    // The beam is drawn at once; the server says whether it hit (a Hit event, a marker).
    g.lastRail = now;
    g.rails.push({ from: me, to: railEnd(g.welcome.arena, me[0], me[1], g.aim), at: now });
  }
  g.seq += 1;
  // The tick the others are drawn at: the server tests this input's shots against it.
  const input = { seq: g.seq, buttons, aim: g.aim, view_tick: g.interp.viewTick(now) };
  g.predictor.applyInput(input);
  send(g, { Input: input });
}

function send(g, msg) {
  if (g.ws.readyState !== WebSocket.OPEN) return;
  const bytes = encodeClient(msg);
  g.ws.send(bytes);
  g.counters.up += bytes.length;
}

function onSnapshot(g, snap) {
  let tick;
  try { tick = g.mirror.apply(snap); } catch { return fail(g, "This client lost track of the match state."); }
  g.counters.snaps += 1;
  const me = g.mirror.entities.get(g.welcome.entity);
  if (me) g.predictor.reconcile(me, g.mirror.ackInputSeq);
  g.interp.push(performance.now(), tick, g.mirror.entities);
  const name = (id) => g.mirror.names.get(id) || `#${id}`;
  const mine = g.welcome.entity;
  for (const ev of snap.events) {
    if (ev.Kill) g.killFeed.unshift({ killer: name(ev.Kill.killer), victim: name(ev.Kill.victim), at: performance.now() });
    if (ev.Rail && ev.Rail.shooter !== mine) {
      // Someone else's rail: drawn from where they are along their shot (own ones are drawn
      // when fired).
      const s = g.mirror.entities.get(ev.Rail.shooter);
      if (s) {
        const a = (ev.Rail.aim / 65536) * 2 * Math.PI, x = s.x / 256, y = s.y / 256;
        g.rails.push({ from: [x, y], to: [x + Math.cos(a) * ev.Rail.length, y + Math.sin(a) * ev.Rail.length], at: performance.now() });
      }
    }
    const victim = g.mirror.entities.get(ev.Hit?.victim ?? ev.Kill?.victim);
    if (victim && (ev.Hit?.shooter === mine || ev.Kill?.killer === mine)) {
      g.hitMarkers.push({ x: victim.x / 256, y: victim.y / 256, kill: !!ev.Kill, at: performance.now() });
      g.hits = (g.hits || 0) + 1;
    }
  }
  g.killFeed = g.killFeed.filter((k) => performance.now() - k.at < 6000).slice(0, 5);
}

async function onClose(g, ev) {
  clearInterval(g.inputTimer);
  clearInterval(g.pingTimer);
  if (game !== g) return;
  // A connection that vanished (no close frame) mid-game: come back as the same player; the
  // server holds the entity for its reconnect grace.
  const dropped = !g.ended && !g.failure && (ev.code === 1006 || ev.code === 1005) && (g.opened || g.attempt > 0);
  if (dropped && g.attempt < MAX_RECONNECTS) {
    const attempt = g.attempt + 1;
    banner(`Connection lost — reconnecting (attempt ${attempt} of ${MAX_RECONNECTS})…`);
    setTimeout(() => { if (game === g) retry(g, attempt); }, Math.min(250 * 2 ** (attempt - 1), 3000));
    return;
  }
  game = null;
  banner("");
  if (g.ended) return showResults(g.ended);
  show("start");
  if (g.failure) message(g.failure);
  else if (!g.opened && g.attempt > 0) message(`Could not reconnect: ${await explainFailedJoin(g.ticket.match_id)}`);
  else if (!g.opened) message(await explainFailedJoin(g.ticket.match_id));
  else message(CLOSE_MESSAGES[ev.code] || `Disconnected (code ${ev.code}).`);
}

/**
 * One reconnection attempt. The first goes to the old address; later ones ask the server where
 * the match runs now (in a cluster it may be another node), and when it is gone (ended, or its
 * node died) go back to matchmaking with the same login.
 */
async function retry(g, attempt) {
  if (attempt === 1) return connect(g.ticket, g.auth, attempt);
  let where;
  try {
    where = await matchStatus(g.ticket.match_id);
  } catch {
    return connect(g.ticket, g.auth, attempt);
  }
  if (game !== g) return;
  const spectate = g.ticket.spectate ? "&spectate=1" : "";
  if (where) return connect({ ...g.ticket, ws_url: where.ws_url ? where.ws_url + spectate : g.ticket.ws_url }, g.auth, attempt);
  if (g.ticket.spectate) {
    game = null;
    banner("");
    show("start");
    return message("The match you were watching is over.");
  }
  banner("That match is gone — finding a new one…");
  try {
    const ticket = await matchmake(g.auth.token);
    if (game === g) connect(ticket, g.auth, attempt);
  } catch (e) {
    game = null;
    banner("");
    show("start");
    message(e instanceof PlayerError ? e.message : `Something went wrong: ${e.message}`);
  }
}

function showResults(ended) {
  $("reason").textContent = END_TEXT[ended.reason] || "";
  const rows = ended.results.map((r, i) => {
    const tr = document.createElement("tr");
    for (const v of [i + 1, r.name, r.score, r.deaths]) tr.appendChild(Object.assign(document.createElement("td"), { textContent: String(v) }));
    return tr;
  });
  $("standings").replaceChildren(...rows);
  show("results");
}

/** What is on screen now: own player predicted, others interpolated, projectiles extrapolated. */
function view(g, now, dt) {
  const players = [];
  const projectiles = [];
  const sampled = g.interp.sample(now);
  const tick = g.interp.presentTick(now, g.rate);
  for (const [id, s] of g.mirror.entities) {
    if (s.kind === "Projectile") {
      const [x, y] = projectilePosition(s.x, s.y, s.aim, Math.max(0, tick - s.tick), g.rate);
      projectiles.push({ x, y });
    }
  }
  for (const [id, s] of sampled) {
    if (s.kind !== "Player") continue;
    const me = g.spectator ? id === g.follow : id === g.welcome.entity;
    const own = me && !g.spectator ? g.predictor.renderPos(dt) : null;
    const latest = g.mirror.entities.get(id) || s;
    players.push({ id, me, name: g.mirror.names.get(id) || `#${id}`, x: own ? own[0] : s.wx, y: own ? own[1] : s.wy,
      aim: own ? g.aim : s.aim, hp: latest.hp, alive: (latest.flags & 1) !== 0, score: latest.score, deaths: latest.deaths,
      alpha: me ? 1 : s.alpha });
    if (me) g.camera = [players[players.length - 1].x, players[players.length - 1].y];
  }
  if (g.spectator && !players.some((p) => p.me)) g.camera = null; // the whole map
  const fade = (list, ms) => list.filter((e) => now - e.at < ms).map((e) => ({ ...e, fade: 1 - (now - e.at) / ms }));
  g.rails = g.rails.filter((r) => now - r.at < 200);
  g.hitMarkers = g.hitMarkers.filter((m) => now - m.at < 400);
  return { arena: g.welcome.arena, players, projectiles, killFeed: g.killFeed, showScores,
    secondsLeft: (g.endsAt - now) / 1000, camera: g.camera, interestRadius: g.welcome.interest_radius,
    rails: fade(g.rails, 200), hitMarkers: fade(g.hitMarkers, 400) };
}

function frame(g, now) {
  if (game !== g) return;
  const dt = (now - g.lastFrame) / 1000;
  g.lastFrame = now;
  const ctx = $("canvas").getContext("2d");
  g.lastView = view(g, now, dt);
  draw(ctx, g.lastView);
  if (now - g.ratesAt >= 1000) {
    const secs = (now - g.ratesAt) / 1000;
    g.rates = { snaps: g.counters.snaps / secs, down: (g.counters.down * 8) / 1000 / secs, up: (g.counters.up * 8) / 1000 / secs };
    g.counters = { snaps: 0, down: 0, up: 0 };
    g.ratesAt = now;
    $("hud").textContent = hudText(g);
  }
  requestAnimationFrame((t) => frame(g, t));
}

function hudText(g) {
  const rtt = g.rtt == null ? "–" : `${g.rtt.toFixed(1)} ms`;
  if (g.spectator) {
    const name = g.follow === null ? "the whole map" : g.mirror.names.get(g.follow) || `#${g.follow}`;
    return `Spectating · following ${name} · RTT ${rtt} · tick ${g.rate} Hz · ${g.rates.down.toFixed(1)} kbit/s down`;
  }
  return `RTT ${rtt} · tick ${g.rate} Hz · ${g.rates.snaps.toFixed(0)} snapshots/s · ` +
    `${g.rates.down.toFixed(1)} kbit/s down · ${g.rates.up.toFixed(1)} kbit/s up · ` +
    `prediction error ${g.predictor.lastError.toFixed(2)} u`;
}

/** A spectator's camera: the next (or previous) player by id, or none. */
function cycleFollow(g, step) {
  const ids = [...g.mirror.entities].filter(([, s]) => s.kind === "Player").map(([id]) => id);
  if (ids.length === 0) return;
  const i = ids.indexOf(g.follow);
  g.follow = i < 0 ? ids[step > 0 ? 0 : ids.length - 1] : ids[(i + step + ids.length) % ids.length];
  $("hud").textContent = hudText(g);
}

// Input handling.
addEventListener("keydown", (e) => {
  if (!game || $("game").hidden) return;
  if (game.spectator) {
    if (e.code === "BracketRight") cycleFollow(game, 1);
    if (e.code === "BracketLeft") cycleFollow(game, -1);
    if (e.code === "Escape") { game.follow = null; $("hud").textContent = hudText(game); }
    if (e.code === "Tab") { showScores = true; e.preventDefault(); }
    return;
  }
  if (MOVES[e.code]) { held.add(e.code); e.preventDefault(); }
  if (e.code === "Space") { firing = true; e.preventDefault(); }
  if (e.code === "KeyE") { railing = true; e.preventDefault(); }
  if (e.code === "Tab") { showScores = true; e.preventDefault(); }
});
addEventListener("keyup", (e) => {
  held.delete(e.code);
  if (e.code === "Space") firing = false;
  if (e.code === "KeyE") railing = false;
  if (e.code === "Tab") showScores = false;
});
addEventListener("blur", () => { held.clear(); firing = false; railing = false; });
$("canvas").addEventListener("mousemove", (e) => {
  if (!game || !game.welcome) return;
  const c = $("canvas"), r = c.getBoundingClientRect();
  mouse = fit(c, game.welcome.arena, game.camera).toWorld((e.clientX - r.left) * (c.width / r.width), (e.clientY - r.top) * (c.height / r.height));
});
$("canvas").addEventListener("mousedown", (e) => {
  if (game?.spectator) {
    // Follow whoever is nearest the click.
    const near = (game.lastView?.players || []).map((p) => ({ p, d: Math.hypot(p.x - mouse?.[0], p.y - mouse?.[1]) }))
      .sort((a, b) => a.d - b.d)[0];
    if (near && near.d < 80) { game.follow = near.p.id; $("hud").textContent = hudText(game); }
    return;
  }
  if (e.button === 0) firing = true; if (e.button === 2) railing = true;
});
addEventListener("mouseup", (e) => { if (e.button === 0) firing = false; if (e.button === 2) railing = false; });
$("canvas").addEventListener("contextmenu", (e) => e.preventDefault());
$("play").addEventListener("click", play);
$("name").addEventListener("keydown", (e) => { if (e.key === "Enter") play(); });
$("again").addEventListener("click", () => { show("start"); play(); });
$("name").value = localStorage.getItem("tickwire-name") || "";
if (WATCH && SPECTATOR_TOKEN) {
  // Opened from the console with a spectator token: watch at once, no login.
  watch({ token: SPECTATOR_TOKEN }).catch((e) => message(e instanceof PlayerError ? e.message : `Something went wrong: ${e.message}`));
} else if (WATCH) {
  $("play").textContent = "Watch";
  document.querySelector("#start .sub").textContent = `Spectate match ${WATCH}: follow any player, no seat taken.`;
}
$("name").addEventListener("change", () => localStorage.setItem("tickwire-name", $("name").value.trim()));

// Read-only view of the client for automated tests and curious players.
window.__tickwire = {
  state() {
    const g = game;
    const phase = !$("game").hidden ? "playing" : !$("results").hidden ? "results" : "start";
    if (!g || !g.welcome) return { phase, message: $("message").textContent };
    const c = $("canvas"), t = fit(c, g.welcome.arena, g.camera), r = c.getBoundingClientRect();
    const toPage = (x, y) => { const [sx, sy] = t.toScreen(x, y); return [r.left + (sx * r.width) / c.width, r.top + (sy * r.height) / c.height]; };
    return { phase, matchId: g.welcome.match_id, entity: g.welcome.entity, spectator: g.spectator, follow: g.follow, tickRate: g.rate, rtt: g.rtt, hud: $("hud").textContent, reconnects, lastBanner,
      interestRadius: g.welcome.interest_radius, camera: g.camera, hits: g.hits || 0, viewTick: g.interp.viewTick(performance.now()),
      mirrored: [...g.mirror.entities.keys()], arena: { width: g.welcome.arena.width, height: g.welcome.arena.height },
      players: (g.lastView?.players || []).map((p) => ({ ...p, page: toPage(p.x, p.y) })),
      message: $("message").textContent };
  },
};
