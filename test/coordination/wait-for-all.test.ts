import assert from "node:assert/strict";
import { test } from "node:test";
import { InProcessCluster } from "./in-process-cluster.js";

/**
 * wait_for_all holds back a run until it has seen every node, or until it follows a leader a
 * quorum elected: then it joined a cluster already past its cold start. Nodes 1 and 2 started
 * while node 3 was away (they never saw it since); node 3 saw everyone and leads. Once node 3 is
 * lost for good, 1 and 2 must still be able to elect one of them.
 */
test("runs that follow a leader may campaign once it is gone, though they never saw every node", async () => {
  const cluster = await InProcessCluster.start({ unseen: (id) => (id === 3 ? [] : [3]) });
  try {
    const status = (id: number) => cluster.coordinators.get(id)!.status();
    assert.equal(status(1).waitingForAll, true);
    await cluster.runUntil("node 3 leading, followed by 1 and 2", () =>
      status(1).leaderId === 3 && status(2).leaderId === 3 ? true : undefined,
    );
    assert.equal(status(1).waitingForAll, false, "node 1 follows a leader a quorum elected");
    assert.equal(status(2).waitingForAll, false);
    await cluster.coordinators.get(3)!.stop();
    cluster.coordinators.delete(3);
    const leader = await cluster.runUntil("a leader among 1 and 2", () => {
      const leaders = [1, 2].filter((id) => status(id).role === "leader");
      return leaders.length === 1 ? leaders[0] : undefined;
    });
    assert.ok(leader === 1 || leader === 2);
  } finally {
    await cluster.stop();
  }
});

test("an operator's unblock lets a waiting run stand for election; nobody else can", async () => {
  const everyoneElse = (id: number) => [1, 2, 3].filter((other) => other !== id);
  const cluster = await InProcessCluster.start({ unseen: everyoneElse });
  try {
    const status = (id: number) => cluster.coordinators.get(id)!.status();
    await cluster.runFor(3000);
    assert.deepEqual(
      [1, 2, 3].map((id) => status(id).role),
      ["follower", "follower", "follower"],
      "no run stands for election while it waits",
    );
    assert.deepEqual(cluster.coordinators.get(1)!.stopWaitingForAll(), [2, 3]);
    assert.deepEqual(cluster.coordinators.get(1)!.stopWaitingForAll(), [], "once is enough");
    await cluster.runUntil("node 1 leading", () =>
      status(1).role === "leader" && status(2).leaderId === 1 ? true : undefined,
    );
  } finally {
    await cluster.stop();
  }
});
