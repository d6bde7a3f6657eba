import { test } from "node:test";
import { assertExplorationClean, exploreSeeds } from "../../src/sim/explore.js";
import { createRaftNode } from "../../src/sim/raft-factory.js";

/*
 * Two-node mode's share of the fixed seed budget (see seeds-3-nodes.test.ts): two voters, and
 * fences at any moment — after a real failure or on a false suspicion — each followed by the
 * fencer's stand-in for its peer. About 3 s on one core; `npm run sim -- --two-node --seeds N`
 * searches deeper.
 */
test("two-node clusters with fencing keep every invariant over 3000 seeds", () => {
  assertExplorationClean(
    exploreSeeds({
      startSeed: 2_000_001,
      seedCount: 3000,
      nodeCount: 2,
      twoNodeFencing: true,
      faultPhaseMs: 12_000,
      createNode: createRaftNode,
      stopOnFailure: false,
    }),
  );
});
