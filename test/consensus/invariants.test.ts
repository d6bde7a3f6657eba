import assert from "node:assert/strict";
import { test } from "node:test";
import type { Envelope, LogEntry, NodeId, RaftMessage } from "../../src/consensus/types.js";
import { InvariantError } from "../../src/invariant/invariant-error.js";
import { TestCluster } from "./cluster-harness.js";

/** A 3-node cluster whose leader committed two commands everywhere. */
function committedCluster(seed: number) {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed });
  const leader = cluster.waitForLeader();
  cluster.propose(leader, "a");
  cluster.propose(leader, "b");
  cluster.advance(100);
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const node = cluster.node(follower);
  const committed = node.commitIndex();
  assert.ok(committed >= 3, "the noop and both commands are committed");
  const entryAt = (index: number): LogEntry =>
    cluster.stores.get(follower)!.entries.find((entry) => entry.index === index)!;
  return { cluster, leader, follower, node, committed, entryAt };
}

function appendFrom(term: number, fields: Partial<RaftMessage>): RaftMessage {
  return {
    type: "append_entries",
    term,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    sentAtMs: 0,
    ...fields,
  } as RaftMessage;
}

test("a leader whose entry contradicts a committed one stops the follower with an InvariantError", () => {
  const { cluster, leader, node, committed, entryAt } = committedCluster(5);
  const term = node.term();
  const previous = entryAt(committed - 1);
  const message = appendFrom(term + 1, {
    prevLogIndex: previous.index,
    prevLogTerm: previous.term,
    entries: [{ index: committed, term: term + 1, body: { kind: "noop" } }],
    leaderCommit: committed,
  });
  assert.throws(
    () => node.receive(cluster.nowMs, leader, message),
    (error: unknown) =>
      error instanceof InvariantError && /committed with term/.test(error.message),
  );
});

test("a leader whose prevLogTerm contradicts a committed entry stops the follower with an InvariantError", () => {
  const { cluster, leader, node, committed, entryAt } = committedCluster(6);
  const term = node.term();
  assert.equal(entryAt(committed).term, term);
  const message = appendFrom(term, {
    prevLogIndex: committed,
    prevLogTerm: term - 1,
    leaderCommit: committed,
  });
  assert.throws(() => node.receive(cluster.nowMs, leader, message), InvariantError);
});

test("a mismatch beyond the commit index is an ordinary rejection, not a broken invariant", () => {
  const { cluster, leader, node, committed } = committedCluster(7);
  const term = node.term();
  const message = appendFrom(term, { prevLogIndex: committed + 5, prevLogTerm: term });
  const ready = node.receive(cluster.nowMs, leader, message);
  const answer = ready.messages[0]?.message;
  assert.equal(answer?.type, "append_response");
  assert.equal(answer?.type === "append_response" && answer.success, false);
  assert.equal(node.commitIndex(), committed);
});

test("every message of a run, delivered again late, duplicated and in reverse order, throws nothing", () => {
  const cluster = new TestCluster({ ids: [1, 2, 3], seed: 11 });
  const sent: Envelope[] = [];
  cluster.dropIf = (envelope) => {
    sent.push(structuredClone(envelope));
    return false;
  };
  const oldLeader = cluster.waitForLeader();
  for (let i = 0; i < 4; i++) cluster.propose(oldLeader, `first-${i}`);
  cluster.advance(100);
  // The old leader is cut off with entries no one else has: its messages carrying them are
  // recorded (then dropped), and a new leader in a newer term overwrites them.
  const cut = new Set<NodeId>([oldLeader]);
  cluster.dropIf = (envelope) => {
    sent.push(structuredClone(envelope));
    return cut.has(envelope.from) !== cut.has(envelope.to);
  };
  cluster.propose(oldLeader, "lost");
  cluster.runUntil(() => cluster.leaders().some((id) => id !== oldLeader), 2000);
  const newLeader = cluster.leaders().find((id) => id !== oldLeader)!;
  for (let i = 0; i < 4; i++) cluster.propose(newLeader, `second-${i}`);
  cluster.advance(100);
  cut.clear();
  cluster.advance(500);
  // A follower restarts: its commit index starts over from its snapshot (none here).
  const restarted = [1, 2, 3].find((id) => id !== cluster.leader())!;
  cluster.crash(restarted);
  cluster.restart(restarted);
  cluster.advance(300);

  const replay = [...sent].reverse();
  for (const envelope of [...replay, ...replay]) {
    const target = cluster.nodes.get(envelope.to)!;
    assert.doesNotThrow(() =>
      cluster.handle(envelope.to, target.receive(cluster.nowMs, envelope.from, envelope.message)),
    );
  }
  cluster.dropIf = () => false;
  cluster.advance(1000);
  const applied = [1, 2, 3].map((id) => cluster.applied.get(id)!.payloads);
  const expected = [
    ...[0, 1, 2, 3].map((i) => `first-${i}`),
    ...[0, 1, 2, 3].map((i) => `second-${i}`),
  ];
  for (const payloads of applied) assert.deepEqual(payloads, expected);
});

test("a second leader in a term stops the node that sees both with an InvariantError", () => {
  const { cluster, leader, follower, node } = committedCluster(8);
  const impostor = [1, 2, 3].find((id) => id !== leader && id !== follower)!;
  const claim = appendFrom(node.term(), {});
  for (const [to, sees] of [
    [follower, "follower"],
    [leader, "leader"],
  ] as const) {
    assert.throws(
      () => cluster.node(to).receive(cluster.nowMs, impostor, claim),
      (error: unknown) => error instanceof InvariantError && error.message.includes(sees),
    );
  }
});

test("the leader of a newer term is followed, not taken for a second leader", () => {
  const { cluster, leader, follower, node, committed, entryAt } = committedCluster(9);
  const next = [1, 2, 3].find((id) => id !== leader && id !== follower)!;
  const last = entryAt(committed);
  const claim = appendFrom(node.term() + 1, { prevLogIndex: last.index, prevLogTerm: last.term });
  cluster.node(follower).receive(cluster.nowMs, next, claim);
  assert.equal(node.leaderId(), next);
});
