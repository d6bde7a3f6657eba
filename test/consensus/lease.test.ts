import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftNode } from "../../src/consensus/raft-node.js";
import { emptyPersisted, membershipOf, TestCluster, TIMING } from "./cluster-harness.js";

const LEASE_BOUND_MS = TIMING.leaseMs * (1 + TIMING.driftRatio);

test("the constructor rejects a lease that could outlive the next election", () => {
  assert.throws(
    () =>
      new RaftNode({
        id: 1,
        timing: { ...TIMING, leaseMs: 140 }, // 140 × 1.1 = 154 > 150
        random: () => 0,
        persisted: emptyPersisted(),
        initialMembership: membershipOf([1]),
        nowMs: 0,
      }),
    /leaseMs × \(1 \+ driftRatio\).*exceeds electionTimeoutMinMs.*at most 136 ms/,
  );
});

test("a leader holds its lease only once a quorum has answered, and loses it when cut off", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 17 });
  cluster.dropIf = (e) => e.message.type === "append_response";
  const leader = cluster.waitForLeader();
  cluster.advance(40);
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), false, "no answers, no lease");
  assert.equal(cluster.node(leader).status(cluster.nowMs).leaseUntilMs, null);
  cluster.heal();
  cluster.advance(TIMING.heartbeatIntervalMs);
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), true);
  assert.equal(cluster.eventsOf(leader, "lease_acquired").length, 1);

  cluster.advance(100);
  const isolatedAtMs = cluster.nowMs;
  const untilMs = cluster.node(leader).status(cluster.nowMs).leaseUntilMs!;
  assert.ok(untilMs <= isolatedAtMs + TIMING.leaseMs && untilMs > isolatedAtMs);
  cluster.isolate(leader);
  cluster.runUntil(() => !cluster.node(leader).holdsLease(cluster.nowMs), 1000, 1);
  assert.equal(cluster.nowMs, untilMs, "the lease ends exactly at its deadline");
  assert.equal(cluster.node(leader).role(), "leader", "the lease ends before check-quorum fires");
  const lost = cluster.eventsOf(leader, "lease_lost");
  assert.deepEqual(lost.at(-1)?.event, { type: "lease_lost", reason: "lease expired" });
});

test("followers lease from their own echoed answer; the leader's bound covers it, drift included", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 23 });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  cluster.advance(200);
  assert.equal(cluster.node(follower).holdsLease(cluster.nowMs), true);
  const isolatedAtMs = cluster.nowMs;
  cluster.isolate(follower);
  assert.equal(cluster.node(leader).leaseSurelyExpired(follower, cluster.nowMs), false);
  cluster.runUntil(() => cluster.node(leader).leaseSurelyExpired(follower, cluster.nowMs), 1000, 1);
  const surelyAtMs = cluster.nowMs;
  // The last answer arrived at most one heartbeat before isolation.
  assert.ok(surelyAtMs > isolatedAtMs - TIMING.heartbeatIntervalMs + LEASE_BOUND_MS);
  assert.ok(surelyAtMs <= isolatedAtMs + LEASE_BOUND_MS + 1);
  const followerLostAt = cluster.eventsOf(follower, "lease_lost").at(-1)?.atMs;
  assert.ok(followerLostAt !== undefined, "the follower's lease ran out without leader contact");
  assert.ok(followerLostAt < surelyAtMs, "…before the leader assumed so");
  assert.equal(cluster.node(follower).holdsLease(cluster.nowMs), false);
});

