import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { encodeLogFile, encodeLogRecord, replayLog } from "../../src/storage/raft-log-file.js";
import { RaftStore, StoreCorruptError } from "../../src/storage/raft-store.js";
import { commandEntry, entries, withTempDir } from "./store-fixtures.js";

const FILE = "/var/lib/vigil/raft/log";

/** A log of four records, one entry each, and where each record starts. */
function fourRecordLog(): { whole: Buffer; starts: number[]; lastStart: number } {
  const parts = [encodeLogFile(0, [])];
  const starts: number[] = [];
  for (let index = 1; index <= 4; index++) {
    starts.push(Buffer.concat(parts).length);
    parts.push(encodeLogRecord({ entries: [commandEntry(index)] }));
  }
  return { whole: Buffer.concat(parts), starts, lastStart: starts[3]! };
}

/** Bytes no crash writes: a fixed, varied pattern that holds control bytes. */
function garbage(length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 167 + 13) & 0xff));
}

function overwriteEnd(bytes: Buffer, replacement: Buffer): Buffer {
  const damaged = Buffer.from(bytes);
  replacement.copy(damaged, damaged.length - replacement.length);
  return damaged;
}

function assertTorn(damaged: Buffer, lastStart: number, what: string): void {
  const replayed = replayLog(damaged, FILE);
  assert.deepEqual(replayed.entries, entries(1, 3), what);
  assert.equal(replayed.validBytes, lastStart, what);
  assert.equal(replayed.tornTail?.offset, lastStart, what);
  assert.equal(replayed.tornTail?.droppedBytes, damaged.length - lastStart, what);
}

function assertRefused(damaged: Buffer, offset: number, problem: RegExp): void {
  assert.throws(
    () => replayLog(damaged, FILE),
    (error: unknown) => {
      assert.ok(error instanceof StoreCorruptError, String(error));
      assert.match(error.message, new RegExp(`^${FILE}, record \\d+ at offset ${offset}: `));
      assert.match(error.message, problem);
      assert.match(error.message, /mv \/var\/lib\/vigil\/raft \/var\/lib\/vigil\/raft\.damaged/);
      return true;
    },
  );
}

test("torn: the last record cut short anywhere, even inside its header", () => {
  const { whole, lastStart } = fourRecordLog();
  for (const cut of [1, 5, 12, whole.length - lastStart - 1]) {
    assertTorn(whole.subarray(0, whole.length - cut), lastStart, `${cut} bytes cut`);
  }
});

test("torn: the last record's final bytes read as zeros (blocks the disk never wrote)", () => {
  const { whole, lastStart } = fourRecordLog();
  assertTorn(overwriteEnd(whole, Buffer.alloc(8)), lastStart, "last 8 bytes zeroed");
  assertTorn(overwriteEnd(whole, Buffer.from("XXXXXXXX")), lastStart, "last 8 bytes other text");
});

test("torn: zeros or a few bytes after the last valid record", () => {
  const { whole } = fourRecordLog();
  for (const tail of [Buffer.alloc(4096), Buffer.from([7, 0, 0])]) {
    const replayed = replayLog(Buffer.concat([whole, tail]), FILE);
    assert.deepEqual(replayed.entries, entries(1, 4));
    assert.deepEqual(replayed.tornTail?.offset, whole.length);
  }
});

test("damage: the last record's final bytes overwritten with control bytes", () => {
  const { whole, lastStart } = fourRecordLog();
  const damaged = overwriteEnd(whole, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  assertRefused(
    damaged,
    lastStart,
    /checksum mismatch, and this is not a torn final write: byte 0x01 at offset \d+ is neither payload text nor an unwritten \(zero\) byte/,
  );
});

test("damage: 4 KiB of garbage after the last valid record", () => {
  const { whole } = fourRecordLog();
  assertRefused(
    Buffer.concat([whole, garbage(4096)]),
    whole.length,
    /not a torn final write: byte 0x/,
  );
  // Text that never reads as a record header: its length field is out of range.
  const text = Buffer.from("not a record at all");
  assertRefused(
    Buffer.concat([whole, text]),
    whole.length,
    /its length field reads \d+, which no record has/,
  );
});

test("damage: bytes after the end the last record's header declares", () => {
  const { whole, lastStart } = fourRecordLog();
  const damaged = Buffer.concat([overwriteEnd(whole, Buffer.alloc(1)), Buffer.from("{}")]);
  assertRefused(damaged, lastStart, /2 bytes follow the end of the record its header declares/);
});

test("damage: a bad record with a valid one after it", () => {
  const { whole, starts, lastStart } = fourRecordLog();
  const damaged = Buffer.from(whole);
  damaged[lastStart - 3]! ^= 0x01;
  assertRefused(damaged, starts[2]!, new RegExp(`a valid record follows at offset ${lastStart}`));
});

test("the store cuts a torn record off the file, reports where, and appends after it", async () => {
  await withTempDir(async (dir) => {
    const logPath = join(dir, "log");
    const store = await RaftStore.open(dir);
    for (let index = 1; index <= 4; index++) await store.apply({ append: [commandEntry(index)] });
    await store.close();
    const whole = await readFile(logPath);
    const lastRecordBytes = encodeLogRecord({ entries: [commandEntry(4)] }).length;
    await writeFile(logPath, whole.subarray(0, whole.length - 5));
    const reopened = await RaftStore.open(dir);
    const lastStart = whole.length - lastRecordBytes;
    assert.deepEqual(reopened.droppedTornTail, {
      file: logPath,
      offset: lastStart,
      droppedBytes: lastRecordBytes - 5,
      reason: `record of ${lastRecordBytes - 8} bytes runs past the end of the file`,
    });
    assert.equal((await stat(logPath)).size, lastStart);
    assert.deepEqual(reopened.state().entries, entries(1, 3));
    await reopened.apply({ append: [commandEntry(4)] });
    await reopened.close();
    const again = await RaftStore.open(dir);
    assert.equal(again.droppedTornTail, null);
    assert.deepEqual(again.state().entries, entries(1, 4));
    await again.close();
  });
});
