// Draws the arena on a canvas: walls, players with names and health bars, projectiles, rail
// beams, hit markers, the kill feed, the match timer, (while Tab is held) the scoreboard, and on
// a large map a camera that follows the player and a minimap of what it can see.

const COLORS = { bg: "#10161d", floor: "#17202a", wall: "#3b4756", me: "#4fc38a", other: "#5b9cf0", dead: "#555", shot: "#ffd166" };

/** World units shown across the canvas's shorter side when the arena is larger than that. */
export const CAMERA_SPAN = 2000;

/** Whether an arena is drawn through a camera following the player (and gets a minimap). */
export function follows(arena) {
  return Math.max(arena.width, arena.height) > CAMERA_SPAN * 1.2;
}

/**
 * World ↔ screen transform: the whole arena when it fits, else `CAMERA_SPAN` units around
 * `center` (the player), kept inside the arena.
 */
export function fit(canvas, arena, center) {
  if (!follows(arena) || !center) return fitBox(canvas, 0, 0, arena.width, arena.height, 0);
  const scale = Math.min(canvas.width, canvas.height) / CAMERA_SPAN;
  const w = canvas.width / scale, h = canvas.height / scale;
  const cx = Math.min(Math.max(center[0], w / 2), arena.width - w / 2);
  const cy = Math.min(Math.max(center[1], h / 2), arena.height - h / 2);
  return fitBox(canvas, cx - w / 2, cy - h / 2, w, h, 0);
}

/** The transform that fits the world box (x, y, w, h) in the canvas, `pad` pixels inside. */
function fitBox(canvas, bx, by, bw, bh, pad) {
  const scale = Math.min((canvas.width - 2 * pad) / bw, (canvas.height - 2 * pad) / bh);
  const ox = (canvas.width - bw * scale) / 2 - bx * scale;
  const oy = (canvas.height - bh * scale) / 2 - by * scale;
  return {
    scale,
    toScreen: (x, y) => [ox + x * scale, oy + y * scale],
    toWorld: (sx, sy) => [(sx - ox) / scale, (sy - oy) / scale],
  };
}