test("for a node that never answered, a new leader counts from its own election", () => {
  const ids = [1, 2, 3, 4, 5];
  const cluster = new TestCluster({ ids, seed: 29 });
  const first = cluster.waitForLeader();
  const lostFollower = ids.find((id) => id !== first)!;
  cluster.crash(first);
  cluster.crash(lostFollower);
  cluster.runUntil(() => cluster.leader() !== null, 3000, 1);
  const next = cluster.leader()!;
  const electedAtMs = cluster.eventsOf(next, "became_leader").at(-1)!.atMs;
  // Run the cluster up to the bound, so the new leader keeps its own lease meanwhile (only a
  // leader holding its lease may vouch for anyone else's).
  cluster.advance(electedAtMs + LEASE_BOUND_MS - cluster.nowMs, 1);
  assert.equal(cluster.node(next).leaseSurelyExpired(lostFollower, cluster.nowMs), false);
  cluster.advance(1, 1);
  assert.equal(cluster.node(next).leaseSurelyExpired(lostFollower, cluster.nowMs), true);
  const follower = ids.find((id) => ![first, next, lostFollower].includes(id))!;
  assert.equal(
    cluster.node(follower).leaseSurelyExpired(lostFollower, 1e9),
    false,
    "only a leader can vouch",
  );
});

test("the leader of the previous term is released as soon as the new leader holds its lease", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 29 });
  const first = cluster.waitForLeader();
  cluster.advance(2000);
  cluster.crash(first);
  cluster.runUntil(() => cluster.leader() !== null, 3000, 1);
  const next = cluster.leader()!;
  cluster.runUntil(() => cluster.node(next).holdsLease(cluster.nowMs), 1000, 1);
  // Its leader lease ended before this election (lease.ts (2)); a follower lease it carried into
  // its leadership ended long ago, counted from when this node first heard it lead (5).
  assert.equal(cluster.node(next).leaseSurelyExpired(first, cluster.nowMs), true);
});

test("with a node guard's grace, the leader waits it out too: a follower's and the previous leader's", () => {
  const graceMs = 40;
  const timing = { ...TIMING, releaseGraceMs: graceMs };
  const graceBoundMs = graceMs * (1 + TIMING.driftRatio);

  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 23, timing });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  cluster.advance(200);
  const isolatedAtMs = cluster.nowMs;
  cluster.isolate(follower);
  cluster.runUntil(() => cluster.node(leader).leaseSurelyExpired(follower, cluster.nowMs), 1000, 1);
  const followerLostAt = cluster.eventsOf(follower, "lease_lost").at(-1)!.atMs;
  assert.ok(
    cluster.nowMs > followerLostAt + graceBoundMs - 1,
    `released at ${cluster.nowMs}, within the grace after the follower's lease ended at ${followerLostAt}`,
  );
  assert.ok(cluster.nowMs <= isolatedAtMs + LEASE_BOUND_MS + graceBoundMs + 1);

  const second = new TestCluster({ ids: [1, 2, 3], seed: 29, timing });
  const first = second.waitForLeader();
  second.advance(2000);
  second.crash(first);
  second.runUntil(() => second.leader() !== null, 3000, 1);
  const next = second.leader()!;
  const electedAtMs = second.eventsOf(next, "became_leader").at(-1)!.atMs;
  second.runUntil(() => second.node(next).leaseSurelyExpired(first, second.nowMs), 1000, 1);
  assert.ok(
    second.nowMs > electedAtMs + graceBoundMs - 1,
    "the previous leader's lease may have ended just before the election: its grace runs past it",
  );
  assert.ok(second.nowMs <= electedAtMs + graceBoundMs + 1);
});

test("a negative grace is refused", () => {
  assert.throws(
    () =>
      new RaftNode({
        id: 1,
        timing: { ...TIMING, releaseGraceMs: -1 },
        random: () => 0,
        persisted: emptyPersisted(),
        initialMembership: membershipOf([1]),
        nowMs: 0,
      }),
    /releaseGraceMs must be >= 0, got -1/,
  );
});

