import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry, NodeId, RaftMessage } from "../../src/consensus/types.js";
import { describeMessageProblem } from "../../src/consensus/validate.js";
import { membershipOf, TestCluster, TIMING } from "./cluster-harness.js";

const WITNESSED = membershipOf([1, 2, 3], { 3: { witness: true } });

/** Node 1 leads (it times out first), node 3 is the witness, everyone holds "before". */
function leaderOneWithWitness(maxEntriesPerMessage?: number): TestCluster {
  const cluster = new TestCluster({
    ids: [1, 2, 3],
    membership: WITNESSED,
    seed: 7,
    randoms: { 1: () => 0 },
    maxEntriesPerMessage,
  });
  assert.equal(cluster.waitForLeader(), 1);
  cluster.propose(1, "before");
  cluster.advance(200);
  return cluster;
}

/** The leader writes `payloads` with only the witness hearing it, and has them committed. */
function commitBehindNodeTwo(cluster: TestCluster, payloads: string[]): number {
  cluster.dropIf = (envelope) => envelope.from === 1 && envelope.to === 2;
  let last = 0;
  for (const payload of payloads) last = cluster.propose(1, payload);
  cluster.runUntil(() => cluster.node(3).commitIndex() >= last, 500);
  assert.ok(cluster.node(2).status(cluster.nowMs).lastLogIndex < last, "node 2 lacks them");
  return last;
}

function compactAtCommit(cluster: TestCluster, id: NodeId): number {
  const node = cluster.node(id);
  const index = node.commitIndex();
  cluster.handle(
    id,
    node.compact(cluster.nowMs, {
      meta: { lastIncludedIndex: index, lastIncludedTerm: 0, membership: { members: [] } },
      data: JSON.stringify(cluster.applied.get(id)!.payloads),
    }),
  );
  return index;
}

test("the leader dies with entries only the witness holds: the witness hands them to the survivor, which is elected", () => {
  const cluster = leaderOneWithWitness();
  commitBehindNodeTwo(cluster, ["a", "b", "c"]);
  cluster.crash(1);
  cluster.heal();
  assert.equal(cluster.waitForLeader(), 2, "the survivor leads with the witness's vote");
  cluster.advance(200);
  assert.deepEqual(cluster.applied.get(2)!.payloads, ["before", "a", "b", "c"]);
  assert.ok(cluster.eventsOf(2, "log_offer_taken").length > 0);
  assert.equal(cluster.eventsOf(3, "became_leader").length, 0, "the witness never leads");
});

test("the witness compacted past everything the survivor has: it sends its snapshot, then the entries after it in batches", () => {
  const cluster = leaderOneWithWitness(2);
  commitBehindNodeTwo(cluster, ["a", "b", "c", "d", "e"]);
  cluster.advance(60); // the witness learns the commit index and applies
  const snapshotAt = compactAtCommit(cluster, 3);
  assert.ok(snapshotAt > cluster.node(2).status(cluster.nowMs).lastLogIndex);
  const last = commitBehindNodeTwo(cluster, ["f", "g", "h", "i", "j"]);
  cluster.crash(1);
  cluster.heal();
  assert.equal(cluster.waitForLeader(), 2);
  cluster.advance(200);
  assert.deepEqual(cluster.applied.get(2)!.payloads, [
    "before",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
  ]);
  assert.ok(cluster.node(2).commitIndex() > last, "its own noop is committed after them");
  const taken = cluster.eventsOf(2, "log_offer_taken").map(({ event }) => event);
  assert.ok(taken.some((event) => event.type === "log_offer_taken" && event.snapshot));
});

test("the survivor holds entries of an older term the witness never had: they give way to the witness's, which are committed", () => {
  const cluster = new TestCluster({
    ids: [1, 2, 3],
    membership: WITNESSED,
    seed: 9,
    randoms: { 2: () => 0 },
  });
  assert.equal(cluster.waitForLeader(), 2);
  cluster.propose(2, "x");
  cluster.advance(200);
  cluster.isolate(2);
  cluster.propose(2, "stale1");
  cluster.propose(2, "stale2");
  cluster.setRandom(1, () => 0);
  cluster.runUntil(() => cluster.node(1).role() === "leader", 3000);
  cluster.runUntil(() => cluster.node(2).role() !== "leader", 3000);
  let last = 0;
  for (const payload of ["new1", "new2", "new3"]) last = cluster.propose(1, payload);
  cluster.runUntil(() => cluster.node(3).commitIndex() >= last, 500);
  cluster.crash(1);
  cluster.heal();
  assert.equal(cluster.waitForLeader(), 2);
  cluster.advance(200);
  assert.deepEqual(cluster.applied.get(2)!.payloads, ["x", "new1", "new2", "new3"]);
});

