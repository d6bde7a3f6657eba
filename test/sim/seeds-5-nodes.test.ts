import { test } from "node:test";
import { assertExplorationClean, exploreSeeds } from "../../src/sim/explore.js";
import { createRaftNode } from "../../src/sim/raft-factory.js";

/* The 5-node half of the fixed seed budget (see seeds-3-nodes.test.ts); about 15 s on one core. */
test("5-node clusters keep every invariant over 1000 seeds", () => {
  assertExplorationClean(
    exploreSeeds({
      startSeed: 1_000_001,
      seedCount: 1000,
      nodeCount: 5,
      faultPhaseMs: 12_000,
      createNode: createRaftNode,
      stopOnFailure: false,
    }),
  );
});
