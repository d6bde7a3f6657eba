import assert from "node:assert/strict";
import { test } from "node:test";
import { InvariantError } from "../../src/invariant/invariant-error.js";
import { InProcessCluster } from "./in-process-cluster.js";

test("a Raft message contradicting a committed entry reaches the coordinator's caller as a broken invariant", async () => {
  const broken: Array<{ nodeId: number; error: Error }> = [];
  const cluster = await InProcessCluster.start({
    onInvariantBroken: (nodeId, error) => broken.push({ nodeId, error }),
  });
  try {
    const [target, ...others] = [...cluster.coordinators.keys()];
    const coordinator = cluster.coordinators.get(target!)!;
    const status = await cluster.runUntil("commit of index 1 on the target", () => {
      const now = coordinator.status();
      return now.commitIndex >= 1 ? now : undefined;
    });
    // A leader of a newer term whose first entry is not the one committed at index 1.
    const term = status.term + 1;
    coordinator.receive(others[0]!, {
      kind: "raft",
      message: {
        type: "append_entries",
        term,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ index: 1, term, body: { kind: "noop" } }],
        leaderCommit: 1,
        sentAtMs: 0,
      },
    });
    await cluster.runUntil("report of the broken invariant", () => broken.length > 0 || undefined);
    assert.equal(broken.length, 1);
    assert.equal(broken[0]!.nodeId, target);
    assert.ok(broken[0]!.error instanceof InvariantError);
  } finally {
    await cluster.stop();
  }
});
