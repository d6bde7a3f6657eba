import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { cliEntry } from "../../src/demo/local-cluster.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";
import { FEED_BYTE, FifoReader, MAGIC_CLOSE_BYTE } from "./support/fifo-reader.js";
import {
  GUARD_NODE,
  line,
  markerFile,
  markerResource,
  startMarker,
  unstoppableLine,
} from "./support/held.js";
import { type Tracked, TrackedProcesses } from "./support/tracked-processes.js";

// The real `vigil guard` with --watchdog-device pointed at a FIFO that the test reads: what it
// writes while healthy, when it stops, and when it disarms. A FIFO has no sysfs timeout, so the
// guard feeds it once a second; "stopped" is asserted as no byte over three feed intervals.

const FEEDER = fileURLToPath(new URL("fixtures/feeder.mjs", import.meta.url));
/** Three feed intervals of a device whose timeout is unknown (device-timeout.ts). */
const QUIET_MS = 3_000;

interface Guard extends Tracked {
  log(): string;
}

const processes = new TrackedProcesses();
const readers: FifoReader[] = [];
/** Processes the self-fence actions of these tests started (their PIDs, from a file). */
const actionPidFiles: string[] = [];

function startGuard(agentPid: number, action: string, device: string, stdin: "pipe" | Readable) {
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
      GUARD_NODE,
      "--action",
      action,
      "--watchdog-device",
      device,
    ],
    { detached: true, stdio: [stdin, "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString("utf8");
  });
  const guard: Guard = { ...processes.track(child), log: () => log };
  return guard;
}

async function waitForLog(guard: Guard, text: string): Promise<void> {
  await waitFor(`guard log "${text}"`, () => {
    if (guard.log().includes(text)) return true;
    if (!guard.running()) throw new Error(`guard exited; its log:\n${guard.log()}`);
    return undefined;
  });
}

