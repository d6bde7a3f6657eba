import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { afterEach, describe, test } from "node:test";
import {
  GUARD_EXIT_CLEAN,
  GUARD_EXIT_FENCED,
  GUARD_EXIT_REFUSED,
  GUARD_EXIT_RELEASED,
  runGuard,
} from "../../src/watchdog/guard.js";
import { line, unstoppableLine } from "./support/held.js";

// runGuard in this process (the CLI tests in guard.test.ts run it as the agent does): the
// self-fence action's failure modes, and the PIDs it refuses.

const agents: ChildProcess[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill("SIGKILL");
  }
});

function dummyAgent(): ChildProcess {
  const agent = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  agents.push(agent);
  return agent;
}

function exitOf(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
}

function logged(): { log: (line: string) => void; entries: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    log: (line) => lines.push(line),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("runGuard", () => {
  test("an action that hangs is killed at its timeout; the node still counts as fenced", async () => {
    const agent = dummyAgent();
    const input = new PassThrough();
    const { log, entries } = logged();
    const done = runGuard({
      agentPid: agent.pid!,
      action: ["sh", "-c", "sleep 60"],
      input,
      log,
      actionTimeoutMs: 200,
    });
    input.write(`${unstoppableLine()}${line("lease 50")}`);
    assert.equal(await done, GUARD_EXIT_FENCED);
    assert.equal(await exitOf(agent), "SIGKILL");
    const action = entries().find((entry) => entry.msg === "self-fence action finished");
    assert.equal(action?.timedOut, true, JSON.stringify(entries()));
    assert.equal(action?.signal, "SIGKILL");
  });

  test("an action that cannot start is logged; the agent is killed all the same", async () => {
    const agent = dummyAgent();
    const input = new PassThrough();
    const { log, entries } = logged();
    const done = runGuard({ agentPid: agent.pid!, action: ["/nonexistent/fence"], input, log });
    input.end(`${unstoppableLine()}${line("lease 600000")}`);
    assert.equal(await done, GUARD_EXIT_FENCED);
    assert.equal(await exitOf(agent), "SIGKILL");
    const action = entries().find((entry) => entry.msg === "self-fence action finished");
    assert.match(String(action?.error), /ENOENT/);
    assert.equal(action?.level, "error");
  });

  test("with no action it only kills the agent", async () => {
    const agent = dummyAgent();
    const input = new PassThrough();
    const { log, entries } = logged();
    const done = runGuard({ agentPid: agent.pid!, action: [], input, log });
    input.end(`${unstoppableLine()}${line("lease 0")}`);
    assert.equal(await done, GUARD_EXIT_FENCED);
    assert.equal(await exitOf(agent), "SIGKILL");
    assert.equal(
      entries().some((entry) => entry.msg === "self-fence action finished"),
      false,
    );
  });

  test("an agent already gone is no error; with nothing held the release is done at once", async () => {
    const agent = dummyAgent();
    agent.kill("SIGKILL");
    await exitOf(agent);
    const input = new PassThrough();
    const { log, entries } = logged();
    const done = runGuard({ agentPid: agent.pid!, action: [], input, log });
    input.end(line("lease 600000"));
    assert.equal(await done, GUARD_EXIT_RELEASED);
    const kill = entries().find((entry) => entry.msg === "sent SIGKILL to the agent");
    assert.deepEqual([kill?.group, kill?.process, kill?.level], ["gone", "gone", "info"]);
  });

  test("refuses PIDs that kill() would turn into whole groups or everything", async () => {
    for (const agentPid of [-5, 0, 1, 1.5, Number.NaN, process.pid]) {
      const { log } = logged();
      assert.equal(
        await runGuard({ agentPid, action: [], input: new PassThrough(), log }),
        GUARD_EXIT_REFUSED,
        String(agentPid),
      );
    }
  });

  test("bye: exit 0 without touching the agent", async () => {
    const agent = dummyAgent();
    const input = new PassThrough();
    const { log } = logged();
    const done = runGuard({ agentPid: agent.pid!, action: [], input, log });
    input.write(line("lease 600000"));
    input.write(line({ kind: "bye" }));
    assert.equal(await done, GUARD_EXIT_CLEAN);
    assert.equal(agent.exitCode, null);
    assert.equal(agent.signalCode, null);
  });
});
