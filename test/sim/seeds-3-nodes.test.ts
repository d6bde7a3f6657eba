import { test } from "node:test";
import { assertExplorationClean, exploreSeeds } from "../../src/sim/explore.js";
import { createRaftNode } from "../../src/sim/raft-factory.js";

/*
 * The fixed seed budget (with seeds-5-nodes.test.ts, which the runner can run alongside): each
 * run is a 12 s storm of faults (crashes, restarts, pauses, partitions, one-way cuts, loss, slow
 * links, client traffic), then a heal, with every invariant checked after every step. About 20 s
 * on one core; `npm run sim -- --seeds 100000` searches deeper. A failure report starts with the
 * seeds to replay.
 */
test("3-node clusters keep every invariant over 3000 seeds", () => {
  assertExplorationClean(
    exploreSeeds({
      startSeed: 1,
      seedCount: 3000,
      nodeCount: 3,
      faultPhaseMs: 12_000,
      createNode: createRaftNode,
      stopOnFailure: false,
    }),
  );
});
