import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type FencingConfig, fencingSchema } from "../../src/config/safety-schema.js";
import { fenceAgentInput } from "../../src/fencing/agent-input.js";
import { FenceAgentCatalog } from "../../src/fencing/fence-agents.js";
import { type FenceAttempt, FenceRunner, killGraceFor } from "../../src/fencing/fence-runner.js";
import {
  ChildProcessRunner,
  type CommandSpec,
  type ProcessOutcome,
  type ProcessRunner,
} from "../../src/resources/executor/process-runner.js";
import { systemClock } from "../../src/time/clock.js";
import { processDead } from "../resources/support.js";
import { waitFor } from "../support/wait.js";

const FENCE_TEST = fileURLToPath(new URL("../fixtures/fence/fence_test", import.meta.url));
const AGENT = `exec:${FENCE_TEST}`;

/** A temporary directory with the fence log that every fence_test device appends to. */
function scratch(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-fence-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "fence.log");
  return {
    dir,
    log,
    /** The log's lines without their timestamp: "<action> <plug> <stdin lines...>". */
    entries(): string[] {
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.replace(/^\d+ /, ""));
    },
  };
}

function fencing(input: unknown): FencingConfig {
  return fencingSchema.parse(input);
}

/** A fence_test device for db1 (plug `plug`), with extra fixture parameters. */
function device(log: string, plug: string, params: Record<string, string> = {}) {
  return { agent: AGENT, params: { log, ...params }, targets: { db1: plug } };
}

function runnerFor(config: FencingConfig, options: { killGraceMs?: number } = {}) {
  return new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({
      runner: new ChildProcessRunner({ killGraceMs: options.killGraceMs ?? 300 }),
    }),
    clock: systemClock,
  });
}

/** The attempts without their timing, for deepEqual. */
function summary(attempts: FenceAttempt[]) {
  return attempts.map(({ level, device, action, ok, exitCode, timedOut }) => ({
    level,
    device,
    action,
    ok,
    exitCode,
    timedOut,
  }));
}

test("the first level fences the node", async (t) => {
  const { log, entries } = scratch(t);
  const config = fencing({
    devices: { ipmi: device(log, "", { ip: "10.0.0.9" }), pdu: device(log, "4") },
  });
  const outcome = await runnerFor(config).fence("db1");
  assert.equal(outcome.ok, true);
  assert.equal(outcome.node, "db1");
  assert.equal(outcome.action, "reboot", "the configured action by default");
  assert.deepEqual(outcome.fencedBy, ["ipmi"]);
  assert.deepEqual(summary(outcome.attempts), [
    { level: 1, device: "ipmi", action: "reboot", ok: true, exitCode: 0, timedOut: false },
  ]);
  assert.equal(outcome.attempts[0]!.detail, "");
  assert.ok(outcome.attempts[0]!.durationMs >= 0);
  assert.deepEqual(entries(), [`reboot - log=${log} ip=10.0.0.9 action=reboot nodename=db1`]);
});

test("a failed device ends its level; the next level fences the node", async (t) => {
  const { log, entries } = scratch(t);
  const config = fencing({
    devices: {
      "pdu-a": device(log, "1"),
      "pdu-b": device(log, "2", { exit: "1", stderr: "outlet 2 did not switch" }),
      "pdu-c": device(log, "3"),
      ipmi: device(log, ""),
      spare: device(log, "9"),
    },
    levels: {
      db1: [
        ["pdu-a", "pdu-b", "pdu-c"],
        ["ipmi", "spare"],
      ],
    },
  });
  const outcome = await runnerFor(config).fence("db1", "off");
  assert.equal(outcome.ok, true);
  assert.equal(outcome.action, "off");
  assert.deepEqual(outcome.fencedBy, ["ipmi", "spare"]);
  assert.deepEqual(summary(outcome.attempts), [
    { level: 1, device: "pdu-a", action: "off", ok: true, exitCode: 0, timedOut: false },
    { level: 1, device: "pdu-b", action: "off", ok: false, exitCode: 1, timedOut: false },
    { level: 2, device: "ipmi", action: "off", ok: true, exitCode: 0, timedOut: false },
    { level: 2, device: "spare", action: "off", ok: true, exitCode: 0, timedOut: false },
  ]);
  assert.equal(outcome.attempts[1]!.detail, "exit code 1: outlet 2 did not switch");
  // pdu-c, after the failed pdu-b in level 1, never ran.
  assert.deepEqual(
    entries().map((entry) => entry.split(" ").slice(0, 2).join(" ")),
    ["off 1", "off 2", "off -", "off 9"],
  );
});

