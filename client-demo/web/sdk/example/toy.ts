// A typed example the CI checks with `tsc --noEmit`: a game that is not the arena (balls that
// fly by their velocity), its schema, its prediction rule, and a mirror reading it back.
import { Schema, WireMirror, findEntity } from "../wire.js";
import type { Predictor, SchemaDef, Step } from "../wire.js";

const def: SchemaDef = {
  game: "balls",
  components: [
    {
      name: "ball",
      fields: [
        { name: "x", encoding: "Signed", predicted: true, hint: { X: { scale: 1 } } },
        { name: "y", encoding: "Signed", predicted: true, hint: { Y: { scale: 1 } } },
        { name: "vx", encoding: "Signed", predicted: false, hint: "Plain" },
        { name: "vy", encoding: "Signed", predicted: false, hint: "Plain" },
      ],
    },
  ],
  kinds: [{ name: "ball", components: [0], named: false, template: [0, 0, 0, 0] }],
  events: [],
  input: [{ name: "keys", encoding: "U8", predicted: false, hint: "Plain" }],
};

/** Balls move by their velocity every tick: their flight costs nothing on the wire. */
const flight: Predictor = {
  moved(step: Step, kind: number, _base: readonly number[], next: number[]): void {
    if (kind !== 0) return;
    next[0] = (next[0] + Math.imul(next[2], step.ticks)) >>> 0;
    next[1] = (next[1] + Math.imul(next[3], step.ticks)) >>> 0;
  },
};

export function watch(snapshots: Uint8Array[]): { x: number; y: number } | null {
  const mirror = new WireMirror(new Schema(def), flight, 30);
  for (const bytes of snapshots) mirror.apply(bytes);
  const first = mirror.frame[0];
  if (!first || findEntity(mirror.frame, first.id) < 0) return null;
  const ball = mirror.component(first.id, "ball");
  return ball ? { x: ball.x, y: ball.y } : null;
}
