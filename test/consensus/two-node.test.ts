import assert from "node:assert/strict";
import { test } from "node:test";
import { twoNodePeerOf } from "../../src/consensus/two-node.js";
import type { Envelope } from "../../src/consensus/types.js";
import { membershipOf, TestCluster, TIMING } from "./cluster-harness.js";

/** Two voters in two-node mode, settled under a leader; returns the cluster and who is who. */
function settledPair(seed = 1) {
  const cluster = new TestCluster({ ids: [1, 2], seed, twoNodeFencing: true });
  const leader = cluster.waitForLeader();
  const follower = leader === 1 ? 2 : 1;
  cluster.propose(leader, "before");
  cluster.advance(200);
  return { cluster, leader, follower };
}

function committedPayloads(cluster: TestCluster, id: number): string[] {
  return cluster.applied.get(id)!.payloads;
}

test("two-node mode: nothing commits alone until the lost peer is fenced, then everything does", () => {
  const { cluster, leader, follower } = settledPair();
  cluster.crash(follower);
  cluster.propose(leader, "while fencing");
  cluster.advance(TIMING.electionTimeoutMaxMs * 3);
  assert.ok(!committedPayloads(cluster, leader).includes("while fencing"), "no majority yet");
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), false);

  assert.deepEqual(cluster.standIn(leader, follower), { accepted: true });
  cluster.advance(TIMING.heartbeatIntervalMs * 2);
  const survivor = cluster.leader();
  assert.equal(survivor, leader, "the survivor leads (re-elected with the stand-in's vote)");
  assert.ok(committedPayloads(cluster, leader).includes("while fencing"));
  cluster.propose(leader, "alone");
  cluster.advance(TIMING.leaseMs * 5);
  assert.ok(committedPayloads(cluster, leader).includes("alone"));
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), true, "its lease is renewed alone");
  assert.deepEqual(cluster.node(leader).status(cluster.nowMs).twoNode, {
    caughtUp: true,
    standIns: [follower],
  });
});

test("two-node mode: the follower of a fenced leader elects itself at once", () => {
  const { cluster, leader, follower } = settledPair(2);
  const term = cluster.node(follower).term();
  cluster.crash(leader);
  assert.deepEqual(cluster.standIn(follower, leader), { accepted: true });
  assert.equal(cluster.node(follower).role(), "leader", "no election timeout to wait for");
  assert.ok(cluster.node(follower).term() > term);
  cluster.propose(follower, "after");
  cluster.advance(10);
  assert.deepEqual(committedPayloads(cluster, follower), ["before", "after"]);
});

test("two-node mode: a peer heard again ends the stand-in, catches up, and may then stand in", () => {
  const { cluster, leader, follower } = settledPair(3);
  cluster.crash(follower);
  cluster.standIn(leader, follower);
  cluster.propose(leader, "solo-1");
  cluster.propose(leader, "solo-2");
  cluster.advance(100);
  assert.deepEqual(committedPayloads(cluster, leader), ["before", "solo-1", "solo-2"]);

  cluster.restart(follower);
  assert.equal(cluster.node(follower).status(cluster.nowMs).twoNode?.caughtUp, false);
  cluster.advance(TIMING.heartbeatIntervalMs * 4);
  assert.deepEqual(cluster.node(leader).status(cluster.nowMs).twoNode?.standIns, []);
  assert.equal(cluster.eventsOf(leader, "stand_in_ended").length, 1);
  assert.equal(cluster.node(follower).status(cluster.nowMs).twoNode?.caughtUp, true);
  assert.deepEqual(committedPayloads(cluster, follower), ["before", "solo-1", "solo-2"]);

  // With the peer back, commits need it again.
  cluster.isolate(follower);
  cluster.propose(leader, "needs-both");
  cluster.advance(TIMING.electionTimeoutMaxMs * 2);
  assert.ok(!committedPayloads(cluster, leader).includes("needs-both"));

  // Now the other way round: the first survivor is fenced, the returned one takes over.
  cluster.crash(leader);
  cluster.heal();
  assert.deepEqual(cluster.standIn(follower, leader), { accepted: true });
  cluster.propose(follower, "second-solo");
  cluster.advance(10);
  assert.deepEqual(committedPayloads(cluster, follower), [
    "before",
    "solo-1",
    "solo-2",
    "second-solo",
  ]);
});