test("a reboot on a level of several devices is off on all of them, then on on all", async (t) => {
  const { log, entries } = scratch(t);
  const config = fencing({
    devices: {
      psu1: device(log, "1"),
      psu2: device(log, "2", { exit: "1", exit_action: "on" }),
    },
    levels: { db1: [["psu1", "psu2"]] },
  });
  const outcome = await runnerFor(config).fence("db1", "reboot");
  // The node was off once both supplies were: a failed power-on does not undo that.
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.fencedBy, ["psu1", "psu2"]);
  assert.deepEqual(summary(outcome.attempts), [
    { level: 1, device: "psu1", action: "off", ok: true, exitCode: 0, timedOut: false },
    { level: 1, device: "psu2", action: "off", ok: true, exitCode: 0, timedOut: false },
    { level: 1, device: "psu1", action: "on", ok: true, exitCode: 0, timedOut: false },
    { level: 1, device: "psu2", action: "on", ok: false, exitCode: 1, timedOut: false },
  ]);
  assert.equal(outcome.attempts[3]!.detail, "exit code 1");
  assert.deepEqual(
    entries().map((entry) => entry.split(" ").slice(0, 2).join(" ")),
    ["off 1", "off 2", "on 1", "on 2"],
  );
});

test("when every level fails, fencing fails and lists every attempt", async (t) => {
  const { log, entries } = scratch(t);
  const config = fencing({
    devices: {
      a: device(log, "1", { exit: "1" }),
      b: device(log, "2", { exit: "5", stderr: "Failed: Timed out waiting to power OFF" }),
      c: { agent: "exec:/nonexistent/fence_agent", targets: { db1: "" } },
    },
  });
  const outcome = await runnerFor(config).fence("db1", "reboot");
  assert.equal(outcome.ok, false);
  assert.equal(outcome.fencedBy, undefined);
  assert.deepEqual(summary(outcome.attempts), [
    { level: 1, device: "a", action: "reboot", ok: false, exitCode: 1, timedOut: false },
    { level: 2, device: "b", action: "reboot", ok: false, exitCode: 5, timedOut: false },
    { level: 3, device: "c", action: "reboot", ok: false, exitCode: null, timedOut: false },
  ]);
  assert.equal(outcome.attempts[0]!.detail, "exit code 1");
  assert.equal(outcome.attempts[1]!.detail, "exit code 5: Failed: Timed out waiting to power OFF");
  assert.equal(
    outcome.attempts[2]!.detail,
    "fence agent /nonexistent/fence_agent does not exist or is not an executable file",
  );
  assert.equal(entries().length, 2);
});

test("an agent that does not answer in time is killed, with its process group", async (t) => {
  const { dir, log, entries } = scratch(t);
  const pidfile = join(dir, "agent.pid");
  const config = fencing({
    timeout_ms: 60_000,
    devices: {
      slow: { ...device(log, "1", { sleep: "5", pidfile }), timeout_ms: 300 },
      fast: device(log, "2"),
    },
    levels: { db1: [["slow"], ["fast"]] },
  });
  const startedMs = Date.now();
  const outcome = await runnerFor(config).fence("db1", "off");
  assert.equal(outcome.ok, true, "the next level fenced the node");
  assert.deepEqual(outcome.fencedBy, ["fast"]);
  const slow = outcome.attempts[0]!;
  assert.deepEqual(summary([slow]), [
    { level: 1, device: "slow", action: "off", ok: false, exitCode: null, timedOut: true },
  ]);
  assert.match(slow.detail, /no answer within 300 ms/);
  // SIGTERM a tenth before the deadline, SIGKILL at it.
  assert.ok(
    slow.durationMs >= 300 - killGraceFor(300) && slow.durationMs < 1_000,
    `took ${slow.durationMs} ms`,
  );
  const pid = Number(readFileSync(pidfile, "utf8"));
  assert.ok(pid > 0);
  await waitFor("the timed-out agent to die", () => (processDead(pid) ? true : undefined));
  // Had it survived, it would have logged its line once its 5 s sleep ended.
  await sleep(Math.max(0, startedMs + 5_800 - Date.now()));
  assert.deepEqual(
    entries().map((entry) => entry.split(" ").slice(0, 2).join(" ")),
    ["off 2"],
  );
});

