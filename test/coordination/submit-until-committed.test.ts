import assert from "node:assert/strict";
import { test } from "node:test";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { submitUntilCommitted } from "../../src/coordination/submit-until-committed.js";

/** A virtual clock that only moves when the retry loop sleeps. */
function virtualTime() {
  let nowMs = 1_000;
  const sleeps: number[] = [];
  return {
    clock: { nowMs: () => nowMs },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      nowMs += ms;
    },
    sleeps,
  };
}

function answers(...results: SubmitResult[]) {
  const calls: number[] = [];
  return {
    calls,
    submit: async (): Promise<SubmitResult> => {
      calls.push(calls.length);
      return results[Math.min(calls.length - 1, results.length - 1)]!;
    },
  };
}

const noLeader: SubmitResult = { ok: false, code: "no_leader", error: "no leader" };
const applied: SubmitResult = { ok: true, index: 7, version: 3 };

test("submitUntilCommitted retries while no leader answers, then returns the success", async () => {
  const time = virtualTime();
  const { submit, calls } = answers(noLeader, noLeader, applied);
  const result = await submitUntilCommitted(submit, { forMs: 1_000, retryMs: 100, ...time });
  assert.deepEqual(result, applied);
  assert.equal(calls.length, 3);
  assert.deepEqual(time.sleeps, [100, 100]);
});

test("submitUntilCommitted returns a rejection at once: the same command is refused again", async () => {
  const time = virtualTime();
  const rejected: SubmitResult = { ok: false, code: "rejected", error: "unknown resource" };
  const { submit, calls } = answers(rejected, applied);
  const result = await submitUntilCommitted(submit, { forMs: 1_000, retryMs: 100, ...time });
  assert.deepEqual(result, rejected);
  assert.equal(calls.length, 1);
  assert.deepEqual(time.sleeps, []);
});

test("submitUntilCommitted retries an unknown outcome and gives up by the injected clock's deadline", async () => {
  const time = virtualTime();
  const unknown: SubmitResult = { ok: false, code: "outcome_unknown", error: "no answer" };
  const { submit, calls } = answers(unknown);
  const result = await submitUntilCommitted(submit, { forMs: 1_000, retryMs: 300, ...time });
  assert.deepEqual(result, unknown);
  // Tries at 0, 300, 600 and 900 ms: another at 1200 would start past the deadline.
  assert.equal(calls.length, 4);
  assert.deepEqual(time.sleeps, [300, 300, 300]);
});
