import assert from "node:assert/strict";
import { test } from "node:test";
import { HostClock, ProcessTime, WORLD_START_MS, World } from "../../src/whole-sim/world.js";

test("a paused process runs what came due at its resume, in order; never what was cancelled first, nor anything once ended", async () => {
  const world = new World();
  const time = new ProcessTime(world);
  const ran: string[] = [];
  let cancelB = () => {};
  time.after(10, () => {
    ran.push(`a@${world.nowMs() - WORLD_START_MS}`);
    // Runs first at the resume and cancels b, which came due during the pause too.
    cancelB();
  });
  cancelB = time.after(20, () => ran.push("b"));
  time.after(30, () => ran.push(`c@${world.nowMs() - WORLD_START_MS}`));
  world.at(WORLD_START_MS + 5, () => time.pause());
  world.at(WORLD_START_MS + 50, () => time.resume());
  await world.runUntil(WORLD_START_MS + 100);
  assert.deepEqual(ran, ["a@50", "c@50"]);

  time.after(10, () => ran.push("after the end"));
  time.end();
  await world.runUntil(WORLD_START_MS + 200);
  assert.deepEqual(ran, ["a@50", "c@50"]);
});

test("a host clock runs at its rate from its offset, and a process's timers follow it", async () => {
  const world = new World();
  const clock = new HostClock(world, 1.25, -500);
  const time = new ProcessTime(world, clock);
  assert.equal(clock.nowMs(), WORLD_START_MS - 500);
  const firedAtWorldMs: number[] = [];
  time.after(1000, () => firedAtWorldMs.push(world.nowMs() - WORLD_START_MS));
  await world.runUntil(WORLD_START_MS + 2000);
  // 1000 ms of a clock running 1.25 times as fast pass in 800 ms of the world.
  assert.deepEqual(firedAtWorldMs, [800]);
  assert.equal(time.nowMs(), WORLD_START_MS - 500 + 2500);
  assert.equal(clock.worldTimeAt(clock.nowMs() + 250), WORLD_START_MS + 2200);
});
