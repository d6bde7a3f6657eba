import assert from "node:assert/strict";
import { open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { PersistedState } from "../../src/consensus/types.js";
import { encodeLogRecord, replayLog } from "../../src/storage/raft-log-file.js";
import {
  InvalidPersistOpsError,
  RaftStore,
  StoreCorruptError,
} from "../../src/storage/raft-store.js";
import { commandEntry, entries, snapshotAt, withTempDir } from "./store-fixtures.js";

async function reopenedState(dir: string): Promise<PersistedState> {
  const store = await RaftStore.open(dir);
  try {
    return store.state();
  } finally {
    await store.close();
  }
}

/** Applies one single-entry append per index, so each entry is its own log record. */
async function storeWithSeparateAppends(dir: string, count: number): Promise<number[]> {
  const store = await RaftStore.open(dir);
  const recordStarts: number[] = [];
  for (let index = 1; index <= count; index++) {
    recordStarts.push((await stat(join(dir, "log"))).size);
    await store.apply({ append: [commandEntry(index)] });
  }
  await store.close();
  return recordStarts;
}

test("a fresh store starts empty, in a directory of mode 0700", async () => {
  await withTempDir(async (parent) => {
    const dir = join(parent, "raft");
    const store = await RaftStore.open(dir);
    assert.deepEqual(store.state(), {
      hardState: { term: 0, votedFor: null },
      snapshot: null,
      entries: [],
    });
    await store.close();
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });
});

test("hard state, appends, truncation and re-append survive a reopen unchanged", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 1, votedFor: 2 }, append: entries(1, 5, 1) });
    await store.apply({
      truncateFrom: 4,
      append: entries(4, 6, 2),
      hardState: { term: 2, votedFor: null },
    });
    await store.apply({ truncateFrom: 7 }); // beyond the end: changes nothing
    const expected: PersistedState = {
      hardState: { term: 2, votedFor: null },
      snapshot: null,
      entries: [...entries(1, 3, 1), ...entries(4, 6, 2)],
    };
    assert.deepEqual(store.state(), expected);
    await store.close();
    assert.deepEqual(await reopenedState(dir), expected);
  });
});

test("a snapshot compacts the log file to the entries after it", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 1, votedFor: null }, append: entries(1, 200) });
    const sizeBefore = (await stat(join(dir, "log"))).size;
    await store.apply({ snapshot: snapshotAt(190), append: entries(201, 202) });
    const expected: PersistedState = {
      hardState: { term: 1, votedFor: null },
      snapshot: snapshotAt(190),
      entries: entries(191, 202),
    };
    assert.deepEqual(store.state(), expected);
    await store.close();

    const logBytes = await readFile(join(dir, "log"));
    assert.ok(
      logBytes.length < sizeBefore / 4,
      `log is ${logBytes.length} bytes, was ${sizeBefore}`,
    );
    const onDisk = replayLog(logBytes, "log");
    assert.equal(onDisk.baseIndex, 190);
    assert.deepEqual(onDisk.entries, entries(191, 202));
    assert.deepEqual(await reopenedState(dir), expected);
  });
});

test("a snapshot beyond the end of the log drops every entry, and appends continue after it", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 3, votedFor: null }, append: entries(1, 3) });
    await store.apply({ snapshot: snapshotAt(10, 3) });
    await store.apply({ append: entries(11, 12, 3) });
    await store.close();
    assert.deepEqual(await reopenedState(dir), {
      hardState: { term: 3, votedFor: null },
      snapshot: snapshotAt(10, 3),
      entries: entries(11, 12, 3),
    });
  });
});

test("an append of several entries is one write and one fdatasync", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ append: entries(1, 2) });
    const probe = await open(join(dir, "log"), "r");
    const prototype = Object.getPrototypeOf(probe) as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    await probe.close();
    const counts = { write: 0, datasync: 0, sync: 0 };
    const originals = {
      write: prototype.write!,
      datasync: prototype.datasync!,
      sync: prototype.sync!,
    };
    for (const name of ["write", "datasync", "sync"] as const) {
      prototype[name] = function (this: unknown, ...args: unknown[]) {
        counts[name]++;
        return originals[name].apply(this, args);
      };
    }
    try {
      await store.apply({ append: entries(3, 10) });
    } finally {
      Object.assign(prototype, originals);
    }
    assert.deepEqual(counts, { write: 1, datasync: 1, sync: 0 });
    await store.close();
    assert.equal((await reopenedState(dir)).entries.length, 10);
  });
});

