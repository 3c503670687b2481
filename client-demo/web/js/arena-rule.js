// The arena's prediction plug-in for sdk/wire.js (Rust: tickwire_arena::predict): a living
// player keeps moving with the movement buttons it holds, by the shared rule; a shot starts at
// its shooter. Field indices are the arena schema's (tickwire_arena::schema).
import { movePlayer, SIM_SCALE } from "./rules.js";
import { MAX_PREDICTED_TICKS, findEntity } from "../sdk/wire.js";

export const PLAYER = 0, SHOT = 1;
export const P = { AIM: 0, BUTTONS: 1, X: 2, Y: 3, HP: 4, FLAGS: 5, KILLS: 6, DEATHS: 7 };
export const S = { X: 0, Y: 1, AIM: 2, OWNER: 3, FIRED: 4 };
const ALIVE = 1, MOVE = 15;

export function arenaPrediction(arena) {
  const inside = (v, side) => v >= 0 && v <= side * SIM_SCALE;
  return {
    moved(step, kind, base, next) {
      // A schema from elsewhere may give kind 0 fewer fields than a player has.
      if (kind !== PLAYER || base.length <= P.DEATHS || next.length <= P.DEATHS) return;
      let x = base[P.X] | 0, y = base[P.Y] | 0;
      const held = next[P.BUTTONS];
      if (!(base[P.FLAGS] & ALIVE) || !(held & MOVE) || step.ticks < 1 || step.ticks > MAX_PREDICTED_TICKS
        || !inside(x, arena.width) || !inside(y, arena.height)) return;
      for (let t = 0; t < step.ticks; t++) [x, y] = movePlayer(arena, x, y, held, step.tickRate);
      next[P.X] = x >>> 0;
      next[P.Y] = y >>> 0;
    },
    origin(step, kind, spawned, survivors) {
      if (kind !== SHOT || spawned.length <= S.FIRED) return;
      const i = findEntity(survivors, spawned[S.OWNER]);
      if (i >= 0 && survivors[i].kind === PLAYER && survivors[i].fields.length > P.DEATHS) {
        spawned[S.X] = survivors[i].fields[P.X];
        spawned[S.Y] = survivors[i].fields[P.Y];
      }
    },
  };
}
