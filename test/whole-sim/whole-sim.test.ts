/**
 * The whole-node simulator (src/whole-sim/): a fixed budget of seeds at three nodes, and each
 * checker shown able to fail with a deliberate defect. A failing seed prints the command that
 * replays it with its trace.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { exploreWholeSeeds, formatWholeFailure } from "../../src/whole-sim/explore-whole.js";
import type { WholeUnsafeFault } from "../../src/whole-sim/whole-simulation.js";

const RUN = { nodes: 3, faultMs: 20_000, recoveryMs: 20_000 };

function explore(startSeed: number, seedCount: number, unsafe?: WholeUnsafeFault) {
  return exploreWholeSeeds({
    startSeed,
    seedCount,
    nodeCount: RUN.nodes,
    faultPhaseMs: RUN.faultMs,
    recoveryBoundMs: RUN.recoveryMs,
    stopOnFailure: true,
    ...(unsafe !== undefined ? { unsafe } : {}),
  });
}

describe("whole-node simulation", () => {
  test("three nodes through 20 s of faults: no double active, nothing acknowledged lost, whole again after the heal", async () => {
    const summary = await explore(1, 8);
    assert.deepEqual(
      summary.failures.map((failure) => formatWholeFailure(failure, RUN)),
      [],
    );
    assert.equal(summary.seeds, 8);
    assert.ok(summary.faults > 8 * 10, `faults were injected (${summary.faults})`);
  });

  test("a start hung past the lease is not stopped in time (seed 101: found by the simulator, not fixed yet)", {
    todo: "a start in flight cannot be cancelled at lease loss, and a live agent's guard waits",
  }, async () => {
    const summary = await explore(101, 1);
    assert.deepEqual(summary.failures, []);
  });

  for (const [unsafe, kind] of [
    ["no-guard", "double_active"],
    ["lose-disk", "acknowledged_change_lost"],
    ["no-restart-at-heal", "not_recovered"],
  ] as const) {
    test(`the ${kind} checker fails a run with the defect ${unsafe}`, async () => {
      const summary = await explore(1, 40, unsafe);
      const failure = summary.failures[0];
      assert.ok(failure !== undefined, `no seed of 40 failed with ${unsafe}`);
      assert.equal(
        failure.violation?.kind,
        kind,
        formatWholeFailure(failure, { ...RUN, wholeUnsafe: unsafe }),
      );
    });
  }
});
