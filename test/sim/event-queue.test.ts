import assert from "node:assert/strict";
import { test } from "node:test";
import { EventQueue } from "../../src/sim/event-queue.js";
import { SeededRandom } from "../../src/sim/random.js";

test("events come out by time, and in insertion order at equal times", () => {
  const queue = new EventQueue<string>();
  queue.push(20, "c");
  queue.push(10, "a");
  queue.push(20, "d");
  queue.push(10, "b");
  queue.push(5, "first");
  const order: string[] = [];
  for (let item = queue.pop(); item !== undefined; item = queue.pop()) order.push(item.event);
  assert.deepEqual(order, ["first", "a", "b", "c", "d"]);
  assert.equal(queue.size, 0);
});

test("a large random workload pops in (time, sequence) order", () => {
  const random = new SeededRandom(3, "queue");
  const queue = new EventQueue<number>();
  for (let i = 0; i < 5_000; i++) queue.push(random.int(0, 100), i);
  let previous = { atMs: -1, sequence: -1 };
  for (let item = queue.pop(); item !== undefined; item = queue.pop()) {
    const ordered =
      item.atMs > previous.atMs ||
      (item.atMs === previous.atMs && item.sequence > previous.sequence);
    assert.ok(ordered, `out of order: ${JSON.stringify(previous)} then ${JSON.stringify(item)}`);
    assert.equal(item.event, item.sequence);
    previous = item;
  }
});

test("a non-finite time is refused", () => {
  assert.throws(() => new EventQueue<number>().push(Number.NaN, 1), /time must be finite/);
});
