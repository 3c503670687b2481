// Draws the arena on a canvas: walls, players with names and health bars, projectiles, the kill
// feed, the match timer and (while Tab is held) the scoreboard.

const COLORS = { bg: "#10161d", floor: "#17202a", wall: "#3b4756", me: "#4fc38a", other: "#5b9cf0", dead: "#555", shot: "#ffd166" };

/** World ↔ screen transform that fits the arena in the canvas. */
export function fit(canvas, arena) {
  const scale = Math.min(canvas.width / arena.width, canvas.height / arena.height);
  const ox = (canvas.width - arena.width * scale) / 2;
  const oy = (canvas.height - arena.height * scale) / 2;
  return {
    scale,
    toScreen: (x, y) => [ox + x * scale, oy + y * scale],
    toWorld: (sx, sy) => [(sx - ox) / scale, (sy - oy) / scale],
  };
}

export function draw(ctx, view) {
  const { canvas } = ctx;
  const t = fit(canvas, view.arena);
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
  drawOverlay(ctx, view);
}

function drawPlayer(ctx, t, p) {
  const [sx, sy] = t.toScreen(p.x, p.y);
  const r = Math.max(4, 16 * t.scale);
  ctx.globalAlpha = p.alive ? 1 : 0.35;
  ctx.fillStyle = !p.alive ? COLORS.dead : p.me ? COLORS.me : COLORS.other;
  ctx.beginPath(); ctx.arc(sx, sy, r, 0, 2 * Math.PI); ctx.fill();
  const a = (p.aim / 65536) * 2 * Math.PI;
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(sx, sy); ctx.lineTo(sx + Math.cos(a) * r * 1.6, sy + Math.sin(a) * r * 1.6); ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.fillStyle = "#e6edf3";
  ctx.fillText(p.name + (p.alive ? "" : " (respawning)"), sx, sy - r - 12);
  const w = r * 2.4;
  ctx.fillStyle = "#000a"; ctx.fillRect(sx - w / 2, sy - r - 9, w, 4);
  ctx.fillStyle = p.hp > 50 ? "#4fc38a" : p.hp > 25 ? "#e5b84c" : "#e5604c";
  ctx.fillRect(sx - w / 2, sy - r - 9, (w * p.hp) / 100, 4);
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