test("two-node mode: a node that started while its peer was down never stands in", () => {
  const { cluster, leader, follower } = settledPair(4);
  cluster.crash(follower);
  cluster.standIn(leader, follower);
  cluster.propose(leader, "only-on-the-leader");
  cluster.advance(50);
  // The survivor dies too; the old follower comes back alone, with a log missing that entry.
  cluster.crash(leader);
  cluster.restart(follower);
  const refused = cluster.standIn(follower, leader);
  assert.equal(refused.accepted, false);
  assert.match(refused.reason ?? "", /not caught up/);
  cluster.advance(TIMING.electionTimeoutMaxMs * 4);
  assert.equal(cluster.node(follower).role() === "leader", false);
  assert.deepEqual(cluster.applied.get(follower)!.entries.length, 0, "it applies nothing alone");
});

test("two-node mode: a message sent while standing in for the recipient does not catch it up", () => {
  const { cluster, leader, follower } = settledPair(5);
  cluster.crash(follower);
  cluster.standIn(leader, follower);
  cluster.restart(follower);
  // The leader does not hear the returned follower yet (its answers are lost), so it keeps
  // standing in and committing alone: what the follower receives cannot prove it has it all.
  cluster.dropIf = (envelope) => envelope.from === follower;
  cluster.advance(TIMING.heartbeatIntervalMs * 3);
  cluster.propose(leader, "committed-alone");
  cluster.advance(TIMING.heartbeatIntervalMs);
  assert.equal(cluster.node(follower).status(cluster.nowMs).twoNode?.caughtUp, false);
  cluster.crash(leader);
  cluster.heal();
  assert.equal(cluster.standIn(follower, leader).accepted, false);
});

test("two-node mode: an append sent before the fence does not catch the next run up", () => {
  const { cluster, leader, follower } = settledPair(6);
  let beforeFence: Envelope | undefined;
  cluster.rewrite = (envelope) => {
    if (envelope.from === leader && envelope.message.type === "append_entries") {
      beforeFence = envelope;
    }
    return envelope;
  };
  cluster.advance(TIMING.heartbeatIntervalMs * 2);
  cluster.heal();
  assert.ok(beforeFence !== undefined);
  cluster.crash(follower);
  cluster.standIn(leader, follower);
  cluster.propose(leader, "committed-alone");
  cluster.advance(10);
  assert.ok(committedPayloads(cluster, leader).includes("committed-alone"));
  // A fence that reboots: the next run starts while that append is still on the wire, and hears
  // nothing newer yet. The append matches its log and the commit index in it, of the leader's
  // term — but it predates what the leader committed alone.
  cluster.restart(follower);
  cluster.dropIf = (envelope) => envelope.from === leader;
  cluster.advance(5);
  cluster.handle(
    follower,
    cluster.node(follower).receive(cluster.nowMs, leader, beforeFence.message),
  );
  assert.equal(cluster.node(follower).status(cluster.nowMs).twoNode?.caughtUp, false);
  cluster.crash(leader);
  cluster.heal();
  assert.equal(cluster.standIn(follower, leader).accepted, false);
});

test("stand-ins are refused outside two-node mode and for anyone but the peer", () => {
  const three = new TestCluster({ ids: [1, 2, 3], seed: 6, twoNodeFencing: true });
  const leader = three.waitForLeader();
  const other = leader === 1 ? 2 : 1;
  assert.match(three.standIn(leader, other).reason ?? "", /not this node's two-node peer/);

  const pair = new TestCluster({ ids: [1, 2], seed: 7 });
  const pairLeader = pair.waitForLeader();
  assert.match(pair.standIn(pairLeader, pairLeader === 1 ? 2 : 1).reason ?? "", /not in two-node/);
  assert.equal(pair.node(pairLeader).status(pair.nowMs).twoNode, undefined);
});

test("twoNodePeerOf: exactly two full voters of equal weight", () => {
  assert.equal(twoNodePeerOf(membershipOf([1, 2]), 1), 2);
  assert.equal(twoNodePeerOf(membershipOf([1, 2]), 3), null);
  assert.equal(twoNodePeerOf(membershipOf([1, 2, 3]), 1), null);
  assert.equal(twoNodePeerOf(membershipOf([1, 2], { 2: { witness: true } }), 1), null);
  assert.equal(twoNodePeerOf(membershipOf([1, 2], { 2: { votes: 2 } }), 1), null);
});
