import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  OperationRequest,
  OperationResult,
  OperationRunner,
} from "../../src/resources/executor/operation.js";
import type { HeldResource } from "../../src/watchdog/guard-protocol.js";
import { releaseHeld } from "../../src/watchdog/release.js";

/** An executor that answers every operation at once, as told, and records them in order. */
function recordingExecutor(outcomes: Partial<Record<string, OperationResult["outcome"]>> = {}) {
  const calls: string[] = [];
  const executor: OperationRunner = {
    run: async (resourceId: string, request: OperationRequest): Promise<OperationResult> => {
      calls.push(`${request.operation} ${resourceId} ${request.timeoutMs}`);
      return {
        resourceId,
        operation: request.operation,
        outcome: outcomes[`${request.operation} ${resourceId}`] ?? "success",
        exitCode: 0,
        startedAtMs: 0,
        durationMs: 0,
        stderrTail: "",
      };
    },
  };
  return { calls, executor };
}

const held = (key: string, extra: Partial<HeldResource> = {}): HeldResource => ({
  key,
  agent: { kind: "ocf", name: "pacemaker/Stateful" },
  params: {},
  timeoutMs: 2000,
  ...extra,
});

test("the guard demotes a promotable copy before it stops it, and stops it even when the demote fails", async () => {
  const { calls, executor } = recordingExecutor({ "demote db:1": "failed" });
  const outcome = await releaseHeld({
    held: [
      held("db:0", { demoteTimeoutMs: 3000 }),
      held("web"),
      held("db:1", { demoteTimeoutMs: 500 }),
    ],
    releaseByMs: null,
    clock: () => 0,
    log: () => {},
    executor,
  });
  assert.deepEqual(outcome, { ok: true, problems: [] });
  assert.deepEqual(calls, [
    "demote db:0 3000",
    "stop db:0 2000",
    "stop web 2000",
    "demote db:1 500",
    "stop db:1 2000",
  ]);
});

test("a demote gets no more than the time left before the lease's end and its grace", async () => {
  const { calls, executor } = recordingExecutor();
  let nowMs = 0;
  await releaseHeld({
    held: [held("db:0", { demoteTimeoutMs: 20_000 })],
    releaseByMs: 700,
    clock: () => nowMs,
    log: () => {},
    executor: {
      run: async (id, request) => {
        const result = await executor.run(id, request);
        nowMs += 100;
        return result;
      },
    },
  });
  assert.deepEqual(calls, ["demote db:0 700", "stop db:0 600"]);
});
