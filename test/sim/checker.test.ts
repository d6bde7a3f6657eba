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
): LeaseView {
  return {
    id,
    isLeader,
    term: isLeader ? 2 : 1,
    holdsLease,
    leaseSurelyExpired: (other) => expired.includes(other),
  };
}

test("leases: two leaders holding leases at once are caught", () => {
  const checker = new SafetyChecker();
  checker.checkLeases([view(1, true, true), view(2, true, false), view(3, false, true)], 100);
  assert.throws(
    () => checker.checkLeases([view(1, true, true), view(2, true, true)], 200),
    /at 200 ms node 1 \(term 2\) and node 2 \(term 2\) are both leaders holding a lease/,
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
});
