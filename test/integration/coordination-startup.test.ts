import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { TIMING_PROFILES } from "../../src/config/schema.js";
import { controlGet, controlPost } from "../../src/control/client.js";
import { agentArguments } from "../../src/demo/local-cluster.js";
import { coldStartCluster } from "../support/cold-start.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);

/** Cold start (wait_for_all) and a damaged Raft log, on real agents. */
describe("coordination at start-up", () => {
  const fixture = coldStartCluster("vigil-startup-");
  const { coordination } = fixture;

  test("wait_for_all: two of three nodes do not elect until the third has been seen", async () => {
    const cluster = fixture.cluster();
    await fixture.startTwoOfThree();
    // Several election timeouts pass: a majority is present, yet nobody may act.
    await sleep(3 * TIMING_PROFILES.default.deadtime_ms);
    for (const name of ["alpha", "beta"]) {
      const view = await coordination(name);
      assert.equal(view.waitingForAll, true);
      assert.equal(view.leaderId, null, `${name} must not have a leader yet`);
    }
    await cluster.start("gamma");
    await waitFor("a leader once every node was seen", async () => {
      const views = await Promise.all(cluster.names.map(coordination));
      return views.some((v) => v.role === "leader") && views.every((v) => !v.waitingForAll)
        ? true
        : undefined;
    });
  });

  test("an agent whose Raft log is damaged refuses to start and says how to rejoin", async () => {
    const cluster = fixture.cluster();
    const dir = fixture.dir();
    // Some committed changes so the log has records on both sides of the damage.
    const socket = cluster.socketPath("alpha");
    for (let i = 0; i < 5; i++) {
      await waitFor("a change to commit", async () => {
        const { configurationVersion } = await controlGet<{ configurationVersion: number }>(
          socket,
          "/v1/config",
        );
        const result = await controlPost<{ ok: boolean }>(socket, "/v1/config", {
          text: `resources: {}\n# change ${i}\n`,
          document: { resources: {} },
          expectedVersion: configurationVersion,
          by: "test",
        });
        return result.ok ? true : undefined;
      });
    }
    await cluster.signal("gamma", "SIGTERM");
    const logFile = join(dir, "state", "gamma", "raft", "log");
    const { size } = await stat(logFile);
    const handle = await open(logFile, "r+");
    await handle.write(Buffer.from([0x7e]), 0, 1, Math.floor(size / 2));
    await handle.close();
    const result = await run(
      process.execPath,
      agentArguments({
        configPath: cluster.configPath,
        node: "gamma",
        socketPath: cluster.socketPath("gamma"),
        stateDir: join(dir, "state", "gamma"),
      }),
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /raft\/log.*checksum/s);
    assert.match(result.stderr, /move its Raft state directory aside/);
  });
});
