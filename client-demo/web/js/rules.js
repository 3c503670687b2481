// The game rules a predicting client shares with the server (shared::rules): integer movement
// in 1/256 units, projectile flight. Must agree with Rust step for step (checked against fixtures/).

export const SIM_SCALE = 256;
/** Wire positions are in the simulation's own fixed point. */
export const POS_SCALE = SIM_SCALE;
export const PLAYER_RADIUS = 16;
export const PLAYER_SPEED = 200;
export const PROJECTILE_SPEED = 600;
export const BUTTONS = { UP: 1, DOWN: 2, LEFT: 4, RIGHT: 8, FIRE: 16, RAIL: 32 };
/** The rail: range in world units and shortest time between two shots. */
export const RAIL_RANGE = 1200;
export const RAIL_INTERVAL_MS = 1000;

/** Where a rail fired from (x, y) towards `aim` (16-bit angle) stops: the first wall or its range. */
export function railEnd(arena, x, y, aim) {
  const a = (aim / 65536) * 2 * Math.PI;
  const dx = Math.cos(a) * RAIL_RANGE, dy = Math.sin(a) * RAIL_RANGE;
  let t = 1;
  for (const w of arena.walls) {
    let t0 = 0, t1 = 1, hit = true;
    for (const [p, d, lo, hi] of [[x, dx, w.x, w.x + w.w], [y, dy, w.y, w.y + w.h]]) {
      if (d === 0) { if (p < lo || p > hi) { hit = false; break; } continue; }
      let ta = (lo - p) / d, tb = (hi - p) / d;
      if (ta > tb) [ta, tb] = [tb, ta];
      t0 = Math.max(t0, ta); t1 = Math.min(t1, tb);
      if (t0 > t1) { hit = false; break; }
    }
    if (hit) t = Math.min(t, t0);
  }
  return [x + dx * t, y + dy * t];
}

/** Per-tick step along one axis and along each axis of a diagonal, in sim units. */
export function stepQ(tickRate) {
  const rate = Math.max(tickRate, 1);
  const axis = Math.trunc((PLAYER_SPEED * SIM_SCALE) / rate);
  const diag = Math.floor(((PLAYER_SPEED * SIM_SCALE) / rate) * Math.SQRT1_2);
  return [axis, diag];
}

function sweep(arena, x, y, d, alongX) {
  const r = PLAYER_RADIUS * SIM_SCALE;
  const pos = alongX ? x : y;
  const other = alongX ? y : x;
  if (d === 0) return pos;
  let target = pos + d;
  for (const w of arena.walls) {
    const [lo0, hi0, olo0, ohi0] = alongX ? [w.x, w.x + w.w, w.y, w.y + w.h] : [w.y, w.y + w.h, w.x, w.x + w.w];
    const lo = lo0 * SIM_SCALE - r, hi = hi0 * SIM_SCALE + r;
    const olo = olo0 * SIM_SCALE - r, ohi = ohi0 * SIM_SCALE + r;
    if (other <= olo || other >= ohi) continue;
    if (d > 0 && pos <= lo && target > lo) target = lo;
    else if (d < 0 && pos >= hi && target < hi) target = hi;
  }
  const side = alongX ? arena.width : arena.height;
  return Math.min(Math.max(target, r), side * SIM_SCALE - r);
}

/** One tick of movement from (x, y) in sim units with `held` buttons. */
export function movePlayer(arena, x, y, held, tickRate) {
  const sx = (held & BUTTONS.RIGHT ? 1 : 0) - (held & BUTTONS.LEFT ? 1 : 0);
  const sy = (held & BUTTONS.DOWN ? 1 : 0) - (held & BUTTONS.UP ? 1 : 0);
  const [axis, diag] = stepQ(tickRate);
  const step = sx !== 0 && sy !== 0 ? diag : axis;
  const nx = sweep(arena, x, y, sx * step, true);
  const ny = sweep(arena, nx, y, sy * step, false);
  return [nx, ny];
}

/** Where a projectile is (world units) `elapsed` ticks after leaving (x, y) (wire units). */
export function projectilePosition(x, y, aim, elapsed, tickRate) {
  const a = (aim / 65536) * 2 * Math.PI;
  const d = (PROJECTILE_SPEED * elapsed) / Math.max(tickRate, 1);
  return [x / POS_SCALE + Math.cos(a) * d, y / POS_SCALE + Math.sin(a) * d];
}
