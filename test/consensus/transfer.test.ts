import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster, TIMING } from "./cluster-harness.js";

test("leadership transfer: an up-to-date follower leads at once, the old leader's lease ends first", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 11 });
  const leader = cluster.waitForLeader();
  cluster.propose(leader, "before");
  cluster.advance(100);
  const term = cluster.node(leader).term();
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), true);

  const result = cluster.node(leader).transferLeadership(cluster.nowMs);
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), false, "given up before anything");
  assert.equal(
    cluster.node(leader).propose(cluster.nowMs, { kind: "command", payload: "x" }).ok,
    false,
    "no proposals while handing over",
  );
  cluster.handle(leader, result.ready);
  cluster.deliverAll();
  // No election timeout waited for: the target won as soon as the messages went round.
  assert.equal(cluster.leader(), result.target);
  assert.equal(cluster.node(result.target).term(), term + 1);
  assert.equal(cluster.node(leader).role(), "follower");
  cluster.propose(result.target, "after");
  cluster.advance(100);
  assert.deepEqual(cluster.applied.get(leader)!.payloads, ["before", "after"]);
});

test("leadership transfer to a target that never answers: the old leader steps down", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 12 });
  const leader = cluster.waitForLeader();
  cluster.advance(100);
  const result = cluster.node(leader).transferLeadership(cluster.nowMs);
  assert.ok(result.ok);
  cluster.handle(leader, result.ready);
  // The timeout_now is lost: nobody takes over, and the old leader must not go on unleased.
  cluster.dropIf = (envelope) => envelope.message.type === "timeout_now";
  cluster.deliverAll();
  cluster.dropIf = () => false;
  cluster.advance(TIMING.electionTimeoutMinMs + 10);
  assert.notEqual(cluster.node(leader).role(), "leader");
  const next = cluster.waitForLeader();
  assert.ok(cluster.node(next).term() > 0);
  assert.deepEqual(cluster.leadersByTerm().get(cluster.node(next).term()), new Set([next]));
});

test("leadership transfer is refused by a follower", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 13 });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  assert.deepEqual(cluster.node(follower).transferLeadership(cluster.nowMs), {
    ok: false,
    reason: "not the leader",
  });
});

test("leadership transfer brings the target up to date first, keeping the lease until then", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 14 });
  const leader = cluster.waitForLeader();
  cluster.advance(100);
  // An entry nobody else has yet: the target must get it before it is told to run.
  const index = cluster.node(leader).propose(cluster.nowMs, { kind: "command", payload: "last" });
  assert.ok(index.ok);
  const result = cluster.node(leader).transferLeadership(cluster.nowMs);
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(cluster.node(leader).holdsLease(cluster.nowMs), true, "not told yet: lease kept");
  assert.ok(result.ready.messages.every((m) => m.message.type !== "timeout_now"));
  cluster.handle(leader, index.ready);
  cluster.handle(leader, result.ready);
  cluster.deliverAll();
  assert.equal(cluster.leader(), result.target);
  cluster.advance(100);
  assert.ok(cluster.applied.get(result.target)!.payloads.includes("last"));
});

test("leadership transfer with every follower cut off: the leader steps down in time", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 15 });
  const leader = cluster.waitForLeader();
  cluster.advance(100);
  cluster.isolate(leader);
  cluster.propose(leader, "unreplicated");
  const result = cluster.node(leader).transferLeadership(cluster.nowMs);
  assert.ok(result.ok);
  cluster.handle(leader, result.ready);
  cluster.advance(TIMING.electionTimeoutMinMs + 10);
  assert.notEqual(cluster.node(leader).role(), "leader");
});
