import assert from "node:assert/strict";
import { test } from "node:test";
import type { UnsafeTestFaults } from "../../src/sim/consensus-node.js";
import { formatFailure } from "../../src/sim/explore.js";
import { createRaftNode } from "../../src/sim/raft-factory.js";
import { runSimulation, type SimResult } from "../../src/sim/simulation.js";
import type { ViolationKind } from "../../src/sim/violation.js";

/*
 * The checkers' own test: give the Raft core one deliberate bug at a time and require that some
 * seed within the budget exposes it as the kind of violation that bug must cause.
 */
const SEED_BUDGET = 300;

const cases: Array<{
  fault: keyof UnsafeTestFaults;
  expected: ViolationKind[];
  twoNode?: boolean;
}> = [
  {
    fault: "grantEveryVote",
    expected: ["election_safety", "durable_vote", "committed_entry_changed"],
  },
  { fault: "forgetVoteOnRestart", expected: ["durable_vote", "election_safety"] },
  { fault: "commitWithoutQuorum", expected: ["committed_entry_changed", "state_machine"] },
  {
    fault: "standInBeforeCaughtUp",
    expected: ["election_safety", "committed_entry_changed", "state_machine"],
    twoNode: true,
  },
  {
    fault: "catchUpFromStaleMessage",
    expected: ["committed_entry_changed", "state_machine"],
    twoNode: true,
  },
];

for (const { fault, expected, twoNode } of cases) {
  test(`unsafe fault ${fault} is caught as ${expected.join(" or ")}`, () => {
    const options = {
      nodeCount: twoNode === true ? 2 : 3,
      faultPhaseMs: 12_000,
      createNode: createRaftNode,
      unsafeTestFaults: { [fault]: true },
      ...(twoNode === true ? { twoNodeFencing: true } : {}),
    };
    let caught: SimResult | undefined;
    const otherKinds: string[] = [];
    for (let seed = 1; seed <= SEED_BUDGET && caught === undefined; seed++) {
      const result = runSimulation({ ...options, seed });
      if (result.violation === null) continue;
      if (expected.includes(result.violation.kind)) caught = result;
      else otherKinds.push(`seed ${seed}: ${result.violation.kind}`);
    }
    assert.ok(
      caught !== undefined,
      `no ${expected.join("/")} violation in seeds 1..${SEED_BUDGET}; other failures: ${otherKinds.slice(0, 5).join(", ") || "none"}`,
    );
    const report = formatFailure(caught);
    assert.match(
      report,
      new RegExp(`^seed ${caught.seed} \\(${options.nodeCount} nodes\\) FAILED`),
    );
    assert.match(report, new RegExp(`--replay ${caught.seed} `));
    // The failure replays exactly from its seed.
    const replay = runSimulation({ ...options, seed: caught.seed });
    assert.deepEqual(replay.violation, caught.violation);
    assert.equal(replay.traceDigest, caught.traceDigest);
  });
}
