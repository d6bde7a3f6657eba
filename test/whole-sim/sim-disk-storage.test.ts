/**
 * The simulated disk of the whole-node simulator (src/whole-sim/sim-disk-storage.ts): a crash
 * leaves what the real store would find, never losing an acknowledged write.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry } from "../../src/consensus/types.js";
import { SeededRandom } from "../../src/sim/random.js";
import { HostDisk } from "../../src/whole-sim/sim-disk-storage.js";
import { ProcessTime, World } from "../../src/whole-sim/world.js";

function entry(index: number, term = 1): LogEntry {
  return { index, term, body: { kind: "noop" } };
}

test("a crash mid-write keeps every acknowledged record; the write in flight is whole, absent or torn (reported once, at the next open)", async () => {
  const outcomes = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) {
    const world = new World();
    const disk = new HostDisk("alpha", { world, random: new SeededRandom(seed, "disk") });
    const time = new ProcessTime(world);
    const storage = disk.open(time);
    let acknowledged = 0;
    world.at(world.nowMs(), () => {
      void storage.apply({ append: [entry(1), entry(2)] }).then(() => {
        acknowledged = 2;
      });
    });
    await world.runUntil(world.nowMs() + 10);
    assert.equal(acknowledged, 2, `seed ${seed}: the first write was acknowledged`);
    world.at(world.nowMs(), () => {
      void storage.apply({ hardState: { term: 2, votedFor: 1 }, append: [entry(3, 2)] });
    });
    // Before its fsync (0.1 ms at the soonest) is acknowledged.
    world.at(world.nowMs() + 0.05, () => {
      time.end();
      disk.crash();
    });
    await world.runUntil(world.nowMs() + 10);

    const reopened = disk.open(new ProcessTime(world));
    const indexes = reopened.state().entries.map((e) => e.index);
    assert.deepEqual(indexes.slice(0, 2), [1, 2], `seed ${seed}: acknowledged entries kept`);
    const torn = reopened.droppedTornTail !== null;
    if (torn) assert.deepEqual(indexes, [1, 2], `seed ${seed}: a torn record is dropped`);
    outcomes.add(torn ? "torn" : indexes.length === 3 ? "whole" : "absent");
    assert.equal(disk.open(new ProcessTime(world)).droppedTornTail, null, "reported once");
  }
  assert.deepEqual([...outcomes].sort(), ["absent", "torn", "whole"]);
});

test("tear-acked (a deliberate defect) loses the last acknowledged record at a crash", async () => {
  const world = new World();
  const disk = new HostDisk("alpha", {
    world,
    random: new SeededRandom(1, "disk"),
    tearAcknowledged: true,
  });
  const storage = disk.open(new ProcessTime(world));
  world.at(world.nowMs(), () => void storage.apply({ append: [entry(1), entry(2)] }));
  await world.runUntil(world.nowMs() + 10);
  disk.crash();
  assert.deepEqual(
    disk
      .open(new ProcessTime(world))
      .state()
      .entries.map((e) => e.index),
    [1],
  );
});