test("an offer is taken only from a witness, only without a leader and only from a log strictly ahead; a malformed one is dropped", () => {
  const cluster = leaderOneWithWitness();
  const follower = cluster.node(2);
  const before = follower.status(cluster.nowMs);
  const term = before.term;
  const ahead: LogEntry[] = [
    { index: before.lastLogIndex + 1, term, body: { kind: "command", payload: "ahead" } },
  ];
  const lastAhead = before.lastLogIndex + 1;
  const fromWitness = (message: RaftMessage) => follower.receive(cluster.nowMs, 3, message);
  const matchingOffer = (entries: LogEntry[], lastLogIndex: number): RaftMessage => ({
    type: "log_offer",
    term,
    lastLogIndex,
    lastLogTerm: term,
    prevLogIndex: before.lastLogIndex,
    prevLogTerm: term,
    entries,
  });

  fromWitness(matchingOffer(ahead, lastAhead));
  assert.equal(
    follower.status(cluster.nowMs).lastLogIndex,
    before.lastLogIndex,
    "it follows node 1",
  );

  cluster.crash(1);
  cluster.isolate(2); // it campaigns in vain: no leader
  cluster.runUntil(() => follower.leaderId() === null, 1000);
  const ignored = follower.ignoredMessageCount();
  fromWitness(matchingOffer(ahead, before.lastLogIndex));
  assert.equal(follower.ignoredMessageCount(), ignored + 1, "entries past the log's stated end");
  fromWitness(matchingOffer([], before.lastLogIndex));
  assert.equal(follower.status(cluster.nowMs).lastLogIndex, before.lastLogIndex, "not ahead");
  const beforeNonWitness = follower.ignoredMessageCount();
  follower.receive(cluster.nowMs, 1, matchingOffer(ahead, lastAhead));
  assert.equal(follower.ignoredMessageCount(), beforeNonWitness + 1, "node 1 is no witness");
  fromWitness(matchingOffer(ahead, lastAhead));
  assert.equal(follower.status(cluster.nowMs).lastLogIndex, lastAhead, "taken");
});

test("only a witness offers its log, only to a candidate that can lead, and not while a leader is heard", () => {
  const cluster = leaderOneWithWitness();
  const status = cluster.node(3).status(cluster.nowMs);
  const request: RaftMessage = {
    type: "request_vote",
    term: status.term + 1,
    preVote: true,
    lastLogIndex: 0,
    lastLogTerm: 0,
    commitIndex: 0,
  };
  const offersFrom = (id: NodeId, from: NodeId) =>
    cluster
      .node(id)
      .receive(cluster.nowMs, from, request)
      .messages.filter((envelope) => envelope.message.type === "log_offer");
  assert.equal(offersFrom(3, 2).length, 0, "the leader was heard a moment ago");
  cluster.setRandom(2, () => 0.99); // node 2 does not campaign meanwhile
  cluster.crash(1);
  cluster.advance(TIMING.electionTimeoutMinMs + 10);
  assert.equal(offersFrom(3, 2).length, 1, "the witness offers to node 2");
  assert.equal(offersFrom(2, 3).length, 0, "node 2 is no witness");
});

test("bad new fields are refused, naming the field: request_vote's commit and match hints, log_offer's parts", () => {
  const vote = { type: "request_vote", term: 5, preVote: true, lastLogIndex: 3, lastLogTerm: 2 };
  for (const bad of [-1, "5", 1e20, 1.5, null]) {
    assert.match(
      String(describeMessageProblem({ ...vote, commitIndex: bad } as unknown as RaftMessage)),
      /request_vote\.commitIndex must be a count/,
    );
  }
  assert.match(
    String(describeMessageProblem({ ...vote, offerMatchIndex: 3 } as unknown as RaftMessage)),
    /offerMatchIndex and offerMatchTerm come together/,
  );
  assert.match(
    String(
      describeMessageProblem({
        ...vote,
        offerMatchIndex: -3,
        offerMatchTerm: 1,
      } as unknown as RaftMessage),
    ),
    /must be counts/,
  );
  const offer = {
    type: "log_offer",
    term: 5,
    lastLogIndex: 4,
    lastLogTerm: 3,
    prevLogIndex: 3,
    prevLogTerm: 3,
    entries: [],
  };
  const problem = (change: object) =>
    String(describeMessageProblem({ ...offer, ...change } as unknown as RaftMessage));
  assert.equal(describeMessageProblem(offer as RaftMessage), null);
  assert.match(problem({ lastLogTerm: 9 }), /no greater than the message's/);
  assert.match(problem({ prevLogIndex: undefined }), /prevLogIndex and prevLogTerm must be counts/);
  assert.match(problem({ entries: "x" }), /entries must be an array/);
  assert.match(
    problem({ entries: [{ index: 4, term: 3, body: { kind: "zzz" } }] }),
    /unknown body kind/,
  );
  assert.match(
    problem({ entries: [{ index: 6, term: 3, body: { kind: "noop" } }], lastLogIndex: 6 }),
    /entry index 6 where 4 was expected/,
  );
  assert.match(problem({ snapshot: "x" }), /snapshot is not an object/);
  const snapshot = {
    meta: {
      lastIncludedIndex: 2,
      lastIncludedTerm: 1,
      membership: { members: [{ id: 1, votes: 1, witness: false }] },
    },
    data: "{}",
  };
  assert.match(problem({ snapshot }), /a snapshot comes alone, ending at prevLogIndex/);
});
