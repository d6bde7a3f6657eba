// NodeFencer with the real FenceRunner and Debian's fence_dummy: concurrent fences of one node
// are one agent run whose result every request gets; every operation, an operator's included,
// is logged with each level's and device's result and reason.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import pino from "pino";
import { fencingSchema } from "../../src/config/safety-schema.js";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { FenceAgentCatalog } from "../../src/fencing/fence-agents.js";
import { fenceResultOf } from "../../src/fencing/fence-report.js";
import { FenceRunner } from "../../src/fencing/fence-runner.js";
import { NodeFencer } from "../../src/fencing/node-fencer.js";
import {
  ChildProcessRunner,
  type CommandSpec,
  type ProcessOutcome,
  type ProcessRunner,
} from "../../src/resources/executor/process-runner.js";
import type { Command } from "../../src/state/commands.js";
import { systemClock } from "../../src/time/clock.js";

/** Runs commands for real and counts the agent runs (meta-data reads aside). */
class CountingRunner implements ProcessRunner {
  readonly actions: string[] = [];
  private readonly real = new ChildProcessRunner();
  run(command: CommandSpec): Promise<ProcessOutcome> {
    const action = /^action=(.*)$/m.exec(command.stdin ?? "")?.[1] ?? "?";
    if (action !== "metadata") this.actions.push(action);
    return this.real.run(command);
  }
}

/** A NodeFencer on "alpha" whose devices are fence_dummy, with its logs and records kept. */
function fencerWith(t: { after(fn: () => void): void }, devices: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-node-fencer-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fencing = fencingSchema.parse({ devices: devices });
  for (const name of Object.keys(fencing.devices)) {
    // fence_dummy keeps the machine's power state in its status file: on, to begin with.
    const statusFile = join(dir, `${name}.status`);
    writeFileSync(statusFile, "on");
    fencing.devices[name]!.params.status_file = statusFile;
  }
  const runner = new CountingRunner();
  const fenceRunner = new FenceRunner({
    fencing,
    agents: new FenceAgentCatalog({ runner }),
    clock: systemClock,
  });
  const logs: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  const records: Command[] = [];
  const fencer = new NodeFencer({
    nodeName: "alpha",
    clock: systemClock,
    logger: pino({ level: "info" }, sink),
    delayMs: () => 0,
    fence: async (node) => fenceResultOf(await fenceRunner.fence(node)),
    submit: async (command): Promise<SubmitResult> => {
      records.push(command);
      return { ok: true, index: records.length, version: records.length };
    },
    // beta's agent run 41 is the one the state knows as the fence begins.
    runOf: (node) => (node === "beta" ? 41 : null),
  });
  return { fencer, runner, logs, records };
}

/** fence_dummy that fails (after waiting 1 s for a power state that never comes). */
const BROKEN_DUMMY = {
  agent: "fence_dummy",
  params: { type: "fail", power_timeout: "1" },
  targets: { beta: "" },
};

const ERROR = 50;
const WARN = 40;

test("three operators and the leader fence beta at once: one agent run, one result for all", async (t) => {
  // fence_dummy's `delay` holds it for a second before it acts: long enough for all to arrive.
  const { fencer, runner, logs, records } = fencerWith(t, {
    dummy: { agent: "fence_dummy", params: { delay: "1" }, targets: { beta: "" } },
  });
  const first = fencer.fenceNow("beta", "alice@gamma");
  const lost = fencer.request("beta", () => true);
  assert.deepEqual(lost, { started: true });
  const others = [fencer.fenceNow("beta", "bob@gamma"), fencer.fenceNow("beta", "carol@alpha")];
  const operations = await Promise.all([first, ...others]);

  assert.deepEqual(runner.actions, ["reboot"], "fence_dummy ran once");
  for (const operation of operations) {
    assert.equal(operation.result.ok, true);
    assert.equal(operation.by, "alice@gamma", "the operation the first request started");
    assert.deepEqual(operation.recorded, { ok: true, version: 1 });
  }
  assert.deepEqual(
    operations.map((operation) => operation.joined),
    [false, true, true],
  );
  // The leader's request, once its (zero) delay was over, joined the running operation too.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(runner.actions.length, 1);
  assert.deepEqual(
    records.map((command) => command.type === "node_fenced" && [command.node, command.by]),
    [["beta", "alice@gamma"]],
    "one record",
  );
  assert.deepEqual(
    logs.filter((line) => /joins it$/.test(line.msg)).map((line) => line.requestedBy),
    ["policy@alpha", "bob@gamma", "carol@alpha"],
  );
});

