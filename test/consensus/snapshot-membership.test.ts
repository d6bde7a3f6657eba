import assert from "node:assert/strict";
import { test } from "node:test";
import type { Membership, NodeId } from "../../src/consensus/types.js";
import { membershipOf, TestCluster } from "./cluster-harness.js";

function compactAtCommit(cluster: TestCluster, id: NodeId): number {
  const node = cluster.node(id);
  const index = node.commitIndex();
  const data = JSON.stringify(cluster.applied.get(id)!.payloads);
  const ready = node.compact(cluster.nowMs, {
    meta: { lastIncludedIndex: index, lastIncludedTerm: 0, membership: { members: [] } },
    data,
  });
  cluster.handle(id, ready);
  return index;
}

test("a lagging follower catches up through install_snapshot and the entries after it", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 12 });
  const leader = cluster.waitForLeader();
  const lagging = [1, 2, 3].find((id) => id !== leader)!;
  cluster.propose(leader, "before");
  cluster.advance(100);
  cluster.isolate(lagging);
  const payloads = ["before"];
  for (let i = 0; i < 20; i++) {
    payloads.push(`p${i}`);
    cluster.propose(leader, `p${i}`);
  }
  cluster.advance(100);
  const snapshotIndex = compactAtCommit(cluster, leader);
  assert.equal(cluster.stores.get(leader)!.snapshot?.meta.lastIncludedIndex, snapshotIndex);
  assert.equal(cluster.stores.get(leader)!.entries.length, 0, "covered entries are dropped");
  cluster.propose(leader, "after");
  payloads.push("after");
  cluster.heal();
  cluster.advance(300);
  const installed = cluster.eventsOf(lagging, "snapshot_installed");
  assert.equal(installed.length, 1);
  assert.deepEqual(installed[0]!.event, {
    type: "snapshot_installed",
    lastIncludedIndex: snapshotIndex,
  });
  assert.equal(cluster.stores.get(lagging)!.snapshot?.meta.lastIncludedIndex, snapshotIndex);
  assert.deepEqual(cluster.applied.get(lagging)!.payloads, payloads);
  assert.equal(cluster.node(lagging).commitIndex(), cluster.node(leader).commitIndex());

  // The follower restarts from its snapshot and keeps working.
  cluster.crash(lagging);
  cluster.restart(lagging);
  assert.equal(
    cluster.node(lagging).commitIndex(),
    snapshotIndex,
    "commit restarts at the snapshot",
  );
  cluster.propose(leader, "later");
  cluster.advance(200);
  assert.deepEqual(cluster.applied.get(lagging)!.payloads, [...payloads, "later"]);
});

test("compact refuses a snapshot beyond the applied index", () => {
  const cluster = new TestCluster({ ids: [1], seed: 1 });
  const leader = cluster.waitForLeader();
  const beyond = cluster.node(leader).commitIndex() + 5;
  assert.throws(
    () =>
      cluster.node(leader).compact(cluster.nowMs, {
        meta: { lastIncludedIndex: beyond, lastIncludedTerm: 0, membership: { members: [] } },
        data: "[]",
      }),
    /beyond the last applied index/,
  );
});

function proposeMembership(cluster: TestCluster, leader: NodeId, membership: Membership) {
  const result = cluster.node(leader).propose(cluster.nowMs, { kind: "membership", membership });
  if (result.ok) cluster.handle(leader, result.ready);
  return result;
}

test("membership 5 → 4 → 5, one change at a time", () => {
  const ids = [1, 2, 3, 4, 5];
  const cluster = new TestCluster({ ids, seed: 31 });
  let leader = cluster.waitForLeader();
  cluster.advance(100);
  const removed = ids.find((id) => id !== leader)!;
  const four = membershipOf(ids.filter((id) => id !== removed));

  const refusedTwo = proposeMembership(cluster, leader, membershipOf([1, 2, 3]));
  assert.equal(refusedTwo.ok, false);
  assert.equal(!refusedTwo.ok && refusedTwo.reason, "invalid_membership");

  const removal = proposeMembership(cluster, leader, four);
  assert.equal(removal.ok, true);
  const pending = proposeMembership(
    cluster,
    leader,
    membershipOf(ids.filter((id) => id !== removed && id !== 4 && id !== leader).concat(leader)),
  );
  assert.equal(pending.ok, false);
  assert.equal(!pending.ok && pending.reason, "membership_change_pending");
  assert.match(!pending.ok && "detail" in pending ? pending.detail : "", /not committed yet/);

  cluster.advance(100);
  assert.deepEqual(cluster.node(leader).status(cluster.nowMs).membership, four);
  assert.equal(cluster.node(leader).status(cluster.nowMs).votesNeeded, 3);
  assert.ok(cluster.eventsOf(leader, "membership_changed").length >= 1);
  cluster.crash(removed);
  const afterRemoval = cluster.propose(leader, "with four");
  cluster.advance(100);
  assert.ok(cluster.node(leader).commitIndex() >= afterRemoval);

  cluster.restart(removed);
  const readd = proposeMembership(cluster, leader, membershipOf(ids));
  assert.equal(readd.ok, true);
  cluster.advance(300);
  leader = cluster.leader()!;
  const lastIndex = cluster.propose(leader, "with five");
  cluster.advance(100);
  for (const id of ids) {
    assert.equal(cluster.node(id).commitIndex(), lastIndex, `node ${id} is back in step`);
    assert.equal(cluster.node(id).status(cluster.nowMs).membership.members.length, 5);
  }
  assert.deepEqual(cluster.applied.get(removed)!.payloads, ["with four", "with five"]);
});

