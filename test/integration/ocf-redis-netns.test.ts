import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ClusterState } from "../../src/state/types.js";
import { type Lab, labTestOptions, withLab } from "../lab/index.js";
import { LabCluster } from "../support/lab-cluster.js";
import { onePromoted } from "../support/promoted.js";
import { parseRedisInfo } from "../support/redis-info.js";
import { runVigil } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const REDIS_AGENT = "/usr/lib/ocf/resource.d/heartbeat/redis";
const PORT = 6379;
const HOSTS = [0, 1, 2] as const;
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

/**
 * Debian's unmodified ocf:heartbeat:redis as a promotable clone with notifications, as a
 * Pacemaker user configures it (the README's promotable example): on three test hosts, each copy
 * with its own configuration and run directory (`params_on`, since the agent's `rundir` is
 * unique). The agent finds its peers by node name (it tells replicas `SLAVEOF <node>`), so every
 * test host resolves the others' names (/etc/netns/NS/hosts, which `ip netns exec` puts over
 * /etc/hosts for what runs there). The agent keeps its scores with crm_master, finds the
 * primary with crm_mon and keeps the last one as a cluster property; replicas repoint to a new
 * primary on its post-promote notification.
 */
describe(
  "ocf:heartbeat:redis (unmodified) as a promotable clone across test hosts",
  redisOptions(),
  () => {
    test("one primary, two replicas following it; one falls behind, the primary's host dies: the replica holding every write is promoted (not the one its agent scores higher), the other follows it, the data survives", async () => {
      await withLab({ hosts: 3, links: 2 }, async (lab) => {
        await withHostNames(lab, async () => {
          const cluster = await LabCluster.create(lab, { profile: "default" });
          const name = (host: number) => cluster.name(host);
          const address = (host: number) => lab.host(host).address(0);
          const stateOn = (host: number) => cluster.state(host);
          const redis = async (host: number, args: readonly string[]) => {
            const result = await lab
              .host(host)
              .exec("redis-cli", ["-h", address(host), "-p", String(PORT), ...args], {
                timeoutMs: 5000,
              });
            if (result.code !== 0)
              throw new Error(`redis-cli ${args.join(" ")} on host ${host}: ${result.stderr}`);
            return result.stdout.trim();
          };
          const replication = async (host: number) =>
            parseRedisInfo(await redis(host, ["INFO", "replication"]));
          const primaryIn = (state: ClusterState) => {
            const node = onePromoted(state);
            return HOSTS.find((host) => name(host) === node);
          };
          const followers = (primary: number, among: readonly number[]) =>
            waitFor(
              `hosts ${among.join(", ")} to replicate from ${name(primary)}`,
              async () => {
                for (const host of among) {
                  const info = await replication(host).catch(() => undefined);
                  if (info?.role !== "slave" || info.master_link_status !== "up") return undefined;
                  if (info.master_host !== name(primary)) return undefined;
                }
                return true;
              },
              WAIT,
            );

          // Every write the primary took so far is on these replicas (WAIT counts only its own
          // connection's writes: each redis-cli here is a new one).
          const caughtUp = (primary: number, among: readonly number[]) =>
            waitFor(
              `hosts ${among.join(", ")} to hold every write of ${name(primary)}`,
              async () => {
                const info = await replication(primary);
                const offsets = Object.entries(info)
                  .filter(([key]) => /^slave\d+$/.test(key))
                  .map(([, value]) =>
                    Object.fromEntries(value.split(",").map((kv) => kv.split("="))),
                  );
                const held = (host: number) =>
                  offsets.some(
                    (replica) =>
                      replica.ip === address(host) &&
                      Number(replica.offset) >= Number(info.master_repl_offset),
                  );
                return among.every(held) ? true : undefined;
              },
              WAIT,
            );

          await cluster.startAllProbed();
          await applyRedis(lab, cluster);
          const primary = await waitFor(
            "one promoted copy",
            async () => primaryIn(await stateOn(0)),
            WAIT,
          );
          assert.equal((await replication(primary)).role, "master");
          const replicas = HOSTS.filter((host) => host !== primary);
          await followers(primary, replicas);

          for (let i = 0; i < 20; i++)
            assert.equal(await redis(primary, ["SET", `k${i}`, `v${i}`]), "OK");
          await caughtUp(primary, replicas);

          // The replica its agent would have promoted falls behind: the one it scores higher, or
          // on a tie (the agent scores every copy 1 + its clients, once) the one named first.
          // Its link 0, where redis replicates, is cut; heartbeats go on over link 1.
          const attribute = async (host: number, name: string) =>
            (await stateOn(primary)).agents[cluster.name(host)]?.attributes?.[name];
          const scoreOf = async (host: number) =>
            Number(await attribute(host, "promotion-score-redis-ha"));
          const [a, b] = replicas as [number, number];
          const [behind, ahead] = (await scoreOf(b)) > (await scoreOf(a)) ? [b, a] : [a, b];
          await lab.cutLink(behind, 0);
          for (let i = 20; i < 40; i++)
            assert.equal(await redis(primary, ["SET", `k${i}`, `v${i}`]), "OK");
          await caughtUp(primary, [ahead]);
          const written = Number((await replication(primary)).master_repl_offset);
          // Each copy's monitor reads its offset (replication_offset): the one behind holds less.
          await waitFor(
            "the replicas' offsets as their monitors read them",
            async () =>
              Number(await attribute(ahead, "replication-offset-redis-ha")) >= written &&
              Number(await attribute(behind, "replication-offset-redis-ha")) < written
                ? true
                : undefined,
            WAIT,
          );

          await lab.powerOff(primary);
          const next = await waitFor(
            "a replica to be promoted",
            async () => {
              const found = primaryIn(await stateOn(ahead));
              return found !== undefined && found !== primary ? found : undefined;
            },
            WAIT,
          );
          assert.equal(next, ahead, "the replica holding every write is the one promoted");
          assert.equal((await replication(next)).role, "master");
          await lab.healLink(behind, 0);
          await followers(next, [behind]);
          for (let i = 0; i < 40; i++) assert.equal(await redis(next, ["GET", `k${i}`]), `v${i}`);
          await caughtUp(next, [behind]);
          assert.equal(await redis(behind, ["GET", "k39"]), "v39", "the one behind caught up");
        });
      });
    });
  },
);

