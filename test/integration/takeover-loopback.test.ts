import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { getPriority } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { controlGet } from "../../src/control/client.js";
import { freeUdpPorts, type LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import {
  applyEchoService,
  runLocalVigil,
  startProbedCluster,
  stopProbedCluster,
  whoServes,
} from "../support/local-takeover.js";
import { niceOf } from "../support/proc.js";
import { waitFor } from "../support/wait.js";

const _run = promisify(execFile);

/** Takeover on three real agents on loopback: placement, graceful hand-over, monitor recovery. */
describe("takeover on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  let port: number;

  const vigil = runLocalVigil;
  const stateOn = (name: string) => controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");
  /** The one node the state says runs `key`, once exactly one runs it and nothing is in flight. */
  const runningOn = (state: ClusterState, key: string) => {
    const cells = Object.entries(state.resources[key] ?? {});
    if (cells.length !== 1) return undefined;
    const [node, cell] = cells[0]!;
    return cell.active !== undefined && cell.target === cell.active ? node : undefined;
  };
  const events = async () =>
    (await readFile(join(dir, "events.log"), "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line !== "");

  before(async () => {
    ({ dir, port, cluster } = await startProbedCluster("vigil-takeover-"));
  });

  after(() => stopProbedCluster(dir, cluster));

  const applyEcho = async (servicePort: number, via: string) => {
    const applied = await applyEchoService(dir, servicePort, cluster.socketPath(via));
    assert.equal(applied.code, 0, applied.stderr);
  };

  test("a resource starts on exactly one node once the configuration is applied", async () => {
    await applyEcho(port, "beta");
    const node = await waitFor("echo to run on one node", async () =>
      runningOn(await stateOn("alpha"), "echo"),
    );
    assert.equal(await whoServes(port), node);
    assert.deepEqual(
      (await events()).map((line) => line.split(" ").slice(1).join(" ")),
      [`start ${node}`],
    );
    // The agent runs at scheduling.nice (default -10); what it started, at the niceness it had.
    const servicePid = Number(await readFile(join(dir, `echo.${node}.pid`), "utf8"));
    assert.equal(niceOf(cluster.pid(node)!), -10);
    assert.equal(niceOf(servicePid), getPriority());
  });

  test("a killed service is restarted in place and its failure counted", async () => {
    const state = await stateOn("alpha");
    const node = runningOn(state, "echo")!;
    const pid = Number(await readFile(join(dir, `echo.${node}.pid`), "utf8"));
    // The whole service (socat and the children serving connections), as a crash would end it.
    process.kill(-pid, "SIGKILL");
    await waitFor("the fail count to be recorded", async () => {
      const now = await stateOn("alpha");
      return now.failCounts.echo?.[node]?.count === 1 ? true : undefined;
    });
    await waitFor("echo to run again on the same node", async () => {
      const now = await stateOn("alpha");
      return runningOn(now, "echo") === node && (await whoServes(port)) === node ? true : undefined;
    });
  });

  test("at the migration threshold (3 failures) it moves to another node", async () => {
    const node = runningOn(await stateOn("alpha"), "echo")!;
    let killed = 0;
    for (const failures of [2, 3]) {
      // The restarted copy: a new live process in the pidfile, answering.
      const pid = await waitFor(`echo to run on ${node} again`, async () => {
        const current = Number(await readFile(join(dir, `echo.${node}.pid`), "utf8"));
        const alive = current !== killed && (await whoServes(port)) === node;
        return alive ? current : undefined;
      });
      process.kill(-pid, "SIGKILL");
      killed = pid;
      await waitFor(`fail count ${failures}`, async () =>
        // A restart that fails to start counts as fatal (the count jumps to INFINITY): also a move.
        ((await stateOn("alpha")).failCounts.echo?.[node]?.count ?? 0) >= failures
          ? true
          : undefined,
      ).catch(async (error: Error) => {
        const state = await stateOn("alpha");
        const log = await readFile(join(dir, `${node}.log`), "utf8");
        throw new Error(
          `${error.message}; fail counts ${JSON.stringify(state.failCounts)}, cells ${JSON.stringify(state.resources)}; history: ${state.history
            .slice(-8)
            .map((h) => h.summary)
            .join(" | ")}; ${node}'s warnings: ${log
            .split("\n")
            .filter((line) => /"level":[45]0/.test(line))
            .slice(-6)
            .join(" ")}`,
        );
      });
    }
    const next = await waitFor("echo to move away", async () => {
      const where = runningOn(await stateOn("alpha"), "echo");
      return where !== undefined && where !== node ? where : undefined;
    });
    assert.equal(await whoServes(port), next);
    const cleaned = await vigil(
      "resource",
      "cleanup",
      "echo",
      "--socket",
      cluster.socketPath(node),
    );
    assert.equal(cleaned.code, 0, cleaned.stderr);
  });

  test("a graceful stop hands the resource over to another node", async () => {
    const node = runningOn(await stateOn("alpha"), "echo")!;
    const other = cluster.names.find((name) => name !== node)!;
    await cluster.signal(node, "SIGTERM");
    const next = await waitFor("echo to run on another node", async () => {
      const where = runningOn(await stateOn(other), "echo");
      return where !== undefined && where !== node ? where : undefined;
    });
    assert.equal(await whoServes(port), next);
    // The log shows every start after the stop before it: never two copies.
    const lines = await events();
    let running: string | null = null;
    for (const line of lines) {
      const [, what, who] = line.split(" ");
      if (what === "start") {
        assert.equal(running, null, `start on ${who} while ${running} runs: ${lines.join("; ")}`);
        running = who!;
      } else {
        assert.equal(running, who, `stop on ${who} while ${running} runs`);
        running = null;
      }
    }
    assert.equal(running, next);
  });

  test("changed parameters restart the resource where it runs, with the new ones", async () => {
    const node = runningOn(
      await stateOn(cluster.names.find((n) => cluster.isRunning(n))!),
      "echo",
    )!;
    const [newPort] = (await freeUdpPorts(1)) as [number];
    await applyEcho(newPort, node);
    await waitFor("echo to answer on the new port", async () =>
      (await whoServes(newPort)) === node ? true : undefined,
    );
    assert.equal(await whoServes(port), undefined);
    port = newPort;
  });
});
