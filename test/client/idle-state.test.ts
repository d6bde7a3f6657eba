import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IdleState, reconnectDelayMs } from "../../src/client/idle-state.js";

describe("the client's idle timers (Netty's IdleStateHandler)", () => {
  const times = { readerIdleMs: 3000, writerIdleMs: 1000, allIdleMs: 5000 };

  test("writer-idle falls due a period after the last write, and again each period after", () => {
    const idle = new IdleState(times, 0);
    assert.equal(idle.nextDeadlineMs(), 1000);
    assert.deepEqual(idle.due(999), []);
    assert.deepEqual(idle.due(1000), ["writer_idle"]);
    assert.equal(idle.nextDeadlineMs(), 2000);
    idle.wrote(1500);
    assert.deepEqual(idle.due(2000), []);
    assert.deepEqual(idle.due(2500), ["writer_idle"]);
  });

  test("reads keep reader-idle away; writes alone do not", () => {
    const idle = new IdleState({ ...times, allIdleMs: 0 }, 0);
    for (let t = 900; t < 6000; t += 900) {
      idle.wrote(t);
      assert.deepEqual(idle.due(t).includes("reader_idle"), t >= 3000);
      if (t >= 3000) break;
    }
    const fresh = new IdleState({ ...times, allIdleMs: 0 }, 0);
    fresh.read(2000);
    assert.deepEqual(fresh.due(3000), ["writer_idle"]);
    assert.deepEqual(fresh.due(5000), ["reader_idle", "writer_idle"]);
  });

  test("all-idle needs both reads and writes to stop; 0 turns a timer off", () => {
    const idle = new IdleState({ readerIdleMs: 0, writerIdleMs: 0, allIdleMs: 2000 }, 0);
    idle.read(1500);
    assert.deepEqual(idle.due(2000), []);
    assert.deepEqual(idle.due(3500), ["all_idle"]);
    assert.equal(
      new IdleState({ readerIdleMs: 0, writerIdleMs: 0, allIdleMs: 0 }, 0).nextDeadlineMs(),
      null,
    );
    assert.throws(() => new IdleState({ ...times, readerIdleMs: -1 }, 0), /readerIdleMs must be 0/);
  });

  test("reconnect delays grow exponentially to the cap, jittered over the upper half", () => {
    const backoff = { baseMs: 100, maxMs: 5000 };
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((attempt) => reconnectDelayMs(attempt, backoff, () => 1)),
      [100, 200, 400, 800, 5000],
    );
    assert.deepEqual(
      [0, 1, 2, 10].map((attempt) => reconnectDelayMs(attempt, backoff, () => 0)),
      [50, 100, 200, 2500],
    );
  });
});
