import { test } from "node:test";
import { assertExplorationClean, exploreSeeds } from "../../src/sim/explore.js";
import { createRaftNode } from "../../src/sim/raft-factory.js";

/*
 * Two-node mode's share of the fixed seed budget (see seeds-3-nodes.test.ts): two voters, and
 * fences at any moment — after a real failure or on a false suspicion — each followed by the
 * fencer's stand-in for its peer, often by a quick reboot of the fenced node and then a fence
 * from its new run. About 3 s on one core; `npm run sim -- --two-node --seeds N` searches deeper.
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

/*
 * Seeds that once failed, replayed exactly as found. 806389480: node 2 fenced node 1, which
 * rebooted at once; its new run took an append sent before the fence as proof it had caught up,
 * while node 2 went on committing index 13 alone; the new run then fenced node 2 and led term 2
 * without index 13 (two-node.ts (2): only a message that echoes an answer of the run counts).
 */
test("two-node seeds that once committed two entries at one index stay clean", () => {
  for (const { seed, pacedHeartbeats } of [{ seed: 806_389_480, pacedHeartbeats: false }]) {
    assertExplorationClean(
      exploreSeeds({
        startSeed: seed,
        seedCount: 1,
        nodeCount: 2,
        twoNodeFencing: true,
        faultPhaseMs: 20_000,
        pacedHeartbeats,
        createNode: createRaftNode,
      }),
    );
  }
});
