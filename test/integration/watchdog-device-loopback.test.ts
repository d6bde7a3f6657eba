/**
 * A hung agent must not keep resources beyond its lease, and a failed or hung self-fence must
 * still end in a reset: three real agents on loopback, each with its lease guard feeding a
 * watchdog device (watchdog.device; a FIFO read by the test stands in for /dev/watchdog). The
 * agent that runs the service is frozen with SIGSTOP while the service will not stop (its stop
 * hangs): its guard cannot stop it within the lease and fences (the action stands in for a
 * reboot: it kills that node's copy of the service), stops feeding the device at that moment and
 * holds it open, unfed, never disarmed; the service runs elsewhere.
 * A clean stop of another agent disarms its device with the magic close 'V'.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { controlGet } from "../../src/control/client.js";
import { freeUdpPorts, LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { applyEchoService, whoServes } from "../support/local-takeover.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";
import { killLeftoverGuard, WatchdogAgent } from "../watchdog/support/agent-process.js";
import { FEED_BYTE, FifoReader, MAGIC_CLOSE_BYTE } from "../watchdog/support/fifo-reader.js";

const missing = ["socat", "ss", "mkfifo"].filter(
  (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0,
);
/** Three feed intervals of a device whose timeout is unknown (a FIFO: one feed a second). */
const QUIET_MS = 3_000;

/** The one node the state says runs `key`, once exactly one runs it and nothing is in flight. */
function runningOn(state: ClusterState, key: string): string | undefined {
  const cells = Object.entries(state.resources[key] ?? {});
  if (cells.length !== 1) return undefined;
  const [node, cell] = cells[0]!;
  return cell.active !== undefined && cell.target === cell.active ? node : undefined;
}

describe("lease guards feeding watchdog devices, real agents on loopback", {
  skip: missing.length > 0 ? `needs ${missing.join(", ")}` : false,
}, () => {
  let dir: string;
  let port: number;
  let cluster: LocalCluster;
  const agents = new Map<string, WatchdogAgent>();
  const devices = new Map<string, FifoReader>();
  const guards = new Map<string, number>();
  let frozen: string | undefined;

  const live = () => [...agents.values()].filter((agent) => agent.running());
  const stateOn = (name: string) => controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");
  const fenceFile = (name: string) => join(dir, `fenced.${name}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-watchdog-device-"));
    [port] = (await freeUdpPorts(1)) as [number];
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    for (const name of cluster.names) {
      const device = await FifoReader.create(join(dir, `watchdog.${name}`));
      devices.set(name, device);
      const pidfile = join(dir, `echo.${name}.pid`);
      const agent = await WatchdogAgent.start(cluster, dir, name, {
        watchdog: {
          lease_guard: true,
          // Stands in for a reboot: whatever this node runs stops (its copy of the service).
          action: `sh -c 'kill -9 "$(cat ${pidfile})" 2>/dev/null; echo fenced >> ${fenceFile(name)}'`,
          device: device.path,
        },
      });
      agents.set(name, agent);
      guards.set(name, await agent.guardPid());
    }
    await waitFor("every node to have probed", async () => {
      const state = await stateOn("alpha");
      return cluster.names.every((name) => state.agents[name] !== undefined) ? true : undefined;
    });
    const applied = await applyEchoService(dir, port, cluster.socketPath("alpha"), {
      stopHangFile: join(dir, "echo-stop-hangs"),
    });
    assert.equal(applied.code, 0, applied.stderr);
  });

  after(async () => {
    // Only what this test started: its agents (clean stop), the guards they started that still
    // run (the frozen node's holds its device until a reset that cannot come here), the
    // service copies they started (by pidfile), and its FIFO readers.
    await Promise.all([...agents.values()].map((agent) => agent.stop()));
    for (const [name, guardPid] of guards) await killLeftoverGuard(guardPid, agents.get(name)!.pid);
    for (const name of cluster?.names ?? []) {
      const pid = Number(await readFile(join(dir, `echo.${name}.pid`), "utf8").catch(() => "0"));
      if (pid > 1) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    for (const device of devices.values()) device.kill();
    await removeTestDir(dir);
  });

  test("every node's guard feeds its device while the node is healthy", async () => {
    for (const [name, device] of devices) {
      await waitFor(`feeds on ${name}'s device`, () =>
        device.count(FEED_BYTE) >= 2 ? true : undefined,
      );
      assert.equal(device.count(MAGIC_CLOSE_BYTE), 0);
    }
  });

  test("the agent running the service frozen while its stop hangs: fenced, its device no longer fed nor disarmed, the service elsewhere", async () => {
    const node = await waitFor("echo to run on one node", async () =>
      runningOn(await stateOn("alpha"), "echo"),
    );
    frozen = node;
    const agent = agents.get(node)!;
    const device = devices.get(node)!;
    const hang = join(dir, "echo-stop-hangs");
    await writeFile(hang, "");
    agent.child.kill("SIGSTOP");

    try {
      await agent.waitForLog("its guard to fence", (line) => line.msg === "fenced");
    } finally {
      // Other nodes' stops must work again (also for the next test if this one failed).
      await rm(hang, { force: true });
    }
    await agent.waitForLog(
      "its guard to hold the device",
      (line) => line.msg === "waiting for the watchdog device to reset this machine",
    );
    assert.deepEqual(await agent.exit, { code: null, signal: "SIGKILL" });
    assert.equal(await readFile(fenceFile(node), "utf8"), "fenced\n");
    const written = device.bytes().length;
    await sleep(QUIET_MS);
    assert.equal(device.bytes().length, written, "no feed after the fence");
    assert.equal(device.count(MAGIC_CLOSE_BYTE), 0, "never disarmed");
    assert.ok(device.open(), "the guard keeps the device open until the reset");

    const survivor = live()[0]!.name;
    const next = await waitFor("echo to run on another node", async () => {
      const where = runningOn(await stateOn(survivor), "echo");
      return where !== undefined && where !== node && (await whoServes(port)) === where
        ? where
        : undefined;
    });
    assert.notEqual(next, node);
  });

  test("a clean stop disarms the device: 'V' is the last byte, after nothing but feeds", async () => {
    assert.ok(frozen !== undefined, "runs after the frozen-agent test");
    const agent = live()[0]!;
    const device = devices.get(agent.name)!;
    agent.child.kill("SIGTERM");
    assert.deepEqual(await agent.exit, { code: 0, signal: null });
    await device.ended;
    const bytes = device.bytes();
    assert.equal(bytes.at(-1), MAGIC_CLOSE_BYTE);
    assert.ok(bytes.subarray(0, -1).every((byte) => byte === FEED_BYTE));
    assert.ok(bytes.length >= 3);
  });
});
