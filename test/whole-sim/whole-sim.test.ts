/**
 * The whole-node simulator (src/whole-sim/): a fixed budget of seeds at three nodes, and each
 * checker shown able to fail with a deliberate defect. A failing seed prints the command that
 * replays it with its trace.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { exploreWholeSeeds, formatWholeFailure } from "../../src/whole-sim/explore-whole.js";
import type { WholeSimMode, WholeUnsafeFault } from "../../src/whole-sim/whole-simulation.js";

const RUN = { mode: "quorum" as const, nodes: 3, faultMs: 20_000, recoveryMs: 20_000 };

function explore(
  startSeed: number,
  seedCount: number,
  unsafe?: WholeUnsafeFault,
  mode: WholeSimMode = RUN.mode,
) {
  return exploreWholeSeeds({
    startSeed,
    seedCount,
    mode,
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

  // Seeds that found defects, each fixed in src/takeover/local-resources.ts.
  for (const [seed, defect] of [
    [1250, "a stop after the lease ended waited for its report to commit before the next stop"],
    [1045, "a key stayed busy while its start's report waited for a commit, so no stop took it"],
    [1143, "a start in flight when the lease ended ran on to its timeout (now cancelled)"],
    [101, "a hung start outlived the lease (now cancelled at the lease's margin)"],
    [2420, "a node acted on its older state after its own report had moved the leader on"],
    [11410, "a report resent across a lease gap committed after the probe that followed it"],
    [6, "a standing instruction started a group member before the member it follows"],
    [21222, "a leader paused before its lease ended kept its resources until its guard acted"],
  ] as const) {
    test(`seed ${seed}: ${defect}`, async () => {
      const summary = await explore(seed, 1);
      assert.deepEqual(
        summary.failures.map((failure) => formatWholeFailure(failure, RUN)),
        [],
      );
    });
  }

  test("fencing mode, seed 159: a fence's record committed late released the run that came back after it", async () => {
    const summary = await explore(159, 1, undefined, "fencing");
    assert.deepEqual(
      summary.failures.map((failure) => formatWholeFailure(failure, { ...RUN, mode: "fencing" })),
      [],
    );
  });

  test("fencing mode and two-node mode: a fixed budget, with fences", async () => {
    let fences = 0;
    for (const mode of ["fencing", "two-node"] as const) {
      const summary = await explore(1, 3, undefined, mode);
      assert.deepEqual(
        summary.failures.map((failure) => formatWholeFailure(failure, { ...RUN, mode })),
        [],
      );
      fences += summary.fences;
    }
    assert.ok(fences > 0, "nodes were fenced");
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