export function draw(ctx, view) {
  const { canvas } = ctx;
  const t = fit(canvas, view.arena, view.camera);
  ctx.fillStyle = COLORS.bg;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const [x0, y0] = t.toScreen(0, 0);
  ctx.fillStyle = COLORS.floor;
  ctx.fillRect(x0, y0, view.arena.width * t.scale, view.arena.height * t.scale);
  ctx.fillStyle = COLORS.wall;
  for (const w of view.arena.walls) {
    const [sx, sy] = t.toScreen(w.x, w.y);
    ctx.fillRect(sx, sy, w.w * t.scale, w.h * t.scale);
  }
  ctx.fillStyle = COLORS.shot;
  for (const p of view.projectiles) {
    const [sx, sy] = t.toScreen(p.x, p.y);
    ctx.beginPath(); ctx.arc(sx, sy, Math.max(2, 4 * t.scale), 0, 2 * Math.PI); ctx.fill();
  }
  for (const p of view.players) drawPlayer(ctx, t, p);
  for (const r of view.rails) {
    const [ax, ay] = t.toScreen(r.from[0], r.from[1]), [bx, by] = t.toScreen(r.to[0], r.to[1]);
    ctx.globalAlpha = r.fade; ctx.strokeStyle = "#9be7ff"; ctx.lineWidth = 3;
    ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
  }
  ctx.globalAlpha = 1;
  for (const m of view.hitMarkers) {
    const [sx, sy] = t.toScreen(m.x, m.y);
    const k = 10 + 6 * (1 - m.fade);
    ctx.globalAlpha = m.fade; ctx.strokeStyle = m.kill ? "#e5604c" : "#fff"; ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(sx - k, sy - k); ctx.lineTo(sx - k / 2, sy - k / 2); ctx.moveTo(sx + k, sy - k); ctx.lineTo(sx + k / 2, sy - k / 2);
    ctx.moveTo(sx - k, sy + k); ctx.lineTo(sx - k / 2, sy + k / 2); ctx.moveTo(sx + k, sy + k); ctx.lineTo(sx + k / 2, sy + k / 2);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  if (view.camera && (follows(view.arena) || view.interestRadius > 0)) drawMinimap(ctx, view);
  drawOverlay(ctx, view);
}

/** The whole arena in a corner: walls, the circle this player can see, and who is in it. */
function drawMinimap(ctx, view) {
  const { canvas } = ctx;
  const size = 150, x0 = 12, y0 = canvas.height - size - 12;
  const s = size / Math.max(view.arena.width, view.arena.height);
  const at = (x, y) => [x0 + x * s, y0 + y * s];
  ctx.fillStyle = "#000b"; ctx.fillRect(x0 - 4, y0 - 4, view.arena.width * s + 8, view.arena.height * s + 8);
  ctx.fillStyle = COLORS.wall;
  for (const w of view.arena.walls) { const [sx, sy] = at(w.x, w.y); ctx.fillRect(sx, sy, Math.max(1, w.w * s), Math.max(1, w.h * s)); }
  const [cx, cy] = at(view.camera[0], view.camera[1]);
  if (view.interestRadius > 0) {
    ctx.fillStyle = "#4fc38a22"; ctx.strokeStyle = "#4fc38a"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.arc(cx, cy, view.interestRadius * s, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
  for (const p of view.players) {
    const [px, py] = at(p.x, p.y);
    ctx.fillStyle = p.me ? COLORS.me : COLORS.other;
    ctx.fillRect(px - 2, py - 2, 4, 4);
  }
}

function drawPlayer(ctx, t, p) {
  const [sx, sy] = t.toScreen(p.x, p.y);
  const r = Math.max(4, 16 * t.scale);
  const alpha = p.alpha ?? 1;
  ctx.globalAlpha = (p.alive ? 1 : 0.35) * alpha;
  ctx.fillStyle = !p.alive ? COLORS.dead : p.me ? COLORS.me : COLORS.other;
  ctx.beginPath(); ctx.arc(sx, sy, r, 0, 2 * Math.PI); ctx.fill();
  const a = (p.aim / 65536) * 2 * Math.PI;
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(sx, sy); ctx.lineTo(sx + Math.cos(a) * r * 1.6, sy + Math.sin(a) * r * 1.6); ctx.stroke();
  ctx.globalAlpha = alpha;
  ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.fillStyle = "#e6edf3";
  ctx.fillText(p.name + (p.alive ? "" : " (respawning)"), sx, sy - r - 12);
  const w = r * 2.4;
  ctx.fillStyle = "#000a"; ctx.fillRect(sx - w / 2, sy - r - 9, w, 4);
  ctx.fillStyle = p.hp > 50 ? "#4fc38a" : p.hp > 25 ? "#e5b84c" : "#e5604c";
  ctx.fillRect(sx - w / 2, sy - r - 9, (w * p.hp) / 100, 4);
  ctx.globalAlpha = 1;
}

function drawOverlay(ctx, view) {
  const { canvas } = ctx;
  ctx.textAlign = "center"; ctx.fillStyle = "#e6edf3"; ctx.font = "bold 18px system-ui, sans-serif";
  const s = Math.max(0, Math.ceil(view.secondsLeft));
  ctx.fillText(`${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`, canvas.width / 2, 24);
  ctx.textAlign = "right"; ctx.font = "13px system-ui, sans-serif";
  view.killFeed.forEach((k, i) => ctx.fillText(`${k.killer} ⟶ ${k.victim}`, canvas.width - 12, 24 + i * 18));
  if (view.showScores) {
    const rows = [...view.players].sort((a, b) => b.score - a.score || a.deaths - b.deaths);
    const w = 320, h = 40 + rows.length * 22, x = (canvas.width - w) / 2, y = 60;
    ctx.fillStyle = "#000c"; ctx.fillRect(x, y, w, h);
    ctx.fillStyle = "#e6edf3"; ctx.textAlign = "left"; ctx.font = "bold 14px system-ui, sans-serif";
    ctx.fillText("Player", x + 14, y + 24); ctx.textAlign = "right"; ctx.fillText("Kills  Deaths", x + w - 14, y + 24);
    ctx.font = "14px system-ui, sans-serif";
    rows.forEach((p, i) => {
      ctx.textAlign = "left"; ctx.fillStyle = p.me ? COLORS.me : "#e6edf3";
      ctx.fillText(p.name, x + 14, y + 48 + i * 22);
      ctx.textAlign = "right"; ctx.fillText(`${p.score}      ${p.deaths}`, x + w - 14, y + 48 + i * 22);
    });
  }
}