test("a fence_xxx agent is looked up in the search path", async (t) => {
  const { dir, log, entries } = scratch(t);
  const empty = join(dir, "empty");
  const sbin = join(dir, "sbin");
  mkdirSync(empty);
  mkdirSync(sbin);
  copyFileSync(FENCE_TEST, join(sbin, "fence_test"));
  const config = fencing({
    devices: {
      missing: { agent: "fence_nonexistent", targets: { db1: "" } },
      found: { agent: "fence_test", params: { log }, targets: { db1: "5" } },
    },
    levels: { db1: [["missing"], ["found"]] },
  });
  const outcome = await new FenceRunner({
    fencing: config,
    clock: systemClock,
    agents: new FenceAgentCatalog({ searchPath: [empty, sbin] }),
  }).fence("db1", "off");
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.fencedBy, ["found"]);
  assert.deepEqual(
    outcome.attempts.map((attempt) => [attempt.device, attempt.ok]),
    [
      ["missing", false],
      ["found", true],
    ],
  );
  assert.equal(
    outcome.attempts[0]!.detail,
    `fence agent fence_nonexistent not found (or not executable) in ${empty}, ${sbin}`,
  );
  assert.deepEqual(entries(), [`off 5 log=${log} action=off nodename=db1 plug=5`]);
});

test("an unknown fence_xxx agent fails its attempt, naming the default search path", async () => {
  const config = fencing({
    devices: { ghost: { agent: "fence_nonexistent", targets: { db1: "" } } },
  });
  const outcome = await new FenceRunner({ fencing: config, clock: systemClock }).fence("db1");
  assert.equal(outcome.ok, false);
  assert.deepEqual(summary(outcome.attempts), [
    { level: 1, device: "ghost", action: "reboot", ok: false, exitCode: null, timedOut: false },
  ]);
  assert.equal(
    outcome.attempts[0]!.detail,
    "fence agent fence_nonexistent not found (or not executable) in /usr/sbin, /sbin, /usr/bin",
  );
});

test("the agent reads exactly the protocol's lines on stdin", async (t) => {
  const { log, entries } = scratch(t);
  const config = fencing({
    devices: {
      pdu: {
        agent: AGENT,
        params: { ip: "10.1.2.3", username: "admin", password: "p4ss=w0rd", lanplus: "1", log },
        targets: { db1: "12" },
      },
    },
  });
  const outcome = await runnerFor(config).fence("db1", "off");
  assert.equal(outcome.ok, true);
  const expected = fenceAgentInput(config.devices.pdu!, "off", "db1");
  assert.equal(
    expected,
    `ip=10.1.2.3\nusername=admin\npassword=p4ss=w0rd\nlanplus=1\nlog=${log}\naction=off\nnodename=db1\nplug=12\n`,
  );
  // fence_test logs "<action> <plug>" and then every line it read, in order.
  assert.deepEqual(entries(), [`off 12 ${expected.trimEnd().split("\n").join(" ")}`]);
});

/** Two agents of one's own for the recorded runs: they exist, and are never run. */
const AGENT_A = FENCE_TEST;
const AGENT_B = fileURLToPath(new URL("../fixtures/fence/fence_lab", import.meta.url));

/**
 * Records the commands instead of running them, and answers with `answer`; asked for meta-data,
 * it has none (an agent of one's own), and that is not recorded.
 */
class RecordingRunner implements ProcessRunner {
  readonly commands: CommandSpec[] = [];
  constructor(private readonly answer: Partial<ProcessOutcome> = {}) {}
  async run(command: CommandSpec): Promise<ProcessOutcome> {
    const base = { exitSignal: null, timedOut: false, stdout: "", stderrTail: "" };
    if (command.stdin === "action=metadata\n") return { ...base, exitCode: 1 };
    this.commands.push(command);
    return { ...base, exitCode: 0, ...this.answer };
  }
}

