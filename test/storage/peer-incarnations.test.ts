import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { PEER_INCARNATIONS_FILE, PeerIncarnations } from "../../src/storage/peer-incarnations.js";
import { withTempDir } from "./store-fixtures.js";

const CONFIGURED = new Set([1, 2, 3]);

function load(stateDir: string, problems: string[] = []): Promise<PeerIncarnations> {
  return PeerIncarnations.load({
    stateDir,
    isKnownNode: (id) => CONFIGURED.has(id),
    report: (problem) => problems.push(problem),
  });
}

const bySender = (record: PeerIncarnations) =>
  record.carriedOver.kind === "known" ? Object.fromEntries(record.carriedOver.bySender) : null;

test("a first start carries nothing over; what it notes is carried over by the next", async () => {
  await withTempDir(async (dir) => {
    const problems: string[] = [];
    const first = await load(dir, problems);
    assert.deepEqual(bySender(first), {});
    assert.deepEqual(problems, []);
    first.note(2, 500);
    first.note(3, 40);
    first.note(2, 499); // an older run: nothing to write
    first.note(2, 700);
    await first.flush();
    const second = await load(dir);
    assert.deepEqual(bySender(second), { 2: 700, 3: 40 });
    // What the second run does not hear again is kept for the run after it.
    second.note(3, 41);
    await second.flush();
    assert.deepEqual(bySender(await load(dir)), { 2: 700, 3: 41 });
  });
});

test("nodes no longer in the configuration are dropped: one record per configured peer", async () => {
  await withTempDir(async (dir) => {
    const wide = await PeerIncarnations.load({
      stateDir: dir,
      isKnownNode: () => true,
      report: () => {},
    });
    wide.note(2, 5);
    wide.note(9, 6);
    await wide.flush();
    assert.deepEqual(bySender(await load(dir)), { 2: 5 });
  });
});

test("a damaged record falls back to unknown and says which file and what is wrong", async () => {
  await withTempDir(async (dir) => {
    const record = await load(dir);
    record.note(2, 500);
    await record.flush();
    const path = join(dir, PEER_INCARNATIONS_FILE);
    const bytes = await readFile(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3]! ^= 0x01;
    const damaged: Array<[string, Buffer, RegExp]> = [
      ["a flipped bit", flipped, /checksum mismatch/],
      ["cut short", bytes.subarray(0, bytes.length - 4), /past the end of the file/],
      ["another file", Buffer.from("1796535250063\n"), /file magic is not VIGPINC1/],
      ["empty", Buffer.alloc(0), /file magic/],
    ];
    for (const [what, contents, problem] of damaged) {
      await writeFile(path, contents);
      const problems: string[] = [];
      const loaded = await load(dir, problems);
      assert.equal(loaded.carriedOver.kind, "unknown", what);
      assert.equal(problems.length, 1, what);
      assert.match(problems[0]!, new RegExp(`${PEER_INCARNATIONS_FILE}, offset \\d+`), what);
      assert.match(problems[0]!, problem, what);
      // The next change writes a sound record again.
      loaded.note(3, 9);
      await loaded.flush();
      assert.deepEqual(bySender(await load(dir)), { 3: 9 }, what);
    }
  });
});

test("a failed write is reported, never thrown, and retried at the next change", async () => {
  await withTempDir(async (parent) => {
    const dir = join(parent, "state");
    const problems: string[] = [];
    const record = await load(dir, problems);
    record.note(2, 5); // the state directory does not exist: the write fails
    await record.flush();
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /cannot record .*peer-incarnations: ENOENT/);
    await mkdir(dir);
    record.note(3, 6);
    await record.flush();
    assert.deepEqual(bySender(await load(dir)), { 2: 5, 3: 6 });
  });
});
