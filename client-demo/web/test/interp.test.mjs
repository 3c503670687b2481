// The interpolator: the tick it shows (what inputs send as their view tick, for lag
// compensation) and entities fading in and out as they enter and leave the area of interest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Interpolator } from "../js/interp.js";

const player = (x) => ({ kind: "Player", x: x * 256, y: 0 });

test("the view tick is the tick shown at the render time, rounded", () => {
  const i = new Interpolator(100);
  i.push(1000, 40, [[1, player(0)]]);
  i.push(1100, 43, [[1, player(30)]]);
  // Render time 1060: 60 % of the way from tick 40 to 43.
  assert.equal(i.viewTick(1160), 42);
  assert.equal(i.sample(1160).get(1).wx, 18);
  // Before anything arrived there is no view.
  assert.equal(new Interpolator(100).viewTick(5000), 0);
});

test("an entity that appears fades in where it is, one that leaves fades out where it was", () => {
  const i = new Interpolator(100);
  i.push(1000, 10, [[1, player(0)], [2, player(50)]]);
  i.push(1100, 11, [[1, player(10)], [3, player(90)]]);
  const s = i.sample(1125); // render time 1025: a quarter of the way from tick 10 to 11
  assert.equal(s.get(1).alpha, 1);
  assert.equal(s.get(3).alpha, 0.25, "entering: alpha grows with the blend");
  assert.equal(s.get(3).wx, 90, "no slide in from elsewhere");
  assert.equal(s.get(2).alpha, 0.75, "leaving: alpha falls");
  assert.equal(s.get(2).wx, 50);
});
