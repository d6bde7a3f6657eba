import assert from "node:assert/strict";
import { test } from "node:test";
import { InvariantError } from "../../src/invariant/invariant-error.js";
import { TestCluster } from "./cluster-harness.js";

const tie = { 1: () => 0, 2: () => 0, 3: () => 0.9 };

test("unsafeTestFaults.grantEveryVote lets two nodes lead the same term, which a node that sees both refuses", () => {
  const cluster = new TestCluster({
    ids: [1, 2, 3],
    randoms: tie,
    faults: { grantEveryVote: true },
  });
  assert.throws(() => cluster.advance(400), InvariantError);
  const doubled = [...cluster.leadersByTerm()].filter(([, leaders]) => leaders.size > 1);
  assert.ok(doubled.length > 0, "some term has two leaders");
  assert.deepEqual([...doubled[0]![1]].sort(), [1, 2]);
});

test("the same tie without the fault yields at most one leader per term", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], randoms: tie });
  cluster.advance(2000);
  assert.ok(cluster.leadersByTerm().size >= 1);
  for (const leaders of cluster.leadersByTerm().values()) assert.equal(leaders.size, 1);
});

test("unsafeTestFaults.commitWithoutQuorum commits on an isolated leader", () => {
  const cluster = new TestCluster({
    ids: [1, 2, 3],
    seed: 3,
    faults: { commitWithoutQuorum: true },
  });
  const leader = cluster.waitForLeader();
  cluster.advance(100);
  cluster.isolate(leader);
  const index = cluster.propose(leader, "unsafe");
  assert.equal(cluster.node(leader).commitIndex(), index);
  assert.deepEqual(cluster.applied.get(leader)!.payloads, ["unsafe"]);
});
