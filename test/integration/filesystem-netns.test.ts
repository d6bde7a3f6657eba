import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { labTestOptions, withLab } from "../lab/index.js";
import { LabCluster } from "../support/lab-cluster.js";
import { runVigil } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);
const FILESYSTEM_AGENT = "/usr/lib/ocf/resource.d/heartbeat/Filesystem";
const WAIT = { timeoutMs: 90_000, intervalMs: 200 };

/**
 * Debian's unmodified ocf:heartbeat:Filesystem on three test hosts, mounting one ext4 image on a
 * loop device: shared storage, as a SAN LUN would be. Each lab host's agent runs in its own mount
 * namespace (`ip netns exec` makes one), so a host's mount is seen only there, and a host's
 * power-off (every process killed) takes its namespace, and so its mount, with it. What a
 * client wrote through the mount on one host must be read on the host it moves to, and no two
 * hosts may ever have it mounted at once (checked on every look, through each agent's
 * /proc/PID/mountinfo).
 */
describe(
  "ocf:heartbeat:Filesystem on shared storage across test hosts",
  filesystemOptions(),
  () => {
    test("the file system moves with its node's power-off, its data with it, never mounted twice", async () => {
      await withLab({ hosts: 3, links: 2 }, async (lab) => {
        const image = join(lab.dir, "shared.img");
        const mountPoint = join(lab.dir, "mnt");
        await run("truncate", ["-s", "64M", image]);
        await run("mkfs.ext4", ["-q", "-F", image]);
        await run("mkdir", ["-p", mountPoint]);
        const device = (await run("losetup", ["--find", "--show", image])).stdout.trim();
        try {
          const cluster = await LabCluster.create(lab, { profile: "default" });
          await cluster.startAllProbed();
          const hosts = lab.hosts.map((_, host) => host);
          const stateOn = (host: number) => cluster.state(host);
          /** The hosts whose agent's mount namespace has the image mounted, each look checked. */
          const mountedOn = async (): Promise<number[]> => {
            const mounted: number[] = [];
            for (const host of hosts) {
              const agent = cluster.agent(host);
              if (agent === undefined || !agent.running) continue;
              const info = await readFile(`/proc/${agent.pid}/mountinfo`, "utf8").catch(() => "");
              if (info.split("\n").some((line) => line.split(" ")[4] === mountPoint))
                mounted.push(host);
            }
            assert.ok(mounted.length <= 1, `mounted on hosts ${mounted.join(", ")} at once`);
            return mounted;
          };
          /** The host that runs fs, started and mounted there, once it is; the others must not. */
          const runningOn = (label: string, accept: (host: number) => boolean) =>
            waitFor(
              label,
              async () => {
                const mounted = await mountedOn();
                const state = await stateOn(hosts.find((h) => cluster.agent(h)?.running) ?? 0);
                const started = Object.entries(state.resources.fs ?? {})
                  .filter(([, cell]) => cell.active === "started")
                  .map(([node]) => hosts.find((h) => cluster.name(h) === node));
                const [host] = started;
                return started.length === 1 &&
                  host !== undefined &&
                  accept(host) &&
                  mounted.join() === String(host)
                  ? host
                  : undefined;
              },
              WAIT,
            );
          /** A shell command in the mount namespace of `host`'s agent (where its mount is). */
          const inMountOf = async (host: number, script: string) => {
            const agent = cluster.agent(host);
            assert.ok(agent?.running, `host ${host}'s agent runs`);
            return (await run("nsenter", ["-t", String(agent.pid), "-m", "sh", "-c", script]))
              .stdout;
          };

          const file = join(lab.dir, "resources.yaml");
          await writeFile(
            file,
            [
              "resources:",
              "  fs:",
              '    agent: "ocf:heartbeat:Filesystem"',
              `    params: { device: ${device}, directory: ${mountPoint}, fstype: ext4 }`,
              "    operations:",
              "      start: { timeout_ms: 60000 }",
              "      stop: { timeout_ms: 60000 }",
              "      monitor: { interval_ms: 2000, timeout_ms: 40000 }",
              "",
            ].join("\n"),
          );
          await runVigil(["config", "apply", file, "--socket", cluster.socketPath(0)]);
          const first = await runningOn("fs to be mounted on one host", () => true);
          await inMountOf(
            first,
            `echo written-on-${cluster.name(first)} > ${mountPoint}/data; sync`,
          );

          await lab.powerOff(first);
          const next = await runningOn(
            "fs to be mounted on another host",
            (host) => host !== first,
          );
          assert.equal(
            await inMountOf(next, `cat ${mountPoint}/data`),
            `written-on-${cluster.name(first)}\n`,
          );
          // Nothing else mounted it meanwhile, and it stays where it is.
          assert.deepEqual(await mountedOn(), [next]);
        } finally {
          // Detaches at once, or when the last mount is gone with its host's processes.
          await run("losetup", ["-d", device]).catch(() => undefined);
        }
      });
    });
  },
);

function filesystemOptions(): { skip?: string } {
  const lab = labTestOptions(["losetup", "mkfs.ext4", "nsenter", "truncate", "modprobe", "fuser"]);
  if (lab.skip !== undefined || existsSync(FILESYSTEM_AGENT)) return lab;
  return { skip: `${FILESYSTEM_AGENT} is not installed (apt-get install resource-agents)` };
}