async function waitForFeeds(reader: FifoReader, count: number): Promise<void> {
  await waitFor(`${count} feeds on ${reader.path}`, () =>
    reader.count(FEED_BYTE) >= count ? true : undefined,
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe("node guard feeding a watchdog device (a FIFO)", () => {
  let dir: string;
  let n = 0;
  const next = (what: string) => join(dir, `${what}-${++n}`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-guard-device-"));
  });
  afterEach(async () => {
    // Only what this test started: its processes by PID, the actions' processes by the PID they
    // wrote down (each leads a process group of its own), and its FIFO readers.
    processes.killAll();
    for (const file of actionPidFiles.splice(0)) {
      const pid = Number(await readFile(file, "utf8").catch(() => "0"));
      if (pid > 1) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {}
      }
    }
    for (const reader of readers.splice(0)) reader.kill();
  });
  after(async () => {
    await removeTestDir(dir);
  });

  const fifo = async () => {
    const reader = await FifoReader.create(next("watchdog"));
    readers.push(reader);
    return reader;
  };

  /**
   * The feeder fixture as the agent (it holds `hold` — by default a resource the guard cannot
   * stop — and renews a 1000 ms lease every 100 ms on the guard's stdin), and its guard feeding
   * `device`; the self-fence action writes `fenceFile`.
   */
  const feedingAgentWithGuard = (
    device: FifoReader,
    fenceFile: string,
    hold = unstoppableLine(),
  ) => {
    const agent = processes.track(
      spawn(process.execPath, [FEEDER, "1000", "100", hold], {
        detached: true,
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    const pipe = agent.child.stdout!;
    const guard = startGuard(
      agent.child.pid!,
      `sh -c 'echo fenced > ${fenceFile}'`,
      device.path,
      pipe,
    );
    pipe.destroy();
    return { agent, guard };
  };

  test("fed while the lease is renewed; the agent stopped past its lease: feeding stops, the device stays open and is never disarmed", async () => {
    const device = await fifo();
    const fenceFile = next("fenced");
    const { agent, guard } = feedingAgentWithGuard(device, fenceFile);
    await waitForLog(guard, "the agent holds resources or a lease");
    await waitForFeeds(device, 3);

    process.kill(agent.child.pid!, "SIGSTOP");
    await waitForLog(guard, "waiting for the watchdog device to reset this machine");
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
    assert.equal(await readFile(fenceFile, "utf8"), "fenced\n");
    const written = device.bytes().length;
    await sleep(QUIET_MS);
    assert.equal(device.bytes().length, written, "no feed after the fence");
    assert.equal(device.count(MAGIC_CLOSE_BYTE), 0, "never disarmed");
    assert.ok(guard.running(), "the guard holds the device until the reset");
    assert.ok(device.open(), "the device was not closed");
  });

  test("a self-fence action that hangs: the feeding stopped before it ran", async () => {
    const device = await fifo();
    const actionPid = next("action-pid");
    actionPidFiles.push(actionPid);
    const agent = processes.dummyAgent();
    const guard = startGuard(
      agent.child.pid!,
      `sh -c 'echo $$ > ${actionPid}; exec sleep 60'`,
      device.path,
      "pipe",
    );
    await waitForLog(guard, "guarding the agent");
    guard.child.stdin?.write(`${unstoppableLine()}${line("lease 1500")}`);
    await waitForFeeds(device, 2);
    // No renewal: the lease ends, the guard cannot stop what was held, and fences.
    await waitForLog(guard, "fencing this node");
    await waitFor("the action to start", () => exists(actionPid).then((ok) => ok || undefined));
    const written = device.bytes().length;
    await sleep(QUIET_MS);
    assert.equal(device.bytes().length, written, "no feed while the action hangs");
    assert.doesNotMatch(guard.log(), /self-fence action finished/);
    assert.equal(device.count(MAGIC_CLOSE_BYTE), 0);
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
  });

  test("a guard that was itself stopped while the agent renewed: on resume it reads the renewals, acts on nothing and feeds again", async () => {
    const device = await fifo();
    const fenceFile = next("fenced");
    const { agent, guard } = feedingAgentWithGuard(device, fenceFile);
    await waitForLog(guard, "the agent holds resources or a lease");
    await waitForFeeds(device, 2);

    // The agent goes on renewing; its lines wait in the pipe while the guard is not scheduled.
    process.kill(guard.child.pid!, "SIGSTOP");
    await sleep(300); // a write already in the pipe when it stopped may still arrive
    const written = device.bytes().length;
    await sleep(2_000); // past the 1000 ms lease it had read last
    assert.equal(device.bytes().length, written, "a stopped guard feeds nothing");
    process.kill(guard.child.pid!, "SIGCONT");
    // The lines carry when they were written: the agent was alive and renewing all along.
    await waitForFeeds(device, device.count(FEED_BYTE) + 2);
    assert.ok(guard.running(), guard.log());
    assert.ok(agent.running(), "the agent was not killed");
    assert.doesNotMatch(guard.log(), /releasing this node/);
    assert.equal(await exists(fenceFile), false);
  });

  test("a release that works: fed all along, then disarmed ('V'); nothing fenced", async () => {
    const device = await fifo();
    const fenceFile = next("fenced");
    const web = markerResource("web", dir);
    const { agent, guard } = feedingAgentWithGuard(device, fenceFile, await startMarker(web));
    await waitForLog(guard, "the agent holds resources or a lease");
    await waitForFeeds(device, 2);
    agent.child.kill("SIGKILL");
    assert.deepEqual(await guard.exit, { code: 4, signal: null }, guard.log());
    await device.ended;
    assert.equal(device.bytes().at(-1), MAGIC_CLOSE_BYTE);
    assert.equal(await exists(markerFile(web)), false, "the guard stopped the marker");
    assert.equal(await exists(fenceFile), false);
  });

  test("bye: 'V' is the last byte written, then the device is closed and the guard exits 0", async () => {
    const device = await fifo();
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, "true", device.path, "pipe");
    await waitForLog(guard, "guarding the agent");
    guard.child.stdin?.write(line("lease 60000"));
    await waitForFeeds(device, 2);
    guard.child.stdin?.write(`${line({ kind: "idle" })}${line({ kind: "bye" })}`);
    assert.deepEqual(await guard.exit, { code: 0, signal: null }, guard.log());
    await device.ended;
    const bytes = device.bytes();
    assert.equal(bytes.at(-1), MAGIC_CLOSE_BYTE);
    assert.ok(
      bytes.subarray(0, -1).every((byte) => byte === FEED_BYTE),
      "only feeds before it",
    );
    assert.ok(agent.running(), "nothing was killed");
  });

  test("the agent gone while nothing ran: disarmed as well (nothing to fence)", async () => {
    const device = await fifo();
    const agent = processes.dummyAgent();
    const guard = startGuard(agent.child.pid!, "true", device.path, "pipe");
    await waitForLog(guard, "guarding the agent");
    await waitForFeeds(device, 1);
    guard.child.stdin?.end(line({ kind: "idle" }));
    assert.deepEqual(await guard.exit, { code: 0, signal: null }, guard.log());
    await device.ended;
    assert.equal(device.bytes().at(-1), MAGIC_CLOSE_BYTE);
    assert.ok(agent.running());
  });

  test("a device path that is missing or not a device: refused (exit 2), and nothing is created", async () => {
    const agent = processes.dummyAgent();
    const missing = next("missing");
    const guard = startGuard(agent.child.pid!, "true", missing, "pipe");
    assert.deepEqual(await guard.exit, { code: 2, signal: null }, guard.log());
    assert.match(guard.log(), /cannot use the watchdog device .*ENOENT/);
    assert.equal(await exists(missing), false, "no file was created in its place");

    const regular = next("regular");
    await writeFile(regular, "");
    const second = startGuard(agent.child.pid!, "true", regular, "pipe");
    assert.deepEqual(await second.exit, { code: 2, signal: null }, second.log());
    assert.match(second.log(), /is a regular file, not a watchdog device or a FIFO/);
    assert.equal(await readFile(regular, "utf8"), "", "nothing was written to it");
    assert.ok(agent.running());
  });
});