test("a log cut anywhere inside its last record reopens with the records before it", async () => {
  await withTempDir(async (dir) => {
    const count = 5;
    const recordStarts = await storeWithSeparateAppends(dir, count);
    const logPath = join(dir, "log");
    const whole = await readFile(logPath);
    const lastStart = recordStarts[count - 1]!;
    for (let cut = lastStart; cut < whole.length; cut++) {
      await writeFile(logPath, whole.subarray(0, cut));
      const store = await RaftStore.open(dir);
      assert.deepEqual(store.state().entries, entries(1, count - 1), `cut at ${cut}`);
      assert.equal((await stat(logPath)).size, lastStart, `torn tail removed after cut at ${cut}`);
      // The recovered store keeps working: the lost entry can be appended again.
      await store.apply({ append: [commandEntry(count)] });
      await store.close();
      assert.deepEqual((await reopenedState(dir)).entries, entries(1, count));
    }
  });
});

test("a damaged final record and a zero-filled tail are both treated as torn writes", async () => {
  await withTempDir(async (dir) => {
    const recordStarts = await storeWithSeparateAppends(dir, 4);
    const logPath = join(dir, "log");
    const whole = await readFile(logPath);

    const zeroTail = Buffer.concat([whole, Buffer.alloc(4096)]);
    await writeFile(logPath, zeroTail);
    assert.deepEqual((await reopenedState(dir)).entries, entries(1, 4));
    assert.equal((await stat(logPath)).size, whole.length);

    const flippedLast = Buffer.from(whole);
    flippedLast[whole.length - 3]! ^= 0x01;
    await writeFile(logPath, flippedLast);
    assert.deepEqual((await reopenedState(dir)).entries, entries(1, 3));
    assert.equal((await stat(logPath)).size, recordStarts[3]);
  });
});

test("a flipped byte in a middle record is refused as corruption, naming the file and offset", async () => {
  await withTempDir(async (dir) => {
    const recordStarts = await storeWithSeparateAppends(dir, 5);
    const logPath = join(dir, "log");
    const whole = await readFile(logPath);
    const secondRecord = recordStarts[1]!;
    // Offsets 0-3 damage the length (2: it now runs past the end of the file), 5 the checksum, 20 the payload.
    for (const offsetInRecord of [0, 2, 3, 5, 20]) {
      const damaged = Buffer.from(whole);
      damaged[secondRecord + offsetInRecord]! ^= 0x40;
      await writeFile(logPath, damaged);
      await assert.rejects(RaftStore.open(dir), (error: unknown) => {
        assert.ok(error instanceof StoreCorruptError, String(error));
        assert.equal(error.name, "StoreCorruptError");
        assert.match(
          error.message,
          new RegExp(`^${logPath}, record 2 at offset ${secondRecord}: `),
        );
        assert.match(error.message, /state directory/);
        return true;
      });
      // Refusing must not have "repaired" anything.
      assert.deepEqual(await readFile(logPath), damaged);
    }
  });
});

test("a gap between log entries is refused as corruption", async () => {
  await withTempDir(async (dir) => {
    await storeWithSeparateAppends(dir, 3);
    const logPath = join(dir, "log");
    const withGap = Buffer.concat([
      await readFile(logPath),
      encodeLogRecord({ entries: [commandEntry(5)] }),
    ]);
    await writeFile(logPath, withGap);
    await assert.rejects(RaftStore.open(dir), /holds entry 5 where 4 was expected \(a gap\)/);
  });
});

test("damaged hardstate or snapshot files are refused as corruption", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 3, votedFor: 1 }, append: entries(1, 4) });
    await store.apply({ snapshot: snapshotAt(2) });
    await store.close();

    for (const name of ["hardstate", "snapshot"]) {
      const path = join(dir, name);
      const original = await readFile(path);
      const flipped = Buffer.from(original);
      flipped[flipped.length - 2]! ^= 0x01;
      for (const damaged of [flipped, original.subarray(0, original.length - 1)]) {
        await writeFile(path, damaged);
        await assert.rejects(
          RaftStore.open(dir),
          (error: unknown) =>
            error instanceof StoreCorruptError && error.message.startsWith(`${path}, `),
        );
      }
      await writeFile(path, original);
    }
    assert.equal((await reopenedState(dir)).hardState.term, 3);
  });
});

test("a missing log next to an existing hardstate is refused", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 1, votedFor: 1 }, append: entries(1, 1) });
    await store.close();
    await rm(join(dir, "log"));
    await assert.rejects(RaftStore.open(dir), StoreCorruptError);
  });
});

test("temporaries left by a crash before their rename are removed and ignored", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 2, votedFor: 3 }, append: entries(1, 3) });
    await store.close();
    const before = await reopenedState(dir);
    for (const name of ["hardstate.tmp", "snapshot.tmp", "log.tmp"]) {
      await writeFile(join(dir, name), "half-written garbage");
    }
    assert.deepEqual(await reopenedState(dir), before);
    assert.deepEqual((await readdir(dir)).sort(), ["hardstate", "log"]);
  });
});

