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

/*
 * Seeds that once failed, replayed exactly as found. 394939875: node 1 led term 4 and had just
 * appended a membership change removing node 2 (index 51, held by nodes 1 and 5 only) when it
 * stepped down (check-quorum under the new membership), leaving nodes 2 and 5 with its follower
 * leases (to 9867 and 9859 ms). After the heal node 2 won term 5 at 9830 ms (votes of 3 and 4,
 * old membership), node 5 term 6 at 9851 ms (votes of 1 and 3; node 3 had not heard from node 2
 * yet), each keeping its follower lease and neither holding a leader lease: the checker took
 * that for two leaders' leases at once. Only leader leases are exclusive (lease.ts (2)).
 */
test("5-node seeds that once found two new leaders each keeping a follower lease stay clean", () => {
  for (const { seed, pacedHeartbeats } of [{ seed: 394_939_875, pacedHeartbeats: false }]) {
    assertExplorationClean(
      exploreSeeds({
        startSeed: seed,
        seedCount: 1,
        nodeCount: 5,
        faultPhaseMs: 20_000,
        pacedHeartbeats,
        createNode: createRaftNode,
      }),
    );
  }
});
