import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import type { AgentRef } from "../../src/resource-model/types.js";
import { Executor, ExecutorQueueFullError } from "../../src/resources/executor/executor.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";
import { waitFor } from "../support/wait.js";
import { processDead, steppingClock, TempDir } from "./support.js";

function execRef(path: string): AgentRef {
  return { kind: "exec", name: path };
}

test("a timeout kills the whole process group, even a child that ignores SIGTERM", async () => {
  const dir = new TempDir();
  try {
    const agent = dir.script(
      "forks.sh",
      [
        // The child ignores SIGTERM, so only the SIGKILL that follows the grace ends it.
        `sh -c 'trap "" TERM; exec sleep 300' &`,
        `echo $! > ${dir.file("child.pid")}`,
        `echo $$ > ${dir.file("parent.pid")}`,
        "sleep 300",
      ].join("\n"),
    );
    const executor = new Executor({
      clock: steppingClock(),
      runner: new ChildProcessRunner({ killGraceMs: 300 }),
    });
    const result = await executor.run("forker", {
      operation: "start",
      agent: execRef(agent),
      params: {},
      timeoutMs: 700,
    });
    assert.equal(result.outcome, "timeout");
    assert.equal(result.severity, "soft");
    assert.match(result.reason ?? "", /start did not finish within 700 ms/);
    const parentPid = Number(dir.read("parent.pid"));
    const childPid = Number(dir.read("child.pid"));
    assert.ok(parentPid > 0 && childPid > 0 && parentPid !== childPid);
    // The runner reports the timeout once SIGKILL was sent; the kernel finishes the kill a moment
    // later, so wait for it (the wait's timeout is only a safety net).
    await waitFor("the agent and its forked child to die", () =>
      processDead(parentPid) && processDead(childPid) ? true : undefined,
    );
    assert.equal(processDead(parentPid), true, `agent ${parentPid} still runs`);
    assert.equal(processDead(childPid), true, `forked child ${childPid} still runs`);
  } finally {
    dir.remove();
  }
});

test("a cancelled start ends at once like a timeout, its processes killed, and says it was cancelled", async () => {
  const dir = new TempDir();
  try {
    const agent = dir.script(
      "slow-start.sh",
      [`echo $$ > ${dir.file("agent.pid")}`, "sleep 300"].join("\n"),
    );
    const executor = new Executor({
      clock: steppingClock(),
      runner: new ChildProcessRunner({ killGraceMs: 300 }),
    });
    const cancel = new AbortController();
    const running = executor.run(
      "slow",
      { operation: "start", agent: execRef(agent), params: {}, timeoutMs: 60_000 },
      cancel.signal,
    );
    await waitFor("the agent to run", () => (existsSync(dir.file("agent.pid")) ? true : undefined));
    cancel.abort();
    const result = await running;
    assert.equal(result.outcome, "timeout");
    assert.match(result.reason ?? "", /^start cancelled after \d+ ms$/);
    const pid = Number(dir.read("agent.pid"));
    await waitFor("the cancelled agent to die", () => (processDead(pid) ? true : undefined));
  } finally {
    dir.remove();
  }
});

test("operations on one resource run one at a time, in order", async () => {
  const dir = new TempDir();
  try {
    const log = dir.file("log");
    const agent = dir.script(
      "slow.sh",
      `echo "begin $1" >> ${log}; sleep 0.2; echo "end $1" >> ${log}; exit 0`,
    );
    const executor = new Executor({ clock: steppingClock() });
    const request = (operation: "start" | "monitor" | "stop") => ({
      operation,
      agent: execRef(agent),
      params: {},
      timeoutMs: 10_000,
    });
    const results = await Promise.all([
      executor.run("r1", request("start")),
      executor.run("r1", request("monitor")),
      executor.run("r1", request("stop")),
    ]);
    assert.deepEqual(
      results.map((result) => result.outcome),
      ["success", "running", "success"],
    );
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
      "begin start",
      "end start",
      "begin monitor",
      "end monitor",
      "begin stop",
      "end stop",
    ]);
    assert.deepEqual(
      executor.history("r1").map((entry) => entry.operation),
      ["start", "monitor", "stop"],
    );
  } finally {
    dir.remove();
  }
});

test("operations on different resources run in parallel", async () => {
  const dir = new TempDir();
  try {
    // Each start announces itself, then waits for the other's announcement: run one after the
    // other they could never both succeed (the wait gives up after 10 s and fails).
    const agent = dir.script(
      "rendezvous.sh",
      [
        `touch ${dir.path}/$VIGIL_PARAM_ME`,
        "i=0",
        `while [ ! -e ${dir.path}/$VIGIL_PARAM_PEER ]; do`,
        "  i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.05",
        "done",
        "exit 0",
      ].join("\n"),
    );
    const executor = new Executor({ clock: steppingClock() });
    const [a, b] = await Promise.all([
      executor.run("a", {
        operation: "start",
        agent: execRef(agent),
        params: { me: "a", peer: "b" },
        timeoutMs: 20_000,
      }),
      executor.run("b", {
        operation: "start",
        agent: execRef(agent),
        params: { me: "b", peer: "a" },
        timeoutMs: 20_000,
      }),
    ]);
    assert.equal(a?.outcome, "success");
    assert.equal(b?.outcome, "success");
  } finally {
    dir.remove();
  }
});

test("history keeps the last 50 operations with timestamps and stderr tails", async () => {
  const dir = new TempDir();
  try {
    const agent = dir.script("noisy.sh", `echo "warning from $1" >&2; exit 7`);
    const clock = steppingClock();
    const executor = new Executor({ clock });
    const results = [];
    for (let i = 0; i < 55; i++) {
      results.push(
        await executor.run("r", {
          operation: "monitor",
          agent: execRef(agent),
          params: {},
          timeoutMs: 5_000,
        }),
      );
    }
    const history = executor.history("r");
    assert.equal(history.length, 50);
    assert.equal(history[0]?.startedAtMs, results[5]?.startedAtMs);
    assert.equal(history[49]?.startedAtMs, results[54]?.startedAtMs);
    const last = history[49]!;
    assert.equal(last.outcome, "not_running");
    assert.equal(last.exitCode, 7);
    assert.equal(last.stderrTail, "warning from monitor\n");
    // The stepping clock moves 10 ms per read; the operation read it twice.
    assert.equal(last.durationMs, 10);
    assert.deepEqual(executor.history("never-ran"), []);
  } finally {
    dir.remove();
  }
});

test("a resource's queue is bounded", async () => {
  const dir = new TempDir();
  try {
    const agent = dir.script("wait.sh", `while [ ! -e ${dir.file("go")} ]; do sleep 0.02; done`);
    const executor = new Executor({ clock: steppingClock(), queueLimit: 2 });
    const request = {
      operation: "monitor" as const,
      agent: execRef(agent),
      params: {},
      timeoutMs: 20_000,
    };
    const first = executor.run("r", request);
    const second = executor.run("r", request);
    assert.throws(() => executor.run("r", request), ExecutorQueueFullError);
    writeFileSync(dir.file("go"), "");
    assert.equal((await first).outcome, "running");
    assert.equal((await second).outcome, "running");
    // Room again once the queue drained.
    assert.equal((await executor.run("r", request)).outcome, "running");
  } finally {
    dir.remove();
  }
});
