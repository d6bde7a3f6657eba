import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftNode } from "../../src/consensus/raft-node.js";
import type { Envelope } from "../../src/consensus/types.js";
import { emptyPersisted, membershipOf, TestCluster, TIMING } from "./cluster-harness.js";

const INTERVAL = TIMING.heartbeatIntervalMs;

/** Appends the leader sent in one Ready (its heartbeats, when nothing is being replicated). */
function appendsIn(messages: readonly Envelope[]): number[] {
  return messages.filter((m) => m.message.type === "append_entries").map((m) => m.to);
}

function pacedLeader(): { cluster: TestCluster; leader: number } {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 5, pacedHeartbeats: true });
  const leader = cluster.waitForLeader();
  cluster.advance(INTERVAL * 3);
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

test("paced: without the caller, the node's own heartbeat comes after 1.5 intervals and keeps the lead", () => {
  const { cluster, leader } = pacedLeader();
  const sentAt: number[] = [];
  const term = cluster.node(leader).term();
  for (let step = 0; step < 200; step++) {
    cluster.nowMs += 5;
    const node = cluster.node(leader);
    if (node.nextTickAtMs() > cluster.nowMs) continue;
    const ready = node.tick(cluster.nowMs);
    if (appendsIn(ready.messages).length > 0) sentAt.push(cluster.nowMs);
    cluster.handle(leader, ready);
    cluster.deliverAll();
  }
  const gaps = sentAt.slice(1).map((at, index) => at - sentAt[index]!);
  assert.ok(gaps.length >= 5, `heartbeats were sent: ${sentAt.join(", ")}`);
  for (const gap of gaps) assert.equal(gap, INTERVAL * 1.5);
  assert.equal(cluster.node(leader).term(), term);
  assert.equal(cluster.leader(), leader);
});

test("paced: a caller's heartbeat on a follower only ticks it", () => {
  const { cluster, leader } = pacedLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const ready = cluster.node(follower).heartbeat(cluster.nowMs + 1);
  assert.deepEqual(ready.messages, []);
  assert.equal(cluster.node(follower).role(), "follower");
});

test("paced heartbeats whose fallback would reach the election timeout are refused", () => {
  assert.throws(
    () =>
      new RaftNode({
        id: 1,
        timing: { ...TIMING, heartbeatIntervalMs: 100, electionTimeoutMinMs: 150 },
        random: () => 0.5,
        persisted: emptyPersisted(),
        initialMembership: membershipOf([1, 2, 3]),
        nowMs: 0,
        pacedHeartbeats: true,
      }),
    /fallback heartbeat \(1.5 × heartbeatIntervalMs = 150 ms\) must be below electionTimeoutMinMs \(150\)/,
  );
});
