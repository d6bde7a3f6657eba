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

test("every promise callback an event sets off, and what those queue in turn, runs before the next event", async () => {
  const world = new World();
  const ran: string[] = [];
  const chain = async (name: string, depth: number): Promise<void> => {
    for (let i = 0; i < depth; i++) await Promise.resolve();
    queueMicrotask(() => void Promise.resolve().then(() => ran.push(`${name} done`)));
  };
  world.at(WORLD_START_MS + 1, () => void chain("first", 5));
  world.at(WORLD_START_MS + 1, () => ran.push("second event"));
  world.at(WORLD_START_MS + 2, () => void chain("third", 50).then(() => ran.push("third then")));
  world.at(WORLD_START_MS + 2, () => ran.push("fourth event"));
  await world.runUntil(WORLD_START_MS + 10);
  assert.deepEqual(ran, ["first done", "second event", "third then", "third done", "fourth event"]);
  assert.equal(world.steps, 4);
});

test("an event that throws ends runUntil with its error", async () => {
  const world = new World();
  world.at(WORLD_START_MS + 1, () => {
    throw new Error("broken event");
  });
  await assert.rejects(world.runUntil(WORLD_START_MS + 10), /broken event/);
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
