/**
 * OffThreadRunner: commands run by a worker thread answer exactly as ChildProcessRunner's do, a
 * timeout or an abort still ends the whole process group, and a thread that ends takes its
 * commands' processes with it. Real processes throughout.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OffThreadRunner, SpawnThread } from "../../src/resources/executor/off-thread-runner.js";
import { setChildNice } from "../../src/scheduling/child-priority.js";
import { niceOf } from "../support/proc.js";
import { waitFor } from "../support/wait.js";

/** A process gone, or a zombie nobody will reap (its thread is gone): it runs no more. */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

test("a command's exit code, output, stdin and pid come back from the thread", async () => {
  const runner = new OffThreadRunner();
  let spawned: number | undefined;
  const outcome = await runner.run({
    file: "sh",
    args: ["-c", 'read line; echo "out:$line:$EXTRA"; echo err >&2; exit 3'],
    env: { EXTRA: "x" },
    stdin: "hello\n",
    onSpawn: (pid) => {
      spawned = pid;
    },
  });
  assert.equal(outcome.exitCode, 3);
  assert.equal(outcome.exitSignal, null);
  assert.equal(outcome.timedOut, false);
  assert.equal(outcome.stdout, "out:hello:x\n");
  assert.equal(outcome.stderrTail, "err\n");
  assert.equal(outcome.pid, spawned);
  assert.ok(spawned !== undefined && spawned > 0);
});

test("a command that cannot start says why, and one spawn() refuses does not hang", async () => {
  const runner = new OffThreadRunner();
  const missing = await runner.run({ file: "/nonexistent/vigil-no-such-program", args: [] });
  assert.equal(missing.spawnError?.code, "ENOENT");
  assert.equal(missing.exitCode, null);
  const refused = await runner.run({ file: "echo", args: ["a\u0000b"] });
  assert.equal(refused.spawnError?.code, "ERR_INVALID_ARG_VALUE");
});

test("a timeout ends the whole group, a child that ignores SIGTERM included", async () => {
  const runner = new OffThreadRunner({ killGraceMs: 100 });
  const outcome = await runner.run({
    file: "sh",
    args: ["-c", "(trap '' TERM; sleep 30) & echo $!; wait"],
    timeoutMs: 200,
  });
  assert.equal(outcome.timedOut, true);
  const child = Number(outcome.stdout.trim());
  assert.ok(child > 0, `the shell printed its child's pid: ${outcome.stdout}`);
  await waitFor("the SIGTERM-proof child killed", () => (runs(child) ? undefined : true), {
    timeoutMs: 5_000,
  });
});

test("an abort ends a running command, and one aborted before it runs never starts", async () => {
  const runner = new OffThreadRunner({ killGraceMs: 100 });
  const abort = new AbortController();
  let pid: number | undefined;
  const running = runner.run({
    file: "sleep",
    args: ["30"],
    signal: abort.signal,
    onSpawn: (spawned) => {
      pid = spawned;
      abort.abort();
    },
  });
  const outcome = await running;
  assert.equal(outcome.timedOut, true);
  assert.ok(pid !== undefined && !runs(pid));
  const early = await runner.run({ file: "sleep", args: ["30"], signal: AbortSignal.abort() });
  assert.equal(early.timedOut, true);
  assert.equal(early.pid, undefined);
});

test("commands run side by side on the one thread", async () => {
  const runner = new OffThreadRunner();
  const outcomes = await Promise.all(
    [1, 2, 3, 4].map((n) => runner.run({ file: "sh", args: ["-c", `sleep 0.2; echo ${n}`] })),
  );
  assert.deepEqual(
    outcomes.map((outcome) => outcome.stdout),
    ["1\n", "2\n", "3\n", "4\n"],
  );
});

test("a thread that ends kills what it was running and answers for it; the next command gets a new thread", async () => {
  const thread = new SpawnThread();
  const runner = new OffThreadRunner({}, thread);
  let pid: number | undefined;
  const running = runner.run({
    file: "sh",
    args: ["-c", "trap '' TERM; sleep 30"],
    onSpawn: (spawned) => {
      pid = spawned;
    },
  });
  await waitFor("the command started", () => pid, { timeoutMs: 10_000 });
  await thread.stop();
  const outcome = await running;
  assert.equal(outcome.spawnError?.code, "EWORKER");
  assert.match(outcome.spawnError?.message ?? "", /the thread that runs commands ended/);
  await waitFor("its process killed", () => (runs(pid as number) ? undefined : true), {
    timeoutMs: 5_000,
  });
  const next = await runner.run({ file: "echo", args: ["again"] });
  assert.equal(next.stdout, "again\n");
  await thread.stop();
});

test("an idle thread does not keep a process alive", async () => {
  const script = `
    import { OffThreadRunner } from ${JSON.stringify(new URL("../../src/resources/executor/off-thread-runner.ts", import.meta.url).href)};
    const outcome = await new OffThreadRunner().run({ file: "echo", args: ["done"] });
    process.stdout.write(outcome.stdout);
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", fileURLToPath(import.meta.resolve("tsx")), "--input-type=module", "-e", script],
    { timeout: 30_000 },
  );
  assert.equal(stdout, "done\n");
});

test("children get the agent's original niceness, set on the agent's thread, from the spawning thread too", async () => {
  const lowered = Math.min(getPriority() + 3, 19);
  setChildNice(lowered);
  try {
    let pid: number | undefined;
    const done = new OffThreadRunner().run({
      file: "sleep",
      args: ["1"],
      onSpawn: (spawned) => {
        pid = spawned;
      },
    });
    const spawned = await waitFor("the command started", () => pid, { timeoutMs: 10_000 });
    assert.equal(niceOf(spawned), lowered);
    await done;
  } finally {
    setChildNice(null);
  }
});
