import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry } from "../../src/consensus/types.js";
import { type LeaseView, SafetyChecker } from "../../src/sim/checker.js";
import { SimStateMachine } from "../../src/sim/state-machine.js";

const membership = { members: [1, 2, 3].map((id) => ({ id, votes: 1, witness: false })) };

function command(index: number, term: number, payload: string): LogEntry {
  return { index, term, body: { kind: "command", payload } };
}

test("election safety: a second leader in the same term is caught", () => {
  const checker = new SafetyChecker();
  checker.observeLeader(1, 3);
  checker.observeLeader(1, 3);
  checker.observeLeader(2, 4);
  assert.throws(() => checker.observeLeader(3, 3), /nodes 1 and 3 were both leader in term 3/);
});

test("a committed index applied differently elsewhere is caught", () => {
  const checker = new SafetyChecker();
  const a = new SimStateMachine("node 1", membership, null);
  const b = new SimStateMachine("node 2", membership, null);
  for (const machine of [a, b]) {
    machine.apply(command(1, 1, "x"));
    checker.observeApplied(
      machine === a ? "node 1" : "node 2",
      command(1, 1, "x"),
      machine.digest,
      10,
    );
  }
  a.apply(command(2, 1, "y"));
  checker.observeApplied("node 1", command(2, 1, "y"), a.digest, 20);
  b.apply(command(2, 2, "z"));
  assert.throws(
    () => checker.observeApplied("node 2", command(2, 2, "z"), b.digest, 30),
    /node 2 applied index 2 as \(term 2, cmd:z\) but node 1 applied it as \(term 1, cmd:y\)/,
  );
  assert.equal(checker.highestCommitted(), 2);
});

test("a state machine refuses gaps, and snapshots carry the exact applied state", () => {
  const checker = new SafetyChecker();
  const leader = new SimStateMachine("node 1", membership, null);
  for (let index = 1; index <= 5; index++) {
    leader.apply(command(index, 1, `c${index}`));
    checker.observeApplied("node 1", command(index, 1, `c${index}`), leader.digest, index);
  }
  assert.throws(() => leader.apply(command(7, 1, "c7")), /given index 7 to apply after index 5/);
  const snapshot = leader.takeSnapshot();
  const follower = new SimStateMachine("node 2", membership, snapshot);
  checker.observeSnapshotRestored("node 2", snapshot);
  assert.equal(follower.lastAppliedIndex, 5);
  assert.deepEqual(follower.commands, ["c1", "c2", "c3", "c4", "c5"]);
  assert.equal(follower.digest, leader.digest);

  const forged = { ...snapshot, meta: { ...snapshot.meta, lastIncludedIndex: 4 } };
  const forgedData = JSON.parse(snapshot.data) as { lastAppliedIndex: number };
  forgedData.lastAppliedIndex = 4;
  assert.throws(
    () =>
      checker.observeSnapshotRestored("node 3", { ...forged, data: JSON.stringify(forgedData) }),
    /snapshot at index 4 whose state differs/,
  );
});

function view(
  id: number,
  isLeader: boolean,
  holdsLease: boolean,
  expired: number[] = [],
  holdsLeaderLease = isLeader && holdsLease,
): LeaseView {
  return {
    id,
    isLeader,
    term: isLeader ? 2 : 1,
    holdsLease,
    holdsLeaderLease,
    leaseSurelyExpired: (other) => expired.includes(other),
  };
}

test("leases: two leaders holding leader leases at once are caught", () => {
  const checker = new SafetyChecker();
  checker.checkLeases([view(1, true, true), view(2, true, false), view(3, false, true)], 100);
  assert.throws(
    () => checker.checkLeases([view(1, true, true), view(2, true, true)], 200),
    /at 200 ms node 1 \(term 2\) and node 2 \(term 2\) are both leaders holding a leader lease/,
  );
});

test("leases: new leaders still holding the follower leases they kept are no violation", () => {
  // Seed 394939875 (5 nodes) at 9851 ms: node 2 (term 5) and node 5 (term 6), both just elected,
  // each still held the follower lease of the term-4 leader, neither a leader lease yet.
  const checker = new SafetyChecker();
  const keptOnly = (id: number) => view(id, true, true, [], false);
  checker.checkLeases([keptOnly(2), keptOnly(5), view(1, false, true)], 9851);
  // Once one of them holds its leader lease, the other's kept lease is still no second one.
  checker.checkLeases([keptOnly(2), view(5, true, true)], 9860);
});

test("leases: a leader lease is claimed only by a leader holding a lease", () => {
  const checker = new SafetyChecker();
  assert.throws(
    () => checker.checkLeases([view(1, true, true), view(3, false, true, [], true)], 7),
    /node 3 \(term 1\) claims a leader lease but does not lead/,
  );
  assert.throws(
    () => checker.checkLeases([view(1, true, false, [], true)], 8),
    /node 1 \(term 2\) claims a leader lease but holds no lease/,
  );
});

test("leases: a node judged surely expired must not still hold its lease", () => {
  const checker = new SafetyChecker();
  checker.checkLeases(
    [view(1, true, true, [2, 3]), view(2, false, false), view(3, false, false)],
    5,
  );
  assert.throws(
    () => checker.checkLeases([view(1, true, true, [3]), view(3, false, true)], 6),
    /leader 1 \(term 2\) judges node 3's lease surely expired, but node 3/,
  );
  // The follower lease another leader kept counts as a lease here too.
  assert.throws(
    () => checker.checkLeases([view(5, true, true, [2]), view(2, true, true, [], false)], 9),
    /leader 5 \(term 2\) judges node 2's lease surely expired, but node 2/,
  );
});