test("a leader that removes itself steps down once the removal commits, and the rest go on", () => {
  const ids = [1, 2, 3];
  const cluster = new TestCluster({ ids, seed: 41 });
  const leader = cluster.waitForLeader();
  cluster.advance(100);
  const rest = ids.filter((id) => id !== leader);
  const result = proposeMembership(cluster, leader, membershipOf(rest));
  assert.equal(result.ok, true);
  cluster.advance(100);
  assert.notEqual(cluster.node(leader).role(), "leader");
  const stepped = cluster.eventsOf(leader, "stepped_down");
  assert.match((stepped.at(-1)!.event as { reason: string }).reason, /removed/);
  cluster.runUntil(() => rest.some((id) => cluster.node(id).role() === "leader"), 3000);
  cluster.advance(2000);
  assert.notEqual(cluster.node(leader).role(), "candidate", "a removed node does not campaign");
  assert.notEqual(cluster.node(leader).role(), "pre_candidate");
});

test("a fresh leader refuses a membership change until it has committed an entry of its term", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 6 });
  const first = cluster.waitForLeader();
  cluster.advance(100);
  cluster.crash(first);
  // Answers to appends are held back, so the next leader's noop cannot commit yet.
  cluster.dropIf = (e) => e.message.type === "append_response";
  cluster.runUntil(() => cluster.leader() !== null, 3000);
  const next = cluster.leader()!;
  const early = proposeMembership(
    cluster,
    next,
    membershipOf([1, 2, 3].filter((id) => id !== first)),
  );
  assert.equal(early.ok, false);
  assert.equal(!early.ok && early.reason, "membership_change_pending");
  assert.match(
    !early.ok && "detail" in early ? early.detail : "",
    /not committed an entry of term/,
  );
  cluster.heal();
  cluster.advance(60);
  const accepted = proposeMembership(
    cluster,
    next,
    membershipOf([1, 2, 3].filter((id) => id !== first)),
  );
  assert.equal(accepted.ok, true);
});

test("changing one member's votes by one is a single-server change", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 14 });
  const leader = cluster.waitForLeader();
  cluster.advance(100);
  const target = [1, 2, 3].find((id) => id !== leader)!;
  const heavier = membershipOf([1, 2, 3], { [target]: { votes: 2 } });
  assert.equal(proposeMembership(cluster, leader, heavier).ok, true);
  cluster.advance(100);
  assert.equal(cluster.node(leader).status(cluster.nowMs).votesNeeded, 3);
  const jump = proposeMembership(
    cluster,
    leader,
    membershipOf([1, 2, 3], { [target]: { votes: 4 } }),
  );
  assert.equal(!jump.ok && jump.reason, "invalid_membership");
  assert.match(!jump.ok && "detail" in jump ? jump.detail : "", /votes may change by one/);
});

test("a follower that rejoins empty after the leader compacted gets the snapshot, then the entries", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 13 });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  for (let i = 0; i < 10; i++) cluster.propose(leader, `p${i}`);
  cluster.advance(100);
  const snapshotIndex = compactAtCommit(cluster, leader);
  assert.equal(cluster.node(follower).commitIndex(), snapshotIndex, "it had acknowledged all");
  // Its state directory moved aside: term and vote kept by the restart, log and snapshot gone.
  cluster.crash(follower);
  const store = cluster.stores.get(follower)!;
  store.entries = [];
  store.snapshot = null;
  cluster.restart(follower);
  cluster.propose(leader, "after");
  cluster.advance(300);
  assert.equal(cluster.stores.get(follower)!.snapshot?.meta.lastIncludedIndex, snapshotIndex);
  assert.equal(cluster.node(follower).commitIndex(), cluster.node(leader).commitIndex());
  assert.deepEqual(cluster.applied.get(follower)!.payloads, cluster.applied.get(leader)!.payloads);
});
