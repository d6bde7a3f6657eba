import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry, Snapshot } from "../../src/consensus/types.js";
import { SimDisk } from "../../src/sim/disk.js";

function entries(from: number, to: number, term: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let index = from; index <= to; index++) out.push({ index, term, body: { kind: "noop" } });
  return out;
}

function snapshotAt(index: number, term: number): Snapshot {
  return {
    meta: { lastIncludedIndex: index, lastIncludedTerm: term, membership: { members: [] } },
    data: "{}",
  };
}

test("persist ops apply in order: hard state, snapshot, truncate, append", () => {
  const disk = new SimDisk("node 1");
  disk.apply({ hardState: { term: 2, votedFor: 1 }, append: entries(1, 5, 2) });
  disk.apply({ truncateFrom: 4, append: entries(4, 6, 3) });
  const state = disk.load();
  assert.deepEqual(state.hardState, { term: 2, votedFor: 1 });
  assert.deepEqual(
    state.entries.map((e) => [e.index, e.term]),
    [
      [1, 2],
      [2, 2],
      [3, 2],
      [4, 3],
      [5, 3],
      [6, 3],
    ],
  );
  disk.apply({ snapshot: snapshotAt(4, 3) });
  assert.deepEqual(
    disk.load().entries.map((e) => e.index),
    [5, 6],
  );
  assert.equal(disk.load().snapshot?.meta.lastIncludedIndex, 4);
  assert.equal(disk.lastIndex(), 6);
});

test("a snapshot past the end of the log leaves no entries behind", () => {
  const disk = new SimDisk("node 1");
  disk.apply({ append: entries(1, 3, 1) });
  disk.apply({ snapshot: snapshotAt(10, 2) });
  assert.deepEqual(disk.load().entries, []);
  assert.equal(disk.lastIndex(), 10);
});

test("what load() returns is a copy: later writes do not change it", () => {
  const disk = new SimDisk("node 1");
  disk.apply({ append: entries(1, 2, 1) });
  const before = disk.load();
  disk.apply({ append: entries(3, 3, 1), hardState: { term: 5, votedFor: null } });
  assert.equal(before.entries.length, 2);
  assert.equal(before.hardState.term, 0);
});

test("a gap in the log, a term going back, or a second vote in one term are violations", () => {
  const disk = new SimDisk("node 3");
  disk.apply({ hardState: { term: 4, votedFor: 2 }, append: entries(1, 2, 4) });
  assert.throws(() => disk.apply({ append: entries(4, 4, 4) }), /node 3 appended index 4 where 3/);
  assert.throws(
    () => disk.apply({ hardState: { term: 3, votedFor: null } }),
    /term 3 after term 4/,
  );
  assert.throws(
    () => disk.apply({ hardState: { term: 4, votedFor: 1 } }),
    /changed its vote in term 4 from 2 to 1/,
  );
  disk.apply({ hardState: { term: 5, votedFor: null } });
  disk.apply({ hardState: { term: 5, votedFor: 1 } });
  assert.deepEqual(disk.load().hardState, { term: 5, votedFor: 1 });
});

test("truncating into the snapshot or replacing it with an older one is refused", () => {
  const disk = new SimDisk("node 2");
  disk.apply({ append: entries(1, 6, 1) });
  disk.apply({ snapshot: snapshotAt(4, 1) });
  assert.throws(() => disk.apply({ truncateFrom: 3 }), /reaches into its snapshot/);
  assert.throws(() => disk.apply({ snapshot: snapshotAt(2, 1) }), /over a newer one at 4/);
});
