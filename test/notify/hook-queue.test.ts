import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HookQueue, type QueuedEvent } from "../../src/notify/hook-queue.js";

const event = (n: number): QueuedEvent => ({
  id: `e${n}`,
  kind: "resource_started",
  atMs: n,
  source: "agent@a",
  stateVersion: n,
  detail: `event ${n}`,
});

const options = {
  limit: 10,
  retryMs: 1000,
  maxRetryMs: 3000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Drives the queue as the notifier does: the receiver fails the first `failures` tries. */
function drive(queue: HookQueue, failures: number): { received: string[]; triedAtMs: number[] } {
  const received: string[] = [];
  const triedAtMs: number[] = [];
  let nowMs = 0;
  let toFail = failures;
  for (let step = 0; step < 100; step++) {
    const next = queue.next(nowMs);
    if (next.kind === "idle") break;
    if (next.kind === "wait") {
      nowMs = next.untilMs;
      continue;
    }
    triedAtMs.push(nowMs);
    if (toFail > 0) {
      toFail--;
      queue.failed(nowMs);
    } else {
      received.push(next.event.id);
      queue.delivered();
    }
  }
  return { received, triedAtMs };
}

describe("a hook's queue", () => {
  test("a receiver that fails twice then works gets every event once, in order, after backing off", () => {
    const queue = new HookQueue(options);
    for (let n = 1; n <= 3; n++) queue.offer(event(n));
    const { received, triedAtMs } = drive(queue, 2);
    assert.deepEqual(received, ["e1", "e2", "e3"]);
    assert.deepEqual(triedAtMs, [0, 1000, 3000, 3000, 3000]);
    assert.deepEqual(queue.status(), {
      waiting: 0,
      delivered: 3,
      failedAttempts: 2,
      givenUp: 0,
      dropped: 0,
    });
  });

  test("backoff doubles up to its cap", () => {
    const queue = new HookQueue(options);
    queue.offer(event(1));
    const { triedAtMs } = drive(queue, 4);
    assert.deepEqual(triedAtMs, [0, 1000, 3000, 6000, 9000]);
  });

  test("one delivery at a time: nothing more while the head is on its way", () => {
    const queue = new HookQueue(options);
    queue.offer(event(1));
    queue.offer(event(2));
    assert.equal(queue.next(0).kind, "deliver");
    assert.equal(queue.next(0).kind, "idle");
  });

  test("overflow drops the oldest waiting event, never the one on its way, and counts it", () => {
    const queue = new HookQueue({ ...options, limit: 2 });
    queue.offer(event(1));
    assert.equal(queue.next(0).kind, "deliver");
    queue.offer(event(2));
    queue.offer(event(3));
    queue.delivered();
    const { received } = drive(queue, 0);
    assert.deepEqual(received, ["e3"]);
    assert.equal(queue.status().dropped, 1);
  });

  test("a run-once queue gives a failed event up and goes on", () => {
    const queue = new HookQueue({ ...options, maxAttempts: 1 });
    queue.offer(event(1));
    queue.offer(event(2));
    const { received } = drive(queue, 1);
    assert.deepEqual(received, ["e2"]);
    assert.equal(queue.status().givenUp, 1);
  });
});
