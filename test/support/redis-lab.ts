import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { RawConfig } from "../../src/config/schema.js";
import { controlGet } from "../../src/control/client.js";
import type { ClusterState } from "../../src/state/types.js";
import type { Lab } from "../lab/index.js";
import { LabCluster } from "./lab-cluster.js";
import { onePromoted } from "./promoted.js";
import { parseRedisInfo } from "./redis-info.js";
import { runVigil } from "./takeover-lab.js";
import { waitFor } from "./wait.js";

/**
 * A promotable Redis (Debian's redis-server, examples/agents/redis) on three lab hosts, bound to
 * each host's address on lab link 0: the Redis netns tests, the Sentinel-protocol netns test and
 * bench:failover's Sentinel row start it and look at it through this.
 */

const REDIS_AGENT = resolve("examples/agents/redis");
export const PORT = 6379;
export const HOSTS = [0, 1, 2] as const;

export interface RedisLabOptions {
  /** A virtual IP that runs where the primary is, after its promotion; Redis listens on it too. */
  vip?: string;
  /** Run the compiled agent (benchmarks). */
  built?: boolean;
  /** More sections of the cluster file (sentinel, ...). */
  extraConfig?: Partial<RawConfig>;
}

/** The Redis clone on a lab cluster as the tests see it: redis-cli on the hosts, state, pids. */
export function redisView(lab: Lab, cluster: LabCluster, redisDir: string) {
  const address = (host: number) => lab.host(host).address(0);
  const hostOf = (node: string) => {
    const host = HOSTS.find((h) => cluster.name(h) === node);
    if (host === undefined) throw new Error(`no lab host runs node ${node}`);
    return host;
  };
  /** redis-cli on `host` itself, against the Redis bound there. */
  const redis = async (host: number, args: readonly string[], input?: string) => {
    const result = await lab
      .host(host)
      .exec("redis-cli", ["-h", address(host), "-p", String(PORT), ...args], {
        input,
        timeoutMs: 5000,
      });
    if (result.code !== 0)
      throw new Error(`redis-cli ${args.join(" ")} on host ${host}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const replication = async (host: number) => {
    return parseRedisInfo(await redis(host, ["INFO", "replication"]));
  };
  const stateOn = (host: number) => controlGet<ClusterState>(cluster.socketPath(host), "/v1/state");
  return {
    redis,
    replication,
    stateOn,
    /** The host whose copy is promoted and reported so, once there is exactly one. */
    primaryIn(state: ClusterState): number | undefined {
      const node = onePromoted(state);
      return node === undefined ? undefined : hostOf(node);
    },
    pidOf: async (host: number) =>
      Number(await readFile(join(redisDir, cluster.name(host), "redis.pid"), "utf8")),
    /**
     * What the running agents logged about failing or stopping resources, quorum, the leader's
     * placement steps (score polls, promotions, releases) and monitors run at once.
     */
    agentNotes: () =>
      HOSTS.flatMap((host) =>
        (cluster.agent(host)?.stdout ?? "")
          .split("\n")
          .filter((line) =>
            /stopping resource|monitor failed|resource failed|monitoring at once|placement step|quorum_(lost|regained)|is dead/.test(
              line,
            ),
          )
          .map((line) => `${cluster.name(host)}: ${line}`),
      ).join("\n"),
    /** Each node's attributes and each copy's cells in `state`, as a failed assertion shows them. */
    describeCopies: (state: ClusterState) =>
      JSON.stringify({
        attributes: Object.fromEntries(
          Object.entries(state.agents).map(([node, agent]) => [node, agent.attributes ?? {}]),
        ),
        copies: Object.fromEntries(
          Object.entries(state.resources).filter(([key]) => key.startsWith("redis-ha:")),
        ),
        scorePolls: state.scorePolls ?? {},
      }),
    /** Every host in `among` replicates from `primary`, with the link up. */
    followers: (primary: number, among: readonly number[]) =>
      waitFor(
        `hosts ${among.join(", ")} to replicate from host ${primary}`,
        async () => {
          for (const host of among) {
            const info = await replication(host);
            if (info.role !== "slave" || info.master_host !== address(primary)) return undefined;
            if (info.master_link_status !== "up") return undefined;
          }
          return true;
        },
        { timeoutMs: 30_000 },
      ),
  };
}

/**
 * Starts the agents, applies the Redis configuration (with a VIP that follows the primary, when
 * given) and waits for one primary with both replicas following it.
 */
export async function startRedis(lab: Lab, options: RedisLabOptions = {}) {
  const { vip } = options;
  const cluster = await LabCluster.create(lab, {
    profile: "default",
    built: options.built,
    extraConfig: options.extraConfig,
  });
  const redisDir = join(lab.dir, "redis");
  const view = redisView(lab, cluster, redisDir);
  await cluster.startAll();
  await cluster.waitAllUp();
  await waitFor("every node to have probed", async () => {
    const state = await view.stateOn(0);
    return HOSTS.every((host) => state.agents[cluster.name(host)] !== undefined) ? true : undefined;
  });
  await applyConfig(lab, cluster, redisDir, vip);
  const primary = await waitFor(
    "one promoted copy",
    async () => view.primaryIn(await view.stateOn(0)),
    { timeoutMs: 30_000 },
  );
  assert.equal((await view.replication(primary)).role, "master");
  await view.followers(
    primary,
    HOSTS.filter((host) => host !== primary),
  );
  return { cluster, view, primary };
}

export interface Write {
  n: number;
  sentMs: number;
  doneMs: number;
  ok: boolean;
  /** Replicas that had it when WAIT answered (ok writes of redis-writer.mjs only; else 0). */
  replicas: number;
}

/** A writer's log (test/support/write-log.mjs's format: every writer's), whole lines only. */
export async function readWrites(path: string): Promise<Write[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [n, sent, done, outcome, detail] = line.split(" ");
      return {
        n: Number(n),
        sentMs: Number(sent),
        doneMs: Number(done),
        ok: outcome === "ok",
        replicas: outcome === "ok" && detail !== undefined ? Number(detail) : 0,
      };
    });
}

/**
 * Applies the Redis configuration with `vigil config apply` on host 0's agent; with `vip`, a
 * virtual IP that runs where the primary is, after its promotion, and Redis listening on it too.
 */
async function applyConfig(
  lab: Lab,
  cluster: LabCluster,
  redisDir: string,
  vip?: string,
): Promise<void> {
  const file = join(lab.dir, "redis.yaml");
  const peers = HOSTS.map((host) => `${cluster.name(host)}=${lab.host(host).address(0)}`).join(",");
  await writeFile(
    file,
    [
      "resources:",
      "  redis:",
      `    agent: "exec:${REDIS_AGENT}"`,
      `    params: { dir: "${redisDir}", peers: "${peers}", port: "${PORT}"${vip === undefined ? "" : `, bind: "0.0.0.0"`} }`,
      "    operations: { monitor: { interval_ms: 500, timeout_ms: 5000 } }",
      ...(vip === undefined
        ? []
        : [
            "  redis-ip:",
            `    agent: vip`,
            `    params: { address: "${vip}/24", interface: eth0 }`,
            "    operations: { monitor: { interval_ms: 500, timeout_ms: 5000 } }",
          ]),
      "clones:",
      "  redis-ha: { of: redis, promotable: true, promoted_max: 1 }",
      ...(vip === undefined
        ? []
        : [
            "constraints:",
            "  - colocation: { resource: redis-ip, with: redis-ha, with_role: promoted, score: INFINITY }",
            "  - order: { first: redis-ha, first_action: promote, then: redis-ip }",
          ]),
      "",
    ].join("\n"),
  );
  await runVigil(["config", "apply", file, "--socket", cluster.socketPath(0)]);
}
