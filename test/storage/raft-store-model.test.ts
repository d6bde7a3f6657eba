import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { EntryBody, LogEntry, PersistedState, PersistOps } from "../../src/consensus/types.js";
import { RaftStore } from "../../src/storage/raft-store.js";
import { snapshotAt, withTempDir } from "./store-fixtures.js";

/** The obvious in-memory meaning of PersistOps, written independently of the store. */
function applyToModel(model: PersistedState, ops: PersistOps): PersistedState {
  let { hardState, snapshot, entries } = model;
  if (ops.snapshot) {
    snapshot = ops.snapshot;
    const covered = ops.snapshot.meta.lastIncludedIndex;
    entries = entries.filter((entry) => entry.index > covered);
  }
  if (ops.truncateFrom !== undefined) {
    const from = ops.truncateFrom;
    entries = entries.filter((entry) => entry.index < from);
  }
  if (ops.append) entries = [...entries, ...ops.append];
  if (ops.hardState) hardState = ops.hardState;
  return structuredClone({ hardState, snapshot, entries });
}

/** A step in terms the generator can produce blindly; `toOps` makes it valid for the model. */
interface Step {
  snapshotReach: number | null;
  truncateReach: number | null;
  append: EntryBody[];
  hardState: { term: number; votedFor: number | null } | null;
  reopenAfter: boolean;
}

const bodyArbitrary: fc.Arbitrary<EntryBody> = fc.oneof(
  fc.constant({ kind: "noop" as const }),
  fc.record({
    kind: fc.constant("command" as const),
    payload: fc.string({ unit: "binary", maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant("membership" as const),
    membership: fc.record({
      members: fc.array(
        fc.record({ id: fc.nat(9), votes: fc.integer({ min: 1, max: 3 }), witness: fc.boolean() }),
        { maxLength: 3 },
      ),
    }),
  }),
);

const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  snapshotReach: fc.option(fc.double({ min: 0, max: 1.5, noNaN: true }), { freq: 5 }),
  truncateReach: fc.option(fc.double({ min: 0, max: 1.2, noNaN: true }), { freq: 3 }),
  append: fc.array(bodyArbitrary, { maxLength: 5 }),
  hardState: fc.option(fc.record({ term: fc.nat(50), votedFor: fc.option(fc.nat(9)) })),
  reopenAfter: fc.boolean(),
});

function lastIndexOf(model: PersistedState): number {
  return model.entries.at(-1)?.index ?? model.snapshot?.meta.lastIncludedIndex ?? 0;
}

function toOps(model: PersistedState, step: Step): PersistOps {
  const ops: PersistOps = {};
  // Terms never go back, and nothing on disk is of a term ahead of the hard state's (the store
  // raises the term to its newest entry's at open otherwise: raft-store.test.ts).
  const term = Math.max(model.hardState.term, step.hardState?.term ?? 0);
  let snapshotIndex = model.snapshot?.meta.lastIncludedIndex ?? 0;
  let lastIndex = lastIndexOf(model);
  if (step.snapshotReach !== null) {
    // Reach > 1 puts the snapshot past the log's end, as when a lagging follower installs one.
    snapshotIndex += Math.floor(step.snapshotReach * (lastIndex - snapshotIndex + 1));
    ops.snapshot = snapshotAt(snapshotIndex, Math.min(1, term));
    lastIndex = Math.max(lastIndex, snapshotIndex);
  }
  if (step.truncateReach !== null) {
    const from = snapshotIndex + 1 + Math.floor(step.truncateReach * (lastIndex - snapshotIndex));
    ops.truncateFrom = from;
    lastIndex = Math.min(lastIndex, from - 1);
  }
  if (step.append.length > 0) {
    ops.append = step.append.map(
      (body, offset): LogEntry => ({ index: lastIndex + 1 + offset, term, body }),
    );
  }
  if (step.hardState !== null) ops.hardState = { ...step.hardState, term };
  return ops;
}

test("random PersistOps sequences leave the store in the model's state, across reopens", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 12 }), async (steps) => {
      await withTempDir(async (dir) => {
        let model: PersistedState = {
          hardState: { term: 0, votedFor: null },
          snapshot: null,
          entries: [],
        };
        let store = await RaftStore.open(dir);
        try {
          for (const step of steps) {
            const ops = toOps(model, step);
            model = applyToModel(model, ops);
            await store.apply(ops);
            assert.deepEqual(store.state(), model);
            if (step.reopenAfter) {
              await store.close();
              store = await RaftStore.open(dir);
              assert.deepEqual(store.state(), model);
            }
          }
        } finally {
          await store.close();
        }
        const reopened = await RaftStore.open(dir);
        assert.deepEqual(reopened.state(), model);
        await reopened.close();
      });
    }),
    { numRuns: 80 },
  );
});
