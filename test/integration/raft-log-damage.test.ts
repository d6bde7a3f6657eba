import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFile, mkdtemp, open, readFile, rename, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { agentArguments, LocalCluster } from "../../src/demo/local-cluster.js";
import { FILE_MAGIC_BYTES, readRecordAt } from "../../src/storage/record-codec.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);

/**
 * A follower killed with SIGKILL whose Raft log then loses or gains bytes at its end, on three
 * real agents: a torn last record is dropped and the node catches up with the leader; anything
 * else refuses to start, naming the file and offset, and the rejoin it describes works.
 */
describe("a damaged Raft log on a real agent", () => {
  let dir: string;
  let cluster: LocalCluster;
  let changes = 0;

  const coordination = async (name: string) => {
    const view = (await cluster.status(name)).coordination;
    if (view === null) throw new Error(`${name} has no coordination status`);
    return view;
  };
  const leaderName = (timeoutMs?: number) =>
    waitFor(
      "a leader",
      async () => {
        const running = cluster.names.filter((name) => cluster.isRunning(name));
        const views = await Promise.all(
          running.map((name) => coordination(name).catch(() => null)),
        );
        const index = views.findIndex((view) => view?.role === "leader");
        return index < 0 ? undefined : running[index];
      },
      { timeoutMs },
    );
  const logFileOf = (name: string) => join(dir, "state", name, "raft", "log");

  /**
   * Commits a few changes and waits until a follower holds and has acknowledged every entry
   * of the leader's log, so the end of its log is something the leader counted as stored there;
   * then kills that follower with SIGKILL.
   */
  async function killCaughtUpFollower(): Promise<string> {
    const leader = await leaderName();
    for (let i = 0; i < 3; i++) {
      await cluster.applyResources(leader, `resources: {}\n# change ${changes++}\n`);
    }
    const victim = cluster.names.find((name) => name !== leader)!;
    await waitFor(`${victim} to hold the leader's whole log`, async () => {
      const [ours, theirs] = [await coordination(leader), await coordination(victim)];
      return theirs.commitIndex === ours.lastLogIndex && ours.commitIndex === ours.lastLogIndex
        ? true
        : undefined;
    });
    await cluster.signal(victim, "SIGKILL");
    return victim;
  }

  /** The node has applied everything the leader had committed and shows its state version. */
  async function caughtUp(name: string): Promise<void> {
    const leader = await leaderName();
    const target = (await coordination(leader)).commitIndex;
    const view = await waitFor(
      `${name} to catch up with ${leader}'s commit ${target}`,
      async () => {
        const [ours, theirs] = [await coordination(leader), await coordination(name)];
        return theirs.appliedIndex >= target && theirs.stateVersion === ours.stateVersion
          ? theirs
          : undefined;
      },
    );
    assert.ok(view.commitIndex >= target);
    assert.ok(view.stateVersion > 0);
  }

  async function lastRecordStart(file: string): Promise<number> {
    const bytes = await readFile(file);
    let offset = FILE_MAGIC_BYTES;
    let last = offset;
    for (let read = readRecordAt(bytes, offset); read.ok; read = readRecordAt(bytes, offset)) {
      last = offset;
      offset = read.end;
    }
    assert.equal(offset, bytes.length, "the log was whole before the damage");
    return last;
  }

  async function assertTornRecordDroppedAndCaughtUp(
    damage: (file: string, size: number) => Promise<void>,
  ): Promise<void> {
    const victim = await killCaughtUpFollower();
    const file = logFileOf(victim);
    const tornAt = await lastRecordStart(file);
    await damage(file, (await readFile(file)).length);
    await cluster.start(victim);
    await caughtUp(victim);
    const log = await readFile(cluster.logPath(victim), "utf8");
    assert.match(
      log,
      new RegExp(`dropped a torn final record of the Raft log ${file} at offset ${tornAt} `),
    );
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-log-damage-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    for (const name of cluster.names) await cluster.start(name);
    // A cold start of three agents on a busy machine: the only wait here with a longer net.
    await leaderName(60_000);
  });

  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("the last 8 bytes overwritten with zeros (sectors never written): dropped, and the node catches up", async () => {
    await assertTornRecordDroppedAndCaughtUp(async (file, size) => {
      const handle = await open(file, "r+");
      await handle.write(Buffer.alloc(8), 0, 8, size - 8);
      await handle.close();
    });
  });

  test("5 bytes cut off the end: dropped, and the node catches up", async () => {
    await assertTornRecordDroppedAndCaughtUp((file, size) => truncate(file, size - 5));
  });

  test("4 KiB of garbage appended: refused with file, offset and how to rejoin; the rejoin works", async () => {
    const victim = await killCaughtUpFollower();
    const file = logFileOf(victim);
    const validEnd = (await readFile(file)).length;
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 167 + 13) & 0xff));
    await appendFile(file, garbage);
    // Before refusals existed the agent ran on with an empty state: the timeout ends that run.
    const result = await run(
      process.execPath,
      agentArguments({
        configPath: cluster.configPath,
        node: victim,
        socketPath: cluster.socketPath(victim),
        stateDir: join(dir, "state", victim),
      }),
      { timeout: 20_000, killSignal: "SIGKILL" },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number | null; stderr: string }) => error,
    );
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(`${file}, record `), result.stderr);
    assert.match(result.stderr, new RegExp(`at offset ${validEnd}: .*not a torn final write`));
    const rejoin = /`mv (\S+) (\S+)`/.exec(result.stderr);
    assert.ok(rejoin !== null, result.stderr);
    assert.equal(rejoin[1], join(dir, "state", victim, "raft"));
    await rename(rejoin[1]!, rejoin[2]!);
    await cluster.start(victim);
    await caughtUp(victim);
  });
});