test("each run: the agent without arguments, its input on stdin, ended by the device's timeout", async () => {
  const config = fencing({
    timeout_ms: 20_000,
    devices: {
      a: { agent: `exec:${AGENT_A}`, params: { ip: "h1" }, targets: { db1: "" } },
      b: { agent: `exec:${AGENT_B}`, params: {}, targets: { db1: "3" }, timeout_ms: 500 },
    },
    levels: { db1: [["a", "b"]] },
  });
  const runner = new RecordingRunner();
  // A clock that stands still: each run gets the whole of its timeout.
  const outcome = await new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({ runner }),
    clock: { nowMs: () => 1_000 },
  }).fence("db1", "off");
  assert.equal(outcome.ok, true);
  // No environment of our own (deepEqual checks that too): only the runner's minimal one (PATH,
  // LC_ALL=C). SIGTERM a tenth before the timeout (2 s at most), SIGKILL at it.
  assert.deepEqual(runner.commands, [
    {
      file: AGENT_A,
      args: [],
      stdin: "ip=h1\naction=off\nnodename=db1\n",
      timeoutMs: 18_000,
      killGraceMs: 2_000,
    },
    {
      file: AGENT_B,
      args: [],
      stdin: "action=off\nnodename=db1\nplug=3\n",
      timeoutMs: 450,
      killGraceMs: 50,
    },
  ]);
});

test("a node that nothing can fence: no attempt, not fenced", async () => {
  const config = fencing({ devices: { a: { agent: AGENT, targets: { db2: "" } } } });
  const runner = new RecordingRunner();
  const outcome = await new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({ runner }),
    clock: systemClock,
  }).fence("db1");
  assert.deepEqual(outcome, { ok: false, node: "db1", action: "reboot", attempts: [] });
  assert.equal(runner.commands.length, 0);
});

test("bad configuration fails its attempt and the next level still runs", async () => {
  const config = fencing({
    devices: {
      newline: { agent: AGENT, params: { password: "a\nb" }, targets: { db1: "" } },
      untargeted: { agent: AGENT, targets: { db2: "" } },
      good: { agent: AGENT, targets: { db1: "" } },
    },
    levels: { db1: [["newline"], ["missing"], ["untargeted"], ["good"]] },
  });
  const runner = new RecordingRunner();
  const outcome = await new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({ runner }),
    clock: systemClock,
  }).fence("db1");
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.fencedBy, ["good"]);
  assert.deepEqual(
    outcome.attempts.map((attempt) => [attempt.device, attempt.ok]),
    [
      ["newline", false],
      ["missing", false],
      ["untargeted", false],
      ["good", true],
    ],
  );
  assert.match(outcome.attempts[0]!.detail, /newline: parameter "password" contains a line break/);
  assert.match(outcome.attempts[1]!.detail, /no fence device named missing/);
  assert.match(outcome.attempts[2]!.detail, /has no target for db1/);
  assert.equal(runner.commands.length, 1);
});

test("a runner that throws fails the attempt instead of the fence", async () => {
  const config = fencing({ devices: { a: { agent: AGENT, targets: { db1: "" } } } });
  const runner: ProcessRunner = {
    run: () => Promise.reject(new Error("EAGAIN: fork failed")),
  };
  const outcome = await new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({ runner }),
    clock: systemClock,
  }).fence("db1");
  assert.equal(outcome.ok, false);
  assert.match(outcome.attempts[0]!.detail, /could not run .*fence_test: EAGAIN: fork failed/);
});

test("an agent killed by a signal, or that timed out with exit code 0, did not fence", async () => {
  const config = fencing({ devices: { a: { agent: AGENT, targets: { db1: "" } } } });
  const killed = new RecordingRunner({ exitCode: null, exitSignal: "SIGKILL" });
  const first = await new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({ runner: killed }),
    clock: systemClock,
  }).fence("db1");
  assert.equal(first.ok, false);
  assert.equal(first.attempts[0]!.detail, "killed by SIGKILL");
  const late = new RecordingRunner({ exitCode: 0, timedOut: true });
  const second = await new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog({ runner: late }),
    clock: systemClock,
  }).fence("db1");
  assert.equal(second.ok, false);
  assert.equal(second.attempts[0]!.timedOut, true);
});
