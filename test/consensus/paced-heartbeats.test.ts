import assert from "node:assert/strict";
import { test } from "node:test";
import type { Envelope } from "../../src/consensus/types.js";
import { TestCluster, TIMING } from "./cluster-harness.js";

const INTERVAL = TIMING.heartbeatIntervalMs;

/** Appends the leader sent in one Ready (its heartbeats, when nothing is being replicated). */
function appendsIn(messages: readonly Envelope[]): number[] {
  return messages.filter((m) => m.message.type === "append_entries").map((m) => m.to);
}

/** One caller's beat on every node, an interval after the last. */
function beat(cluster: TestCluster): void {
  cluster.nowMs += INTERVAL;
  for (const [id, node] of cluster.nodes) {
    cluster.handle(id, node.heartbeat(cluster.nowMs));
    cluster.deliverAll();
  }
}

function pacedLeader(): { cluster: TestCluster; leader: number } {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 5, pacedHeartbeats: true });
  const leader = cluster.waitForLeader();
  for (let count = 0; count < 3; count++) beat(cluster);
  return { cluster, leader };
}

test("paced: the leader's appends leave when the caller's heartbeat does, to every follower", () => {
  const { cluster, leader } = pacedLeader();
  // Well past half an interval since the last broadcast (the node's own fallback is at 1.5).
  cluster.nowMs += INTERVAL;
  const ready = cluster.node(leader).heartbeat(cluster.nowMs);
  assert.deepEqual(
    appendsIn(ready.messages).sort(),
    [1, 2, 3].filter((id) => id !== leader),
  );
  // A second call within half an interval sends nothing more.
  cluster.handle(leader, ready);
  cluster.deliverAll();
  cluster.nowMs += INTERVAL / 2 - 1;
  assert.deepEqual(appendsIn(cluster.node(leader).heartbeat(cluster.nowMs).messages), []);
});

test("paced: the caller is the leader's only cadence; tick() sends no heartbeats of its own", () => {
  const { cluster, leader } = pacedLeader();
  const node = cluster.node(leader);
  const term = node.term();
  assert.equal(node.nextTickAtMs() > cluster.nowMs + INTERVAL * 2, true, "no heartbeat deadline");
  // Over an interval and a half of ticks (less than an election timeout: followers still follow).
  let appends = 0;
  for (let step = 0; step < (INTERVAL * 1.6) / 5; step++) {
    cluster.nowMs += 5;
    const ready = node.tick(cluster.nowMs);
    appends += appendsIn(ready.messages).length;
    cluster.handle(leader, ready);
    cluster.deliverAll();
  }
  assert.equal(appends, 0);
  // The caller's beats keep it leading for as long as they come.
  for (let count = 0; count < 20; count++) beat(cluster);
  assert.equal(cluster.leader(), leader);
  assert.equal(cluster.node(leader).term(), term);
});

test("paced: a caller's heartbeat on a follower only ticks it", () => {
  const { cluster, leader } = pacedLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const ready = cluster.node(follower).heartbeat(cluster.nowMs + 1);
  assert.deepEqual(ready.messages, []);
  assert.equal(cluster.node(follower).role(), "follower");
});
