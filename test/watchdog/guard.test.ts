import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { cliEntry } from "../../src/demo/local-cluster.js";
import type { HeldResource } from "../../src/watchdog/guard-protocol.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";
import { GUARD_NODE, line, markerFile, markerResource, startMarker } from "./support/held.js";
import { type Tracked, TrackedProcesses } from "./support/tracked-processes.js";

// Real processes: the `vigil guard` CLI, a dummy agent (`sleep`, or a feeder script) in a process
// group of its own, and a self-fence action that leaves a file behind. Assertions are about
// outcomes (who was killed, by which signal, what ran, the exit code), never about how fast.

const FEEDER = fileURLToPath(new URL("fixtures/feeder.mjs", import.meta.url));
const NODE = GUARD_NODE;

const processes = new TrackedProcesses();

interface Guard extends Tracked {
  log(): string;
}

/** The real `vigil guard`, in its own process group, as the agent starts it. */
function startGuard(
  agentPid: number,
  fenceFile: string,
  stdin: "pipe" | Readable,
  extra: string[] = [],
): Guard {
  const { entry, execArgv } = cliEntry();
  const child = spawn(
    process.execPath,
    [
      ...execArgv,
      entry,
      "guard",
      "--agent-pid",
      String(agentPid),
      "--node",
      NODE,
      "--action",
      `sh -c 'echo fenced > ${fenceFile}'`,
      ...extra,
    ],
    { detached: true, stdio: [stdin, "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString("utf8");
  });
  return { ...processes.track(child), log: () => log };
}

async function waitForLog(guard: Guard, text: string): Promise<void> {
  await waitFor(`guard log "${text}"`, () => {
    if (guard.log().includes(text)) return true;
    if (!guard.running()) throw new Error(`guard exited; its log:\n${guard.log()}`);
    return undefined;
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Writes `line` to the guard every `everyMs` until the returned function is called. */
function feed(guard: Guard, lease: `lease ${number}`, everyMs: number): () => void {
  const write = () => guard.child.stdin?.write(line(lease));
  write();
  const timer = setInterval(write, everyMs);
  return () => clearInterval(timer);
}

describe("node guard (real processes)", () => {
  let dir: string;
  let n = 0;
  let fenceFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-guard-"));
  });
  afterEach(() => {
    // Only the processes this test started, by PID.
    processes.killAll();
  });
  after(async () => {
    await removeTestDir(dir);
  });
  const nextFenceFile = () => {
    fenceFile = join(dir, `fenced-${++n}`);
    return fenceFile;
  };

  test("fed, it waits; starved past the lease, it SIGKILLs the agent, stops what it held and exits 4", async () => {
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, nextFenceFile(), "pipe");
    await waitForLog(guard, "guarding the agent");
    const web = markerResource("web", dir);
    guard.child.stdin?.write(await startMarker(web));

    const stop = feed(guard, "lease 1000", 100);
    await waitForLog(guard, "the agent holds resources or a lease");
    // Longer than one lease: only the renewals keep it from acting.
    await sleep(2500);
    assert.ok(guard.running(), guard.log());
    assert.ok(agent.running());
    assert.equal(await exists(markerFile(web)), true);

    stop(); // the agent hangs: its pipe stays open, nothing more comes
    assert.deepEqual(await guard.exit, { code: 4, signal: null }, guard.log());
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
    assert.equal(await exists(markerFile(web)), false, "the guard stopped the marker");
    assert.equal(await exists(fenceFile), false, "a release that worked fences nothing");
    assert.match(guard.log(), /"cause":"deadline"/);
    assert.match(guard.log(), /"msg":"stopped web"/);
  });

  test("a stop that fails: the guard fences (action, exit 3)", async () => {
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, nextFenceFile(), "pipe");
    await waitForLog(guard, "guarding the agent");
    const broken: HeldResource = {
      key: "broken",
      agent: { kind: "exec", name: join(dir, "no-such-agent") },
      params: {},
      timeoutMs: 5000,
    };
    guard.child.stdin?.write(line({ kind: "hold", resource: broken }));
    guard.child.stdin?.end(line("lease 60000"));
    assert.deepEqual(await guard.exit, { code: 3, signal: null }, guard.log());
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
    assert.equal(await readFile(fenceFile, "utf8"), "fenced\n");
    assert.match(guard.log(), /"msg":"could not stop broken/);
    assert.match(guard.log(), /"msg":"fencing this node: broken: /);
    assert.match(guard.log(), /"msg":"self-fence action finished".*"exitCode":0/);
  });

  test("idle, then silence: nothing happens; bye: exit 0 and the agent lives on", async () => {
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, nextFenceFile(), "pipe", ["--hang-ms", "300"]);
    await waitForLog(guard, "guarding the agent");
    const stop = feed(guard, "lease 1000", 100);
    await waitForLog(guard, "the agent holds resources or a lease");
    stop();
    guard.child.stdin?.write(line({ kind: "idle" }));
    await waitForLog(guard, "the agent is idle");
    await sleep(2000); // past the last lease's deadline and the hang time
    assert.ok(guard.running(), guard.log());
    assert.ok(agent.running());
    assert.equal(await exists(fenceFile), false);

    guard.child.stdin?.write(line({ kind: "bye" }));
    assert.deepEqual(await guard.exit, { code: 0, signal: null }, guard.log());
    assert.ok(agent.running());
    assert.equal(await exists(fenceFile), false);
  });

  test("bye while holding a lease: exit 0, nothing is killed", async () => {
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, nextFenceFile(), "pipe");
    await waitForLog(guard, "guarding the agent");
    guard.child.stdin?.write(`${line("lease 60000")}${line({ kind: "bye" })}`);
    assert.deepEqual(await guard.exit, { code: 0, signal: null }, guard.log());
    assert.ok(agent.running());
    assert.equal(await exists(fenceFile), false);
  });

  test("the agent's pipe closes while it holds resources: released at once, not at the deadline", async () => {
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, nextFenceFile(), "pipe");
    await waitForLog(guard, "guarding the agent");
    const ip = markerResource("ip", dir);
    const web = markerResource("web2", dir);
    guard.child.stdin?.write(
      `${await startMarker(ip)}${await startMarker(web)}${line("lease 600000")}`,
    );
    await waitForLog(guard, "the agent holds resources or a lease");
    guard.child.stdin?.end();
    assert.deepEqual(await guard.exit, { code: 4, signal: null }, guard.log());
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
    assert.equal(await exists(markerFile(ip)), false);
    assert.equal(await exists(markerFile(web)), false);
    assert.equal(await exists(fenceFile), false);
    assert.match(guard.log(), /"cause":"agent_gone"/);
    // Newest first, as the agent's own stops go.
    assert.ok(guard.log().indexOf("stopped web2") < guard.log().indexOf("stopped ip"), guard.log());
  });

  test("the agent's pipe closes while idle: exit 0, nothing is killed", async () => {
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, nextFenceFile(), "pipe");
    await waitForLog(guard, "guarding the agent");
    guard.child.stdin?.end(`${line("lease 600000")}${line({ kind: "idle" })}`);
    assert.deepEqual(await guard.exit, { code: 0, signal: null }, guard.log());
    assert.ok(agent.running());
    assert.equal(await exists(fenceFile), false);
  });

  test("an agent paused with SIGSTOP is taken for hung after --hang-ms, long before its lease ends", async () => {
    const web = markerResource("paused", dir);
    // The feeder plays the agent: its stdout is the guard's stdin, a pipe only it writes to.
    const agent = processes.track(
      spawn(process.execPath, [FEEDER, "600000", "100", await startMarker(web)], {
        detached: true,
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    const pipe = agent.child.stdout!;
    const guard = startGuard(agent.child.pid!, nextFenceFile(), pipe, ["--hang-ms", "500"]);
    // The guard has its own copy of the pipe's read end; this process must not read from it.
    pipe.destroy();
    await waitForLog(guard, "the agent holds resources or a lease");
    await sleep(2000); // fed all along
    assert.ok(guard.running(), guard.log());
    assert.ok(agent.running());
    assert.equal(await exists(markerFile(web)), true);

    process.kill(agent.child.pid!, "SIGSTOP");
    assert.deepEqual(await guard.exit, { code: 4, signal: null }, guard.log());
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
    assert.equal(await exists(markerFile(web)), false);
    assert.equal(await exists(fenceFile), false);
    assert.match(guard.log(), /"cause":"agent_hung"/);
  });

  test("refuses to run in the agent's process group, where fencing would kill it first", async () => {
    // `sh` leads a group of its own and plays the agent; the guard is its child, in its group.
    const { entry, execArgv } = cliEntry();
    const argv = [process.execPath, ...execArgv, entry, "guard", "--agent-pid"];
    const shell = processes.track(
      spawn(
        "sh",
        ["-c", `${argv.map((arg) => `'${arg}'`).join(" ")} "$$" </dev/null; echo "exit $?"`],
        {
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
        },
      ),
    );
    let output = "";
    shell.child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    shell.child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    assert.deepEqual(await shell.exit, { code: 0, signal: null }, output);
    assert.match(output, /refusing to run in the agent's process group/);
    assert.match(output, /^exit 2$/m);
  });

  test("refuses a PID that would make kill() hit every process (exit 2)", async () => {
    const guard = startGuard(1, nextFenceFile(), "pipe");
    assert.deepEqual(await guard.exit, { code: 2, signal: null }, guard.log());
    assert.match(guard.log(), /--agent-pid needs a process id above 1/);
  });
});
