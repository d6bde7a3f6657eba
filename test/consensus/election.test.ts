import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftNode } from "../../src/consensus/raft-node.js";
import type { PersistedState } from "../../src/consensus/types.js";
import {
  applyPersist,
  emptyPersisted,
  membershipOf,
  TestCluster,
  TIMING,
} from "./cluster-harness.js";

for (const size of [3, 5]) {
  test(`a ${size}-node cluster elects exactly one leader that everyone follows`, () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const ids = Array.from({ length: size }, (_, i) => i + 1);
      const cluster = new TestCluster({ ids, seed });
      const leader = cluster.waitForLeader();
      cluster.advance(1000);
      assert.equal(cluster.leader(), leader, `seed ${seed}: leadership is stable`);
      assert.deepEqual(cluster.leaders(), [leader]);
      const term = cluster.node(leader).term();
      for (const id of ids) {
        assert.equal(cluster.node(id).leaderId(), leader, `seed ${seed}: node ${id} follows`);
        assert.equal(cluster.node(id).term(), term);
      }
      for (const leadersOfTerm of cluster.leadersByTerm().values())
        assert.equal(leadersOfTerm.size, 1);
    }
  });
}

test("pre-vote: a partitioned node does not inflate terms or disrupt the leader on rejoin", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 7 });
  const leader = cluster.waitForLeader();
  const term = cluster.node(leader).term();
  const outsider = [1, 2, 3].find((id) => id !== leader)!;
  const outsiderTerm = cluster.node(outsider).term();
  cluster.isolate(outsider);
  cluster.advance(3000);
  assert.equal(cluster.node(outsider).term(), outsiderTerm, "pre-vote never bumps the term");
  assert.equal(cluster.node(outsider).role(), "pre_candidate");
  cluster.heal();
  cluster.advance(1000);
  assert.equal(cluster.leader(), leader);
  assert.equal(cluster.node(leader).term(), term, "the cluster's term is untouched");
  assert.equal(cluster.node(outsider).leaderId(), leader);
  assert.equal(cluster.eventsOf(leader, "stepped_down").length, 0);
});

test("check-quorum: an isolated leader steps down and the rest elect a new one", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 3 });
  const leader = cluster.waitForLeader();
  const term = cluster.node(leader).term();
  const isolatedAtMs = cluster.nowMs;
  cluster.isolate(leader);
  cluster.runUntil(() => cluster.node(leader).role() !== "leader", 1000);
  const steppedDownAfterMs = cluster.nowMs - isolatedAtMs;
  assert.ok(steppedDownAfterMs <= TIMING.electionTimeoutMinMs + TIMING.heartbeatIntervalMs + 5);
  assert.equal(cluster.eventsOf(leader, "quorum_lost").length, 1);
  const stepped = cluster.eventsOf(leader, "stepped_down");
  assert.equal(stepped.length, 1);
  assert.match((stepped[0]!.event as { reason: string }).reason, /check-quorum/);
  cluster.runUntil(() => cluster.leaders().some((id) => id !== leader), 2000);
  const next = cluster.leaders().find((id) => id !== leader)!;
  assert.ok(cluster.node(next).term() > term);
  assert.equal(cluster.node(leader).role(), "follower", "the old leader stays deposed");
});

test("restart from persisted state keeps the term and the vote: no second vote in a term", () => {
  const membership = membershipOf([1, 2, 3]);
  const store: PersistedState = emptyPersisted();
  const boot = (persisted: PersistedState, nowMs: number, forget = false) =>
    new RaftNode({
      id: 1,
      timing: TIMING,
      random: () => 0.5,
      persisted: structuredClone(persisted),
      initialMembership: membership,
      nowMs,
      unsafeTestFaults: { forgetVoteOnRestart: forget },
    });
  const request = {
    type: "request_vote",
    term: 5,
    preVote: false,
    lastLogIndex: 0,
    lastLogTerm: 0,
  } as const;
  const voter = boot(store, 0);
  const first = voter.receive(1000, 2, request);
  applyPersist(store, first);
  assert.deepEqual(
    first.persist.hardState,
    { term: 5, votedFor: 2 },
    "the vote is persisted with the answer",
  );
  assert.deepEqual(first.messages[0]?.message, {
    type: "vote",
    term: 5,
    preVote: false,
    granted: true,
  });

  const restarted = boot(store, 2000);
  assert.equal(restarted.term(), 5);
  // Start-up counts as leader contact, so wait out electionTimeoutMin before asking.
  const refused = restarted.receive(2000 + TIMING.electionTimeoutMinMs, 3, request);
  assert.deepEqual(refused.messages[0]?.message, {
    type: "vote",
    term: 5,
    preVote: false,
    granted: false,
  });
  const again = restarted.receive(2000 + TIMING.electionTimeoutMinMs, 2, request);
  assert.equal(
    (again.messages[0]!.message as { granted: boolean }).granted,
    true,
    "same candidate again is fine",
  );

  const forgetful = boot(store, 2000, true);
  const doubleVote = forgetful.receive(2000 + TIMING.electionTimeoutMinMs, 3, request);
  assert.equal(
    (doubleVote.messages[0]!.message as { granted: boolean }).granted,
    true,
    "the unsafe fault votes twice",
  );
});

