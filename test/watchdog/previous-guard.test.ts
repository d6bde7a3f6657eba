/**
 * A new agent run waits for the node guard its previous run recorded, while that guard still
 * runs (it stops what the run held), and not for a record whose process is gone or is another.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "../../src/log/logger.js";
import { recordGuard, waitForPreviousGuard } from "../../src/watchdog/previous-guard.js";

const logger = createLogger({ level: "error", pretty: false });

async function withStateDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-guard-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

test("waits until the recorded guard has exited", async () => {
  await withStateDir(async (dir) => {
    const guard = spawn("sleep", ["0.5"], { stdio: "ignore" });
    const pid = guard.pid as number;
    await recordGuard(dir, pid);
    await waitForPreviousGuard(dir, logger);
    // Read before this process reaps it: it has ended (a zombie, or gone), not still sleeping.
    let state = "gone";
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      state = stat.slice(stat.lastIndexOf(")") + 2)[0] ?? "?";
    } catch {}
    assert.ok(state === "gone" || state === "Z", `the guard was still running (state ${state})`);
    await exited(guard);
  });
});

test("gives up after its bound, and does not wait for a record of a process gone or another", async () => {
  await withStateDir(async (dir) => {
    const guard = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await recordGuard(dir, guard.pid as number);
      await waitForPreviousGuard(dir, logger, 100);
      assert.equal(guard.exitCode, null, "still running: the wait ended at its bound");
    } finally {
      guard.kill("SIGKILL");
      await exited(guard);
    }
    // Its pid with another start time: another process by now.
    await writeFile(join(dir, "guard.pid"), `${process.pid} 1\n`);
    await waitForPreviousGuard(dir, logger, 60_000);
    await writeFile(join(dir, "guard.pid"), "garbage");
    await waitForPreviousGuard(dir, logger, 60_000);
  });
  await withStateDir((dir) => waitForPreviousGuard(dir, logger, 60_000));
});