test("an operator's fence is logged: each level and device, then the outcome", async (t) => {
  const { fencer, logs, records } = fencerWith(t, {
    broken: BROKEN_DUMMY,
    dummy: { agent: "fence_dummy", targets: { beta: "" } },
  });
  const operation = await fencer.fenceNow("beta", "alice@gamma");
  assert.equal(operation.result.ok, true);
  assert.equal(
    operation.result.detail,
    "reboot by dummy (level 2); failed: level 1 broken: exit code 1: Failed: Timed out waiting to power OFF",
  );
  const messages = logs.map((line) => line.msg);
  assert.deepEqual(
    messages.map((message) => message.replace(/after \d+ ms/, "after N ms")),
    [
      "fencing beta (asked by alice@gamma)",
      "fence of beta: level 1 · broken · reboot · FAILED after N ms · exit code 1: Failed: Timed out waiting to power OFF",
      "fence of beta: level 2 · dummy · reboot · ok after N ms · Success: Rebooted",
      `node beta fenced: ${operation.result.detail}`,
    ],
  );
  assert.equal(logs[1]?.level, WARN);
  assert.equal(logs[1]?.device, "broken");
  assert.equal(logs[1]?.fenceLevel, 1);
  assert.equal(logs[1]?.by, "alice@gamma");
  // The record keeps every agent run too, and the node's run the fence was meant for.
  const record = records[0];
  assert.ok(record?.type === "node_fenced");
  assert.equal(record.run, 41);
  assert.deepEqual(
    record.attempts?.map(({ level, device, ok }) => [level, device, ok]),
    [
      [1, "broken", false],
      [2, "dummy", true],
    ],
  );
});

test("an operator's failed fence is logged as an error, and recorded", async (t) => {
  const { fencer, logs, records } = fencerWith(t, {
    broken: BROKEN_DUMMY,
  });
  const operation = await fencer.fenceNow("beta", "alice@gamma");
  assert.equal(operation.result.ok, false);
  const last = logs.at(-1);
  assert.equal(last?.level, ERROR);
  assert.equal(
    last?.msg,
    "FENCING beta FAILED: level 1 broken: exit code 1: Failed: Timed out waiting to power OFF",
  );
  assert.equal(records.length, 1);
  assert.ok(records[0]?.type === "node_fenced" && !records[0].ok);
  // A lost node's fence after a failure waits for the retry delay, whoever failed.
  assert.equal(fencer.request("beta", () => true).started, false);
});

test("an operator's confirmation that a node is off is logged and recorded, running no agent", async (t) => {
  const { fencer, runner, logs, records } = fencerWith(t, {
    dummy: { agent: "fence_dummy", targets: { beta: "" } },
  });
  assert.deepEqual(await fencer.confirmDown("beta", "alice@gamma"), { ok: true, version: 1 });
  assert.deepEqual(runner.actions, []);
  assert.equal(logs.at(-1)?.msg, "node beta confirmed down by alice@gamma");
  const record = records[0];
  assert.ok(record?.type === "node_fenced");
  assert.deepEqual(
    [record.ok, record.action, record.detail, record.attempts],
    [true, "confirm", "confirmed down by alice@gamma", undefined],
  );
});
