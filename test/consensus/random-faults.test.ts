import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry, NodeId } from "../../src/consensus/types.js";
import { membershipOf, mulberry32, TestCluster } from "./cluster-harness.js";

interface Shape {
  ids: NodeId[];
  witness?: NodeId;
}

const FIVE: Shape = { ids: [1, 2, 3, 4, 5] };
/** Two nodes and a witness: the last fault leaves one of the two down for good. */
const WITNESSED_PAIR: Shape = { ids: [1, 2, 3], witness: 3 };

/** Crashes, restarts, partitions and proposals from a seed; checks Raft's safety properties. */
function runChaos(seed: number, shape: Shape = FIVE): TestCluster {
  const { ids, witness } = shape;
  const membership =
    witness === undefined ? undefined : membershipOf(ids, { [witness]: { witness: true } });
  const cluster = new TestCluster({ ids, membership, seed, maxEntriesPerMessage: 4 });
  const random = mulberry32(seed * 7919);
  const pick = () => ids[Math.floor(random() * ids.length)]!;
  const committedAt = new Map<number, LogEntry>();
  let proposals = 0;
  for (let round = 0; round < 120; round++) {
    const roll = random();
    if (roll < 0.08 && cluster.down.size < 2) cluster.crash(pick());
    else if (roll < 0.16 && cluster.down.size > 0) cluster.restart([...cluster.down][0]!);
    else if (roll < 0.22) cluster.isolate(pick(), pick());
    else if (roll < 0.3) cluster.heal();
    else if (roll < 0.36) {
      // Lossy links for a while: drop a third of the messages.
      const lossy = mulberry32(round);
      cluster.dropIf = () => lossy() < 0.33;
    } else if (roll < 0.42) {
      const id = pick();
      const node = cluster.nodes.get(id);
      if (node !== undefined) {
        const data = JSON.stringify(cluster.applied.get(id)!.payloads);
        const meta = {
          lastIncludedIndex: node.commitIndex(),
          lastIncludedTerm: 0,
          membership: { members: [] },
        };
        cluster.handle(id, node.compact(cluster.nowMs, { meta, data }));
      }
    }
    for (const id of cluster.leaders()) {
      const result = cluster
        .node(id)
        .propose(cluster.nowMs, { kind: "command", payload: `${seed}-${proposals++}` });
      if (result.ok) cluster.handle(id, result.ready);
    }
    for (let ms = 0; ms < 50; ms += 5) {
      cluster.advance(5);
      const leasing = cluster.leaders().filter((id) => cluster.node(id).holdsLease(cluster.nowMs));
      assert.ok(
        leasing.length <= 1,
        `seed ${seed}: two leaders hold leases at ${cluster.nowMs}: ${leasing}`,
      );
    }
    for (const id of ids) {
      for (const entry of cluster.applied.get(id)!.entries) {
        const known = committedAt.get(entry.index);
        if (known === undefined) committedAt.set(entry.index, entry);
        else
          assert.deepEqual(
            entry,
            known,
            `seed ${seed}: node ${id} applied a different entry ${entry.index}`,
          );
      }
    }
  }
  for (const [term, leaders] of cluster.leadersByTerm()) {
    assert.equal(leaders.size, 1, `seed ${seed}: term ${term} had leaders ${[...leaders]}`);
  }
  // Heal everything: the cluster converges. With a witness, one of the two that can lead stays
  // down (the leader, if there is one): the other must be elected with every committed entry.
  for (const id of [...cluster.down]) cluster.restart(id);
  let lost: NodeId | undefined;
  if (witness !== undefined) {
    lost = cluster.leaders()[0] ?? ids.find((id) => id !== witness)!;
    cluster.crash(lost);
  }
  cluster.heal();
  const leader: NodeId = cluster.waitForLeader(5000);
  const last = cluster.propose(leader, "final");
  cluster.advance(500);
  const finalPayloads = cluster.applied.get(leader)!.payloads;
  if (lost !== undefined) {
    const lostApplied = cluster.applied.get(lost)!.payloads;
    assert.deepEqual(
      finalPayloads.slice(0, lostApplied.length),
      lostApplied,
      `seed ${seed}: what node ${lost} applied before it was lost`,
    );
  }
  for (const id of ids.filter((id) => id !== lost)) {
    assert.equal(cluster.node(id).commitIndex(), last, `seed ${seed}: node ${id} converged`);
    assert.deepEqual(
      cluster.applied.get(id)!.payloads,
      finalPayloads,
      `seed ${seed}: node ${id} state`,
    );
  }
  return cluster;
}

test("random crashes, partitions and loss keep Raft's safety properties and converge", () => {
  for (let seed = 1; seed <= 25; seed++) runChaos(seed);
});

test("two nodes and a witness: after random faults, the survivor of a lost node is elected with every committed entry", () => {
  for (let seed = 1; seed <= 200; seed++) runChaos(seed, WITNESSED_PAIR);
});

test("runs are deterministic: the same seed gives the same history", () => {
  const a = runChaos(99);
  const b = runChaos(99);
  assert.deepEqual(a.events, b.events);
  assert.deepEqual([...a.stores], [...b.stores]);
});
