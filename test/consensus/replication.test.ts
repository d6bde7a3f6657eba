import assert from "node:assert/strict";
import { test } from "node:test";
import type { Envelope, NodeId } from "../../src/consensus/types.js";
import { TestCluster } from "./cluster-harness.js";

function assertSameAppliedLogs(cluster: TestCluster, ids: NodeId[]): void {
  const [first, ...rest] = ids.map((id) => cluster.applied.get(id)!);
  for (const [position, other] of rest.entries()) {
    assert.deepEqual(
      other.payloads,
      first!.payloads,
      `node ${ids[position + 1]} applied the same commands`,
    );
  }
}

test("log replication: 150 commands (several batches) commit and apply in order everywhere", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3, 4, 5], seed: 21 });
  const leader = cluster.waitForLeader();
  const payloads = Array.from({ length: 150 }, (_, i) => `cmd-${i}`);
  let lastIndex = 0;
  for (const payload of payloads) lastIndex = cluster.propose(leader, payload);
  cluster.advance(200);
  for (const id of [1, 2, 3, 4, 5]) {
    assert.equal(cluster.node(id).commitIndex(), lastIndex, `node ${id} committed everything`);
    assert.deepEqual(cluster.applied.get(id)!.payloads, payloads);
  }
});

test("a follower's conflicting uncommitted suffix is overwritten by the new leader's log", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 4 });
  const oldLeader = cluster.waitForLeader();
  cluster.propose(oldLeader, "committed");
  cluster.advance(100);
  cluster.isolate(oldLeader);
  cluster.propose(oldLeader, "lost-1");
  cluster.propose(oldLeader, "lost-2");
  cluster.runUntil(() => cluster.leaders().some((id) => id !== oldLeader), 2000);
  const newLeader = cluster.leaders().find((id) => id !== oldLeader)!;
  cluster.propose(newLeader, "kept-1");
  cluster.advance(100);
  const staleLastIndex = cluster.node(oldLeader).status(cluster.nowMs).lastLogIndex;
  assert.ok(staleLastIndex >= 4, "the old leader holds its uncommitted entries");
  cluster.heal();
  cluster.advance(500);
  const storeEntries = cluster.stores.get(oldLeader)!.entries;
  const payloads = storeEntries.flatMap((e) => (e.body.kind === "command" ? [e.body.payload] : []));
  assert.deepEqual(payloads, ["committed", "kept-1"], "the divergent suffix is gone from disk too");
  assertSameAppliedLogs(cluster, [1, 2, 3]);
  assert.deepEqual(cluster.applied.get(oldLeader)!.payloads, ["committed", "kept-1"]);
});

