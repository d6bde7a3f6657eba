import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { accessSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { controlGet } from "../../src/control/client.js";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { startProbedCluster } from "../support/local-takeover.js";
import { onePromoted } from "../support/promoted.js";
import { parseRedisInfo } from "../support/redis-info.js";
import { removeTestDir } from "../support/remove-dir.js";
import { runVigil } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);
const REDIS_AGENT = resolve("examples/agents/redis");
const ADDRESS = { alpha: "127.0.0.11", beta: "127.0.0.12", gamma: "127.0.0.13" } as const;
type Name = keyof typeof ADDRESS;

/**
 * A promotable Redis (Debian's redis-server) on three loopback nodes: one primary, two replicas
 * following it; when the primary's node dies, the most up-to-date replica is promoted, the other
 * follows it, and the old primary comes back as a replica.
 */
describe("promotable Redis on loopback", { skip: redisMissing() }, () => {
  let dir: string;
  let cluster: LocalCluster;
  let port: number;

  const redis = async (name: Name, ...args: string[]) => {
    const { stdout } = await run("redis-cli", ["-h", ADDRESS[name], "-p", String(port), ...args], {
      timeout: 3000,
    });
    return stdout.trim();
  };
  const replication = async (name: Name) => {
    return parseRedisInfo(await redis(name, "INFO", "replication"));
  };
  const stateOn = (name: string) => controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");
  /** The node whose copy is promoted and reported so, once there is exactly one. */
  const primaryIn = (state: ClusterState) => onePromoted(state) as Name | undefined;
  const pidOf = async (name: Name) =>
    Number(await readFile(join(dir, "redis", name, "redis.pid"), "utf8"));
  /** Every other running node replicates from `primary`, with the link up. */
  const followers = (primary: Name, among: readonly Name[]) =>
    waitFor(`${among.join(", ")} to replicate from ${primary}`, async () => {
      for (const name of among) {
        const info = await replication(name);
        if (info.role !== "slave" || info.master_host !== ADDRESS[primary]) return undefined;
        if (info.master_link_status !== "up") return undefined;
      }
      return true;
    });

  before(async () => {
    ({ dir, port, cluster } = await startProbedCluster("vigil-redis-"));
  });

  after(async () => {
    await cluster?.stopAll();
    for (const name of Object.keys(ADDRESS) as Name[]) {
      const pid = await pidOf(name).catch(() => 0);
      if (pid > 0) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    await removeTestDir(dir);
  });

  test("one primary, two replicas following it", async () => {
    const file = join(dir, "redis.yaml");
    const peers = Object.entries(ADDRESS)
      .map(([name, address]) => `${name}=${address}`)
      .join(",");
    await writeFile(
      file,
      [
        "resources:",
        "  redis:",
        `    agent: "exec:${REDIS_AGENT}"`,
        `    params: { dir: "${join(dir, "redis")}", peers: "${peers}", port: "${port}" }`,
        "    operations: { monitor: { interval_ms: 500, timeout_ms: 5000 } }",
        "clones:",
        "  redis-ha: { of: redis, promotable: true, promoted_max: 1 }",
        "",
      ].join("\n"),
    );
    await runVigil(["config", "apply", file, "--socket", cluster.socketPath("alpha")]);
    const primary = await waitFor("one promoted copy", async () =>
      primaryIn(await stateOn("alpha")),
    );
    assert.equal((await replication(primary)).role, "master");
    const replicas = (Object.keys(ADDRESS) as Name[]).filter((name) => name !== primary);
    await followers(primary, replicas);
    assert.equal(await redis(primary, "SET", "greeting", "hello"), "OK");
    for (const name of replicas) {
      await waitFor(`${name} to have the key`, async () =>
        (await redis(name, "GET", "greeting")) === "hello" ? true : undefined,
      );
    }
  });

  test("kill -9 of the primary's redis-server: a replica with the data is promoted, not the copy restarted empty in its place", async () => {
    const primary = await waitFor("one promoted copy", async () =>
      primaryIn(await stateOn("alpha")),
    );
    await followers(
      primary,
      (Object.keys(ADDRESS) as Name[]).filter((name) => name !== primary),
    );
    for (let i = 0; i < 20; i++) await redis(primary, "SET", `acked${i}`, String(i));
    // Both replicas have every write before the kill.
    assert.equal(await redis(primary, "WAIT", "2", "5000"), "2");
    const killed = await pidOf(primary);
    process.kill(killed, "SIGKILL");
    // Recovered: the killed copy runs again (restarted in place) and one copy is primary.
    const promoted = await waitFor(
      "the killed copy restarted and a primary",
      async () => {
        const restarted = await pidOf(primary).catch(() => killed);
        if (restarted === killed) return undefined;
        const next = primaryIn(await stateOn("alpha"));
        if (next === undefined) return undefined;
        const role = await replication(next).then(
          (info) => info.role,
          () => undefined,
        );
        return role === "master" ? next : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.notEqual(promoted, primary, "the copy restarted empty was promoted again");
    assert.equal(await redis(promoted, "GET", "acked19"), "19");
    assert.equal(await redis(promoted, "GET", "greeting"), "hello");
    const others = (Object.keys(ADDRESS) as Name[]).filter((name) => name !== promoted);
    await followers(promoted, others);
    for (const name of others) {
      await waitFor(`${name} to have every write`, async () =>
        (await redis(name, "GET", "acked19")) === "19" ? true : undefined,
      );
    }
  });

  test("the primary's node dies: the most up-to-date replica is promoted, the other follows, the old primary rejoins as a replica", async () => {
    const primary = primaryIn(await stateOn("alpha"))!;
    // Node order would pick the first replica on a tie: hold that one back, so only the
    // promotion scores (replication offsets) can pick the other.
    const [behind, ahead] = (Object.keys(ADDRESS) as Name[]).filter((name) => name !== primary) as [
      Name,
      Name,
    ];
    // Hold one replica back (stopped, so its score stays where it was) while the primary takes
    // writes the other replica receives and reports in its score; then the primary's node dies
    // with its Redis: no demote, no goodbye.
    const behindPid = await pidOf(behind);
    process.kill(behindPid, "SIGSTOP");
    let promoted: Name;
    try {
      for (let i = 0; i < 50; i++) await redis(primary, "SET", `key${i}`, "x".repeat(1000));
      await waitFor(`${ahead} to report a promotion score with every write`, async () => {
        const score = (await stateOn(ahead)).agents[ahead]?.attributes?.[
          "promotion-score-redis-ha"
        ];
        return Number(score) >= 50_000 ? true : undefined;
      });
      await cluster.signal(primary, "SIGKILL");
      process.kill(await pidOf(primary), "SIGKILL");
      promoted = await waitFor(
        "a replica to be promoted",
        async () => {
          const next = primaryIn(await stateOn(ahead));
          return next !== undefined && next !== primary ? next : undefined;
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      process.kill(behindPid, "SIGCONT");
    }
    assert.equal(promoted, ahead, "the replica with the higher replication offset is promoted");
    assert.equal((await replication(ahead)).role, "master");
    assert.equal((await redis(ahead, "GET", "key49")).length, 1000);
    await followers(ahead, [behind]);

    await cluster.start(primary);
    await followers(ahead, [behind, primary]);
    assert.equal(await redis(primary, "GET", "greeting"), "hello");
    const state = await stateOn(ahead);
    assert.equal(primaryIn(state), ahead);
  });
});

function redisMissing(): string | false {
  try {
    accessSync("/usr/bin/redis-server");
    return false;
  } catch {
    return "redis-server is not installed (Debian package redis-server)";
  }
}
