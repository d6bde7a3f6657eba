/**
 * `vigil init` makes a cluster file that works as written: three test hosts (network namespaces)
 * with two links each, the file made from their addresses only, and real agents started on it
 * form the cluster — every node up on both links, one leader every node agrees on.
 */
import assert from "node:assert/strict";
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { labTestOptions, withLab } from "../lab/index.js";
import { LabCluster, SELF_FENCE_LAB } from "../support/lab-cluster.js";
import { runVigil } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions();

describe("vigil init on test hosts", options, () => {
  test("the file it writes from the hosts' addresses forms a cluster of three", async () => {
    await withLab({ hosts: 3, links: 2 }, async (lab) => {
      const cluster = await LabCluster.create(lab, { built: true });
      const hosts = [0, 1, 2];
      const output = await runVigil([
        "init",
        "--cluster",
        `init-${lab.id}`,
        ...hosts.flatMap((host) => [
          "--node",
          `${cluster.name(host)}=${lab.host(host).address(0)},${lab.host(host).address(1)}`,
        ]),
        "--out",
        cluster.configPath,
        "--key",
        join(lab.dir, "authkeys"),
        "--force",
      ]);
      assert.match(output, /kept the existing key file/);
      assert.match(output, /quorum: 2 of 3 votes/);
      // A self-fence on a test host must power that host off, never the machine running the test.
      assert.doesNotMatch(await readFile(cluster.configPath, "utf8"), /watchdog/);
      await appendFile(
        cluster.configPath,
        `watchdog:\n  action: ${SELF_FENCE_LAB} ${join(lab.dir, "self-fence.log")}\n`,
      );

      await cluster.startAll();
      await cluster.waitAllUp();
      const leaders = await waitFor("every agent to name the same leader", async () => {
        const seen = await Promise.all(
          hosts.map(async (host) => (await cluster.status(host)).coordination?.leaderId ?? null),
        );
        return seen[0] !== null && seen.every((id) => id === seen[0]) ? seen : undefined;
      });
      assert.ok(leaders[0]! >= 1 && leaders[0]! <= 3);
      const status = await cluster.status(0);
      assert.deepEqual(
        status.links.map((link) => link.name),
        ["ring0", "ring1"],
      );
    });
  });
});
