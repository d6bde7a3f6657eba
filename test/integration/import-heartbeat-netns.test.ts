/**
 * An imported Heartbeat pair runs: ha.cf and haresources for two test hosts (written for the
 * lab's addresses, as an operator's would be for theirs), translated by `vigil import heartbeat`
 * with a witness on a third host, started as the import wrote them (only the lab's paths for
 * the key, state and sockets replaced), the resource document applied with `vigil config
 * apply`. The VIP runs on one node, and moves to the other when that host is powered off; a
 * client on the witness host reaches it there.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { cliEntry } from "../../src/demo/local-cluster.js";
import { labTestOptions, withLab } from "../lab/index.js";
import { LabCluster } from "../support/lab-cluster.js";
import { runVigil, stateOf } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["arping", "ping"]);
const VIP = "198.18.0.100";
const VIP_RESOURCE = `ip-${VIP}`;

describe("an imported Heartbeat two-node cluster", options, () => {
  test("runs with a witness, and its VIP fails over when the active host is powered off", () =>
    withLab({ hosts: 3, links: 1 }, async (lab) => {
      const [h1, h2, witness] = [0, 1, 2].map((host) => lab.host(host).address(0));
      const haCf = [
        "# the two web servers and their crossover link",
        "keepalive 200ms",
        "warntime 1",
        "deadtime 2",
        "initdead 10",
        "udpport 694",
        `ucast eth0 ${h1}`,
        `ucast eth0 ${h2}`,
        "auto_failback off",
        "logfacility local0",
        "node h1",
        "node h2",
        "",
      ].join("\n");
      const haresources = `h1 IPaddr2::${VIP}/24/eth0\n`;
      const dir = join(lab.dir, "heartbeat");
      await mkdir(join(dir, "imported"), { recursive: true });
      await writeFile(join(dir, "ha.cf"), haCf);
      await writeFile(join(dir, "haresources"), haresources);
      const report = await runVigil([
        "import",
        "heartbeat",
        "--ha-cf",
        join(dir, "ha.cf"),
        "--haresources",
        join(dir, "haresources"),
        "--address",
        `h1=${h1}`,
        "--address",
        `h2=${h2}`,
        "--witness",
        `h3=${witness}`,
        "--cluster",
        `imp-${lab.id}`,
        "--out-dir",
        join(dir, "imported"),
      ]);
      assert.match(report, /Not translated \(1\):\n.*logfacility local0/);
      assert.doesNotMatch(report, /To replace or check/);

      // The imported file with the lab's own paths: a key generated for this run, state and
      // sockets in the lab's directory, the lab's self-fence for the node guard.
      const cluster = await LabCluster.create(lab);
      const labConfig = parse(await readFile(cluster.configPath, "utf8"));
      const imported = parse(await readFile(join(dir, "imported", "vigil.yaml"), "utf8"));
      assert.deepEqual(
        imported.nodes.map((node: { name: string; witness?: boolean }) => [
          node.name,
          node.witness ?? false,
        ]),
        [
          ["h1", false],
          ["h2", false],
          ["h3", true],
        ],
      );
      for (const key of ["keys", "state_dir", "control", "watchdog"])
        imported[key] = labConfig[key];
      await writeFile(cluster.configPath, stringify(imported), { mode: 0o600 });

      await cluster.start(0);
      await cluster.start(1);
      const { entry, execArgv } = cliEntry();
      lab
        .host(2)
        .spawn(process.execPath, [...execArgv, entry, "witness", "-c", cluster.configPath]);
      await cluster.waitUntil(
        0,
        "a leader",
        (status) => status.coordination?.leaderId != null,
        30_000,
      );
      await runVigil([
        "config",
        "apply",
        join(dir, "imported", "resources.yaml"),
        "--socket",
        cluster.socketPath(0),
      ]);

      const holders = async (hosts = [0, 1]) => {
        const found: string[] = [];
        for (const host of hosts) {
          const shown = await lab
            .host(host)
            .exec("ip", ["-o", "-4", "addr", "show", "dev", "eth0"]);
          if (shown.stdout.includes(` ${VIP}/24 `)) found.push(cluster.name(host));
        }
        return found;
      };
      const runsOn = async (host: number) => {
        const cells = (await stateOf(cluster, host)).resources[VIP_RESOURCE] ?? {};
        const started = Object.entries(cells).filter(([, cell]) => cell.active === "started");
        return started.map(([node]) => node);
      };
      // Where it starts depends on which node the leader heard first (with auto_failback off,
      // the preferred node does not take it back); the translation of the preference is the
      // unit tests' business. What matters here is that it runs once, and moves.
      const active = await waitFor("the VIP on one host", async () => {
        const [holder, ...others] = await holders();
        if (holder === undefined || others.length > 0) return undefined;
        const host = holder === "h1" ? 0 : 1;
        return (await runsOn(host)).join() === holder ? host : undefined;
      });
      const survivor = active === 0 ? 1 : 0;

      await lab.powerOff(active);
      await waitFor(
        `the VIP on ${cluster.name(survivor)} after ${cluster.name(active)}'s power-off`,
        async () =>
          // The powered-off host is off: only the survivor's interfaces count.
          (await holders([survivor])).join() === cluster.name(survivor) &&
          (await runsOn(survivor)).join() === cluster.name(survivor)
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      const ping = await waitFor("the witness host to reach the VIP", async () => {
        const answer = await lab.host(2).exec("ping", ["-c", "1", "-W", "1", VIP]);
        return answer.code === 0 ? answer : undefined;
      });
      assert.equal(ping.code, 0);
    }));
});
