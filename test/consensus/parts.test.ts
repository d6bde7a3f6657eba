import assert from "node:assert/strict";
import { test } from "node:test";
import { randomElectionTimeoutMs } from "../../src/consensus/election.js";
import { describeSingleServerChangeProblem } from "../../src/consensus/membership-change.js";
import { Progress } from "../../src/consensus/progress.js";
import { hasQuorum, quorumValue, votesNeeded } from "../../src/consensus/quorum.js";
import { RaftLog } from "../../src/consensus/raft-log.js";
import type { LogEntry } from "../../src/consensus/types.js";
import { membershipOf, TIMING } from "./cluster-harness.js";

const entry = (index: number, term: number): LogEntry => ({ index, term, body: { kind: "noop" } });

test("weighted quorum: strict majority of the votes", () => {
  const membership = membershipOf([1, 2, 3, 4], { 1: { votes: 3 } });
  assert.equal(votesNeeded(membership), 4); // 6 votes in all
  assert.equal(
    hasQuorum(membership, (id) => id === 1),
    false,
  );
  assert.equal(
    hasQuorum(membership, (id) => id === 1 || id === 4),
    true,
  );
  assert.equal(
    hasQuorum(membership, (id) => id !== 1),
    false,
  );
  const match: Record<number, number> = { 1: 5, 2: 9, 3: 9, 4: 7 };
  assert.equal(
    quorumValue(membership, (id) => match[id]!),
    5,
    "the heavy node's 5 is needed",
  );
});

test("quorum value: the value reached by members holding a quorum, as ranking them would give", () => {
  const ranked = (votes: number[], values: number[]): number => {
    const needed = Math.floor(votes.reduce((a, b) => a + b, 0) / 2) + 1;
    const order = values.map((value, i) => ({ value, votes: votes[i]! }));
    order.sort((a, b) => b.value - a.value);
    let sum = 0;
    for (const { value, votes: v } of order) {
      sum += v;
      if (sum >= needed) return value;
    }
    return Number.NEGATIVE_INFINITY;
  };
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 2000; round++) {
    const count = 1 + next(7);
    const votes = Array.from({ length: count }, () => next(4));
    const values = Array.from({ length: count }, () =>
      next(10) === 0 ? Number.NEGATIVE_INFINITY : next(10) === 0 ? Infinity : next(6),
    );
    const membership = {
      members: votes.map((v, i) => ({ id: i + 1, votes: v, witness: false })),
    };
    assert.equal(
      quorumValue(membership, (id) => values[id - 1]!),
      ranked(votes, values),
      JSON.stringify({ votes, values }),
    );
  }
});

test("election timeouts stay in [min, max) whatever the random source returns", () => {
  assert.equal(
    randomElectionTimeoutMs(TIMING, () => 0),
    TIMING.electionTimeoutMinMs,
  );
  assert.ok(randomElectionTimeoutMs(TIMING, () => 0.999999) < TIMING.electionTimeoutMaxMs);
  assert.ok(randomElectionTimeoutMs(TIMING, () => 1) < TIMING.electionTimeoutMaxMs);
  assert.equal(
    randomElectionTimeoutMs(TIMING, () => Number.NaN),
    TIMING.electionTimeoutMinMs,
  );
});

test("the log's conflict hint skips a whole divergent term", () => {
  const log = new RaftLog(null, [entry(1, 1), entry(2, 1), entry(3, 4), entry(4, 4), entry(5, 4)]);
  // The leader says entry 5 has term 2: our term-4 entries cannot match, retry after index 2.
  assert.equal(log.conflictHint(5, 2), 2);
  assert.equal(log.conflictHint(9, 4), 5, "short log: retry from our end");
  const compacted = new RaftLog(
    { lastIncludedIndex: 2, lastIncludedTerm: 1, membership: membershipOf([1]) },
    [entry(3, 4)],
  );
  assert.equal(compacted.conflictHint(3, 2), 2, "never below the snapshot");
  assert.equal(compacted.termAt(2), 1);
  assert.equal(compacted.termAt(1), undefined);
});

test("a persisted log with a gap is rejected with the place it breaks", () => {
  assert.throws(
    () => new RaftLog(null, [entry(1, 1), entry(3, 1)]),
    /entry index 3 where 2 was expected/,
  );
});

test("single-server change validation", () => {
  const three = membershipOf([1, 2, 3]);
  assert.equal(describeSingleServerChangeProblem(three, membershipOf([1, 2, 3, 4])), null);
  assert.equal(describeSingleServerChangeProblem(three, membershipOf([1, 2])), null);
  assert.match(
    describeSingleServerChangeProblem(three, membershipOf([1, 2, 4]))!,
    /one member at a time/,
  );
  assert.match(describeSingleServerChangeProblem(three, three)!, /identical/);
  assert.match(describeSingleServerChangeProblem(three, membershipOf([1, 1, 2]))!, /listed twice/);
  assert.match(
    describeSingleServerChangeProblem(
      membershipOf([1], {}),
      membershipOf([1, 2], { 1: { witness: true }, 2: { witness: true } }),
    )!,
    /touch one member|not a witness/,
  );
});

test("a membership with a witness keeps at least two members that can lead", () => {
  const m = (...members: Array<[number, boolean]>) => ({
    members: members.map(([id, witness]) => ({ id, votes: 1, witness })),
  });
  assert.match(
    describeSingleServerChangeProblem(
      m([1, false], [2, true], [3, false]),
      m([1, false], [2, true]),
    ) ?? "",
    /at least two members that can lead/,
  );
  assert.equal(
    describeSingleServerChangeProblem(
      m([1, false], [2, false], [3, true]),
      m([1, false], [2, false], [3, true], [4, false]),
    ),
    null,
  );
});

test("a rejection backs a follower's progress below its match index only when newer than the match", () => {
  const progress = new Progress(11, 0);
  progress.acknowledge(10, 500);
  // Overtaken on the wire by the success: says nothing about the follower's log now.
  progress.reject(4, 400);
  assert.deepEqual([progress.matchIndex, progress.nextIndex], [10, 11]);
  // Answers an append sent after the match: the follower lost entries it had acknowledged.
  progress.reject(7, 600);
  assert.deepEqual([progress.matchIndex, progress.nextIndex], [7, 8]);
  progress.acknowledge(12, 700);
  assert.deepEqual([progress.matchIndex, progress.nextIndex], [12, 13]);
});