test("a leader cut off from the quorum cannot keep a follower's lease alive past the new leader's bound", () => {
  const ids = [1, 2, 3, 4, 5];
  const cluster = new TestCluster({ ids, seed: 37 });
  const oldLeader = cluster.waitForLeader();
  cluster.advance(200);
  const companion = ids.find((id) => id !== oldLeader)!;
  const majority = ids.filter((id) => id !== oldLeader && id !== companion);
  cluster.isolate(oldLeader, companion);
  let newLeader: number | null = null;
  let checkedInstants = 0;
  for (let step = 0; step < 1500; step++) {
    cluster.advance(1, 1);
    const now = cluster.nowMs;
    newLeader ??= majority.find((id) => cluster.node(id).role() === "leader") ?? null;
    if (newLeader === null) continue;
    for (const id of [oldLeader, companion]) {
      if (cluster.node(newLeader).leaseSurelyExpired(id, now)) {
        checkedInstants++;
        assert.equal(
          cluster.node(id).holdsLease(now),
          false,
          `node ${id} still holds a lease at ${now}`,
        );
      }
    }
  }
  assert.ok(newLeader !== null, "the majority elected a leader");
  assert.ok(checkedInstants > 100);
  assert.notEqual(cluster.node(oldLeader).role(), "leader", "check-quorum deposed the old leader");
});

test("a new leader keeps the follower lease it held, which is no leader lease until a quorum answers", () => {
  // A follower lease that outlasts an election (lease.ts, followerLeaseMs).
  const cluster = new TestCluster({
    ids: [1, 2, 3],
    seed: 29,
    timing: { ...TIMING, followerLeaseMs: 600 },
  });
  const first = cluster.waitForLeader();
  cluster.advance(300);
  const follower = [1, 2, 3].find((id) => id !== first)!;
  assert.equal(cluster.node(follower).holdsLease(cluster.nowMs), true);
  assert.equal(cluster.node(follower).holdsLeaderLease(cluster.nowMs), false, "a follower's lease");
  cluster.crash(first);
  cluster.dropIf = (e) => e.message.type === "append_response";
  cluster.runUntil(() => cluster.leader() !== null, 3000, 1);
  const next = cluster.node(cluster.leader()!);
  assert.equal(next.holdsLease(cluster.nowMs), true, "its follower lease still runs");
  assert.equal(next.holdsLeaderLease(cluster.nowMs), false, "no quorum has answered it yet");
  assert.notEqual(next.status(cluster.nowMs).leaseUntilMs, null);
  cluster.heal();
  cluster.runUntil(() => next.holdsLeaderLease(cluster.nowMs), 500, 1);
  assert.equal(next.holdsLease(cluster.nowMs), true);
});

test("a new leader renews its followers' leases as soon as a quorum answers it, not a heartbeat later", () => {
  // The leases followers hold when their leader dies were anchored a heartbeat or two before it,
  // and an election near its longest timeout leaves them little more: the appends that commit
  // the new leader's first entry carry its lease at once, so a follower that waited for the next
  // heartbeat would stop every resource it runs (no_quorum_policy stop) for nothing.
  const followerLeaseMs = 600;
  for (const seed of [3, 7, 11, 19]) {
    const cluster = new TestCluster({
      ids: [1, 2, 3],
      seed,
      timing: { ...TIMING, followerLeaseMs },
    });
    const first = cluster.waitForLeader();
    cluster.advance(300, 1);
    cluster.crash(first);
    cluster.runUntil(
      () => {
        const leader = cluster.leader();
        return leader !== null && cluster.node(leader).holdsLeaderLease(cluster.nowMs);
      },
      3000,
      1,
    );
    const leader = cluster.leader()!;
    const follower = [1, 2, 3].find((id) => id !== first && id !== leader)!;
    const until = cluster.node(follower).status(cluster.nowMs).leaseUntilMs;
    assert.ok(
      until !== null && until - cluster.nowMs >= followerLeaseMs - 1,
      `seed ${seed}: follower ${follower}'s lease runs ${until === null ? "no" : until - cluster.nowMs} ms more once leader ${leader} holds its lease`,
    );
  }
});