function redisOptions(): { skip?: string } {
  const lab = labTestOptions(["redis-server", "redis-cli"]);
  if (lab.skip !== undefined) return lab;
  if (!existsSync(REDIS_AGENT)) {
    return { skip: `${REDIS_AGENT} is not installed (apt-get install resource-agents)` };
  }
  try {
    execFileSync("getent", ["passwd", "redis"]);
  } catch {
    return { skip: "no redis user (apt-get install redis-server creates it)" };
  }
  return {};
}

/** Every test host resolves every host's node name to its address on link 0, for `body`. */
async function withHostNames(lab: Lab, body: () => Promise<void>): Promise<void> {
  const lines = [
    "127.0.0.1 localhost",
    ...lab.hosts.map((host, index) => `${host.address(0)} h${index + 1}`),
    "",
  ].join("\n");
  const dirs = lab.hosts.map((host) => join("/etc/netns", host.ns));
  try {
    for (const dir of dirs) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "hosts"), lines);
    }
    await body();
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** Each node's redis.conf, run and data directories (owned by the redis user), then the clone. */
async function applyRedis(lab: Lab, cluster: LabCluster): Promise<void> {
  const uid = Number(execFileSync("id", ["-u", "redis"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "redis"]).toString().trim());
  // The redis user must reach its files under the lab's directory (mkdtemp made it 0700).
  await chmod(lab.dir, 0o755);
  const paramsOn: Record<string, { config: string; rundir: string }> = {};
  for (const host of HOSTS) {
    const node = cluster.name(host);
    const base = join(lab.dir, "ocf-redis", node);
    const data = join(base, "data");
    const rundir = join(base, "run");
    await mkdir(data, { recursive: true });
    await mkdir(rundir, { recursive: true });
    await chmod(join(lab.dir, "ocf-redis"), 0o755);
    await chmod(base, 0o755);
    for (const dir of [data, rundir]) await chown(dir, uid, gid);
    const config = join(base, "redis.conf");
    await writeFile(
      config,
      [
        `bind ${lab.host(host).address(0)}`,
        `port ${PORT}`,
        `dir ${data}`,
        "protected-mode no",
        'save ""',
        "appendonly no",
        `logfile ${join(rundir, "redis.log")}`,
        "",
      ].join("\n"),
    );
    await chmod(config, 0o644);
    paramsOn[node] = { config, rundir };
  }
  const document = join(lab.dir, "ocf-redis.yaml");
  await writeFile(
    document,
    [
      "resources:",
      "  redis:",
      '    agent: "ocf:heartbeat:redis"',
      "    params_on:",
      ...Object.entries(paramsOn).map(
        ([node, params]) =>
          `      ${node}: { config: "${params.config}", rundir: "${params.rundir}" }`,
      ),
      "    operations:",
      "      start: { timeout_ms: 60000 }",
      "      stop: { timeout_ms: 30000 }",
      "      promote: { timeout_ms: 30000 }",
      "      demote: { timeout_ms: 30000 }",
      "      notify: { timeout_ms: 30000 }",
      "      monitor: { interval_ms: 2000, timeout_ms: 20000 }",
      "clones:",
      "  redis-ha:",
      "    of: redis",
      "    promotable: true",
      "    promoted_max: 1",
      "    notify: true",
      "    replication_offset:",
      `      command: 'redis-cli -s "$OCF_RESKEY_rundir/redis.sock" info replication'`,
      "      pattern: '^master_repl_offset:(\\d+)'",
      "",
    ].join("\n"),
  );
  await runVigil(["config", "apply", document, "--socket", cluster.socketPath(0)]);
}