test("a crash between writing a snapshot and compacting the log recovers and finishes compaction", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 1, votedFor: null }, append: entries(1, 10) });
    const logPath = join(dir, "log");
    const uncompactedLog = await readFile(logPath);
    await store.apply({ snapshot: snapshotAt(6) });
    await store.close();
    // Put back the log as it was before compaction's rename: the snapshot is newer than its start.
    await writeFile(logPath, uncompactedLog);

    const reopened = await RaftStore.open(dir);
    assert.deepEqual(reopened.state().entries, entries(7, 10));
    assert.equal(replayLog(await readFile(logPath), logPath).baseIndex, 6);
    await reopened.apply({ append: entries(11, 11) });
    await reopened.close();
    assert.deepEqual(await reopenedState(dir), {
      hardState: { term: 1, votedFor: null },
      snapshot: snapshotAt(6),
      entries: entries(7, 11),
    });
  });
});

test("ops that would break contiguity are refused before anything is written", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ append: entries(1, 3) });
    await store.apply({ snapshot: snapshotAt(2) });
    const logBefore = await readFile(join(dir, "log"));
    await assert.rejects(store.apply({ append: entries(5, 5) }), InvalidPersistOpsError);
    await assert.rejects(
      store.apply({ append: [commandEntry(4), commandEntry(6)] }),
      /append\[1\] has index 6/,
    );
    await assert.rejects(store.apply({ truncateFrom: 2 }), /above the snapshot index 2/);
    await assert.rejects(store.apply({ snapshot: snapshotAt(1) }), /older than the stored one/);
    await assert.rejects(
      store.apply({ hardState: { term: -1, votedFor: null } }),
      /hardState: term/,
    );
    assert.deepEqual(await readFile(join(dir, "log")), logBefore);
    // A refused op leaves the store usable.
    await store.apply({ append: entries(4, 4) });
    await store.close();
    assert.ok((await readFile(join(dir, "log"))).length > logBefore.length);
    assert.deepEqual((await reopenedState(dir)).entries, entries(3, 4));
  });
});

test("concurrent apply calls are applied in call order", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await Promise.all([
      store.apply({ append: entries(1, 2) }),
      store.apply({ append: entries(3, 4) }),
      store.apply({
        hardState: { term: 2, votedFor: null },
        truncateFrom: 4,
        append: entries(4, 5, 2),
      }),
    ]);
    await store.close();
    assert.deepEqual((await reopenedState(dir)).entries, [...entries(1, 3), ...entries(4, 5, 2)]);
  });
});

test("a log holding entries of a term its hard state never reached (a crash between the writes, log first): the term is raised to the newest entry's at open, its vote cleared, and that said", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 1, votedFor: 2 }, append: entries(1, 2, 1) });
    assert.equal(store.termRaised, null);
    const termOne = await readFile(join(dir, "hardstate"));
    await store.apply({ hardState: { term: 3, votedFor: null }, append: entries(3, 4, 3) });
    await store.close();
    // As an older version could leave it (log first): the entries of term 3 written, the term not.
    await writeFile(join(dir, "hardstate"), termOne);
    const reopened = await RaftStore.open(dir);
    assert.deepEqual(reopened.termRaised, { from: 1, to: 3 });
    assert.deepEqual(reopened.state().hardState, { term: 3, votedFor: null });
    await reopened.close();
    // Durably: the next open finds nothing to raise.
    const again = await RaftStore.open(dir);
    assert.equal(again.termRaised, null);
    assert.deepEqual(again.state().hardState, { term: 3, votedFor: null });
    await again.close();
  });
});

test("the hard state is written before the log: a crash between them leaves the term ahead, never behind", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 1, votedFor: null }, append: entries(1, 2, 1) });
    // The log's write fails (as a crash there would stop it): the new term is on disk already.
    const log = (store as unknown as { log: { write: unknown } }).log;
    log.write = () => Promise.reject(new Error("simulated crash during the log write"));
    await assert.rejects(
      store.apply({ hardState: { term: 4, votedFor: null }, append: entries(3, 3, 4) }),
      /simulated crash/,
    );
    await store.close().catch(() => undefined);
    const reopened = await RaftStore.open(dir);
    assert.deepEqual(reopened.state().hardState, { term: 4, votedFor: null });
    assert.deepEqual(reopened.state().entries, entries(1, 2, 1));
    await reopened.close();
  });
});

test("ops that would leave an entry of a term the node has not entered are refused before anything is written", async () => {
  await withTempDir(async (dir) => {
    const store = await RaftStore.open(dir);
    await store.apply({ hardState: { term: 2, votedFor: null }, append: entries(1, 1, 2) });
    await assert.rejects(
      store.apply({ append: entries(2, 2, 3) }),
      /the log would hold an entry of term 3 while the term is 2/,
    );
    await assert.rejects(
      store.apply({ snapshot: snapshotAt(5, 4) }),
      /an entry of term 4 while the term is 2/,
    );
    // With the term in the same ops, as the core sends them, it is fine.
    await store.apply({ hardState: { term: 3, votedFor: null }, append: entries(2, 2, 3) });
    await store.close();
    assert.deepEqual((await reopenedState(dir)).entries, [
      ...entries(1, 1, 2),
      ...entries(2, 2, 3),
    ]);
  });
});
