/**
 * A new run of an agent waits while the node guard its last run recorded still runs (it would be
 * stopping what that run held: the new run's probe must not find it running a moment longer).
 * Real agents on loopback; the "guard" still running is a process of this test's, recorded as
 * the agent records its guard, so that how long it runs does not depend on a lease.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { recordGuard } from "../../src/watchdog/previous-guard.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

describe("an agent started again while its last run's guard still runs", () => {
  let dir: string;
  let cluster: LocalCluster;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-previous-guard-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    for (const name of ["alpha", "beta", "gamma"]) await cluster.start(name);
    await waitFor("a leader, as alpha sees it", async () => {
      const status = await cluster.status("alpha").catch(() => undefined);
      return typeof status?.coordination?.leaderId === "number" ? true : undefined;
    });
  });

  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("waits until that guard has exited, then joins", async () => {
    const before = (await cluster.status("alpha")).node.incarnation;
    await cluster.signal("alpha", "SIGKILL");
    // Its real guard exits at once (nothing was held); this one stands for a guard still stopping.
    const guard = spawn("sleep", ["2"], { stdio: "ignore" });
    const guardExited = new Promise<number>((resolve) =>
      guard.once("exit", () => resolve(Date.now())),
    );
    await recordGuard(join(dir, "state", "alpha"), guard.pid as number);
    await cluster.start("alpha");
    const log = () => readFile(cluster.logPath("alpha"), "utf8");
    await waitFor("the new run to say it waits for the guard", async () =>
      /still stopping what that run held/.test(await log()) ? true : undefined,
    );
    const exitedAt = await guardExited;
    await waitFor("the new run to see the guard gone", async () =>
      /the previous run's node guard has exited/.test(await log()) ? true : undefined,
    );
    const status = await waitFor("alpha's new run to answer", async () => {
      const s = await cluster.status("alpha").catch(() => undefined);
      return s !== undefined && s.node.incarnation > before ? s : undefined;
    });
    assert.ok(status.node.incarnation > before);
    // The wait ended with the guard: the new run's coordination began only after it exited.
    const lines = (await log()).split("\n").filter((line) => line.includes('"incarnation"'));
    const started = lines
      .map((line) => JSON.parse(line) as { time: string; incarnation: number; msg: string })
      .find(
        (entry) =>
          entry.incarnation === status.node.incarnation && /node guard started/.test(entry.msg),
      );
    assert.ok(started !== undefined, "the new run started its own guard");
    assert.ok(
      Date.parse(started.time) >= exitedAt - 5,
      "its guard started after the old one exited",
    );
  });
});