test("commit rule §5.4.2 (Raft figure 8): an old-term entry on a majority is not committed by counting", () => {
  const ids = [1, 2, 3, 4, 5];
  const slow = () => 0.99;
  const randoms = { 1: () => 0, 2: slow, 3: slow, 4: slow, 5: slow };
  const cluster = new TestCluster({ ids, seed: 8, maxEntriesPerMessage: 1, randoms });
  // (a) S1 leads and gets entry 2 only onto S2.
  assert.equal(cluster.waitForLeader(), 1);
  cluster.advance(60);
  const term1 = cluster.node(1).term();
  cluster.dropIf = (e) => e.from === 1 && e.to !== 2;
  const index2 = cluster.propose(1, "old-term");
  cluster.deliverAll();
  assert.equal(cluster.stores.get(2)!.entries.at(-1)?.index, index2);
  // (b) S1 crashes; S5 wins with S3, S4 and appends its own entry 2 nobody receives.
  cluster.crash(1);
  cluster.setRandom(1, slow);
  cluster.setRandom(5, () => 0);
  // Only S5 campaigns in this step (scripting who wins, as the figure does).
  const onlyCampaigner = (id: NodeId, e: Envelope) =>
    e.message.type === "request_vote" && e.from !== id;
  cluster.dropIf = (e) =>
    onlyCampaigner(5, e) || (e.from === 5 && e.message.type === "append_entries");
  cluster.runUntil(() => cluster.node(5).role() === "leader", 3000);
  cluster.propose(5, "s5-entry");
  cluster.crash(5);
  cluster.setRandom(5, slow);
  // (c) S1 returns, wins a later term and copies entry 2 (term 1) onto S3: a majority
  // (S1, S2, S3) holds it, and S1 knows it, but S1's own noop is on S1 only.
  cluster.restart(1);
  cluster.setRandom(1, () => 0);
  // S4 hears nothing from S1; S2 and S3 get S1's old entries but not yet its noop.
  cluster.dropIf = (e) =>
    onlyCampaigner(1, e) || (e.from === 1 && e.to === 4 && e.message.type !== "request_vote");
  cluster.rewrite = (e) => {
    if (e.from !== 1 || e.message.type !== "append_entries") return e;
    const newTerm = e.message.term;
    return {
      ...e,
      message: { ...e.message, entries: e.message.entries.filter((x) => x.term !== newTerm) },
    };
  };
  cluster.runUntil(() => cluster.node(1).role() === "leader", 3000);
  cluster.advance(40);
  assert.ok(cluster.node(1).term() > term1);
  assert.equal(cluster.node(1).status(cluster.nowMs).lastLogIndex, index2 + 1, "S1 has its noop");
  assert.equal(cluster.stores.get(3)!.entries.find((e) => e.index === index2)?.term, term1);
  assert.ok(
    cluster.node(1).commitIndex() < index2,
    "entry 2 of an older term must not commit by counting",
  );
  // (d) S1 crashes; S5 (entry 2 of term 2) wins with S2 and S4 and overwrites entry 2.
  cluster.crash(1);
  cluster.restart(5);
  cluster.setRandom(5, () => 0);
  cluster.heal();
  cluster.dropIf = (e) => onlyCampaigner(5, e);
  cluster.runUntil(() => cluster.node(5).role() === "leader", 5000);
  cluster.heal();
  cluster.advance(200);
  for (const id of [2, 3, 4, 5]) {
    const entry = cluster.stores.get(id)!.entries.find((e) => e.index === index2);
    assert.ok(entry !== undefined && entry.term !== term1, `node ${id}: entry 2 was replaced`);
    assert.ok(
      !cluster.applied.get(id)!.payloads.includes("old-term"),
      `node ${id} never applied it`,
    );
  }
  assertSameAppliedLogs(cluster, [2, 3, 4, 5]);
});

test("malformed messages are ignored and counted, never thrown", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 9 });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const node = cluster.node(follower);
  const term = node.term();
  const before = node.ignoredMessageCount();
  const bad: unknown[] = [
    {
      type: "append_entries",
      term,
      prevLogIndex: -1,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 0,
      sentAtMs: 0,
    },
    {
      type: "append_entries",
      term,
      prevLogIndex: 0,
      prevLogTerm: 0,
      leaderCommit: 0,
      sentAtMs: 0,
      entries: [
        { index: 1, term, body: { kind: "noop" } },
        { index: 3, term, body: { kind: "noop" } },
      ],
    },
    { type: "request_vote", term: 1.5, preVote: false, lastLogIndex: 0, lastLogTerm: 0 },
    { type: "append_response", term, success: true, matchIndex: "x", echoSentAtMs: 0 },
    { type: "gossip", term },
    null,
  ];
  for (const message of bad) {
    const ready = node.receive(cluster.nowMs, leader, message as never);
    assert.deepEqual(ready.messages, []);
  }
  assert.equal(node.ignoredMessageCount() - before, bad.length);
  assert.equal(node.term(), term);
});

/** A follower restarts with a log shorter than it had acknowledged (a torn tail, an emptied state directory). */
function followerLosesItsTail(keep: (lastIndex: number) => number): void {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 31 });
  const leader = cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  for (let i = 0; i < 6; i++) cluster.propose(leader, `before-${i}`);
  cluster.advance(100);
  const acknowledged = cluster.stores.get(follower)!.entries.at(-1)!.index;
  assert.equal(cluster.node(follower).commitIndex(), acknowledged, "the follower had it all");
  cluster.crash(follower);
  const store = cluster.stores.get(follower)!;
  store.entries = store.entries.filter((entry) => entry.index <= keep(acknowledged));
  cluster.restart(follower);
  cluster.propose(leader, "after");
  cluster.advance(500);
  const leaderCommit = cluster.node(leader).commitIndex();
  assert.equal(cluster.node(follower).commitIndex(), leaderCommit, "the follower caught up");
  assertSameAppliedLogs(cluster, [leader, follower]);
}

test("a follower that restarts without the last entries it acknowledged is brought back up to date", () => {
  followerLosesItsTail((lastIndex) => lastIndex - 2);
});

test("a follower that restarts with an empty log (state directory moved aside) is brought back up to date", () => {
  followerLosesItsTail(() => 0);
});