test("a node does not vote while it hears from a live leader, nor adopt the newer term", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 11 });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const term = cluster.node(follower).term();
  const ready = cluster.node(follower).receive(cluster.nowMs, 99, {
    type: "request_vote",
    term: term + 10,
    preVote: false,
    lastLogIndex: 100,
    lastLogTerm: term + 9,
  });
  assert.equal(cluster.node(follower).term(), term);
  assert.deepEqual(ready.messages[0]?.message, {
    type: "vote",
    term,
    preVote: false,
    granted: false,
  });
});

test("a witness votes and stores the log but never stands for election", () => {
  const membership = membershipOf([1, 2, 3], { 3: { witness: true } });
  const cluster = new TestCluster({ ids: [1, 2, 3], membership, seed: 5 });
  cluster.setRandom(3, () => 0); // the witness times out first every time
  const first = cluster.waitForLeader();
  assert.notEqual(first, 3);
  cluster.propose(first, "x");
  cluster.advance(200);
  assert.equal(
    cluster.node(3).commitIndex(),
    cluster.node(first).commitIndex(),
    "the witness replicates",
  );
  cluster.crash(first);
  const second = cluster.waitForLeader();
  assert.equal(second, first === 1 ? 2 : 1, "the witness's vote elects the other node");
  cluster.restart(first);
  cluster.advance(300); // catch up, or the witness rightly refuses its out-of-date log
  cluster.crash(second);
  assert.equal(cluster.waitForLeader(), first);
  cluster.crash(first);
  cluster.advance(3000);
  assert.equal(cluster.node(3).role(), "follower", "alone, the witness still never campaigns");
  assert.ok(cluster.eventsOf(3, "became_leader").length === 0);
});

test("weighted votes: a 2-vote node and any peer are a quorum, the two 1-vote nodes are not", () => {
  const membership = membershipOf([1, 2, 3], { 1: { votes: 2 } });
  const withoutHeavy = new TestCluster({ ids: [1, 2, 3], membership, seed: 2 });
  withoutHeavy.crash(1);
  withoutHeavy.advance(3000);
  assert.deepEqual(withoutHeavy.leaders(), [], "2 of 4 votes is no majority");
  assert.equal(withoutHeavy.node(2).status(withoutHeavy.nowMs).votesNeeded, 3);

  const withoutLight = new TestCluster({ ids: [1, 2, 3], membership, seed: 2 });
  withoutLight.crash(3);
  const leader = withoutLight.waitForLeader();
  const index = withoutLight.propose(leader, "weighted");
  withoutLight.advance(100);
  assert.ok(withoutLight.node(leader).commitIndex() >= index, "3 of 4 votes commits");
});

test("election timers that fire together: the higher-numbered pre-candidate stands back, so one election elects and no lease runs out", () => {
  // Identical randomness: every election timer fires in the same millisecond. Both survivors
  // passed the pre-vote and split the real vote, and the followers' leases ran out waiting for
  // the next election (1.3% of leader crashes in a 1 ms-step search at the default timing).
  const followerLeaseMs = 600;
  const cluster = new TestCluster({
    ids: [1, 2, 3],
    timing: { ...TIMING, followerLeaseMs },
    randoms: { 1: () => 0.5, 2: () => 0.5, 3: () => 0.5 },
  });
  const first = cluster.waitForLeader(2000);
  assert.equal(first, 1, "the lowest-numbered of three simultaneous candidates");
  const term = cluster.node(first).status(cluster.nowMs).term;
  cluster.advance(200, 1);
  cluster.crash(first);
  let lowestLeaseLeftMs = Number.POSITIVE_INFINITY;
  cluster.runUntil(
    () => {
      for (const id of [2, 3]) {
        const until = cluster.node(id).status(cluster.nowMs).leaseUntilMs;
        lowestLeaseLeftMs = Math.min(
          lowestLeaseLeftMs,
          until === null ? -1 : until - cluster.nowMs,
        );
      }
      return cluster.leader() !== null;
    },
    2000,
    1,
  );
  assert.equal(cluster.leader(), 2);
  assert.equal(cluster.node(2).status(cluster.nowMs).term, term + 1, "elected in one election");
  assert.ok(lowestLeaseLeftMs > 0, `a follower's lease ran out (${lowestLeaseLeftMs} ms left)`);
});
