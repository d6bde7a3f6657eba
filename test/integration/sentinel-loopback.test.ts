import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { accessSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { parse, stringify } from "yaml";
import type { RawConfig } from "../../src/config/schema.js";
import { freeUdpPorts, LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { freeTcpPorts } from "../support/local-api.js";
import { onePromoted } from "../support/promoted.js";
import { parseRedisInfo } from "../support/redis-info.js";
import { readWrites } from "../support/redis-lab.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);
const REDIS_AGENT = resolve("examples/agents/redis");
const PY_WRITER = resolve("test/support/sentinel-writer-py.py");
const PYTHON = "/usr/bin/python3";
const ADDRESS = { alpha: "127.0.0.11", beta: "127.0.0.12", gamma: "127.0.0.13" } as const;
type Name = keyof typeof ADDRESS;
const NAMES = Object.keys(ADDRESS) as Name[];
const MASTER = "mymaster";

/**
 * Unmodified Redis clients find the primary of a promotable Redis through Vigil's Sentinel
 * protocol: redis-py's Sentinel and ioredis (`sentinels:`) keep writing while the primary's node
 * dies (its agent and its redis-server killed), and reconnect to the promoted replica on their
 * own; the answer to get-master-addr-by-name moves, and a subscriber hears +switch-master.
 */
describe("Redis clients following a failover through the Sentinel protocol", {
  skip: missing(),
}, () => {
  let dir: string;
  let cluster: LocalCluster;
  let redisPort: number;
  const sentinelPort = new Map<Name, number>();
  const clients: Redis[] = [];

  const sentinelClient = (name: Name) => {
    const client = new Redis({
      host: "127.0.0.1",
      port: sentinelPort.get(name),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    clients.push(client);
    return client;
  };
  const ask = async (name: Name, ...args: string[]) => {
    const client = sentinelClient(name);
    try {
      return await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  };
  const redis = async (name: Name, ...args: string[]) => {
    const { stdout } = await run(
      "redis-cli",
      ["-h", ADDRESS[name], "-p", String(redisPort), ...args],
      {
        timeout: 3000,
      },
    );
    return stdout.trim();
  };
  const primaryIn = (state: ClusterState) => onePromoted(state) as Name | undefined;
  const pidOf = async (name: Name) =>
    Number(await readFile(join(dir, "redis", name, "redis.pid"), "utf8"));
  const followers = (primary: Name, among: readonly Name[]) =>
    waitFor(
      `${among.join(", ")} to replicate from ${primary}`,
      async () => {
        for (const name of among) {
          const info = parseRedisInfo(await redis(name, "INFO", "replication"));
          if (info.role !== "slave" || info.master_host !== ADDRESS[primary]) return undefined;
          if (info.master_link_status !== "up") return undefined;
        }
        return true;
      },
      { timeoutMs: 30_000 },
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-sentinel-"));
    [redisPort] = (await freeUdpPorts(1)) as [number];
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    const ports = await freeTcpPorts(NAMES.length);
    NAMES.forEach((name, index) => {
      sentinelPort.set(name, ports[index]!);
    });
    const config = parse(await readFile(cluster.configPath, "utf8")) as RawConfig;
    config.sentinel = {
      listen: "127.0.0.1",
      services: { [MASTER]: { resource: "redis-ha", port: redisPort, addresses: ADDRESS } },
    };
    for (const node of config.nodes)
      node.sentinel_listen = `127.0.0.1:${sentinelPort.get(node.name as Name)}`;
    await writeFile(cluster.configPath, stringify(config), { mode: 0o600 });
    for (const name of cluster.names) await cluster.start(name);
    await waitFor("every node to have probed", async () => {
      const state = await cluster.state("alpha").catch(() => undefined);
      return cluster.names.every((name) => state?.agents[name] !== undefined) ? true : undefined;
    });
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.stopAll();
    for (const name of NAMES) {
      const pid = await pidOf(name).catch(() => 0);
      if (pid > 0) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    await removeTestDir(dir);
  });

  test("before Redis runs: no master, and the names, roles and other sentinels are known", async () => {
    assert.equal(await ask("alpha", "SENTINEL", "get-master-addr-by-name", MASTER), null);
    assert.deepEqual(await ask("alpha", "ROLE"), ["sentinel", [MASTER]]);
    assert.equal(await ask("alpha", "PING"), "PONG");
    await assert.rejects(
      ask("alpha", "SENTINEL", "master", "other"),
      /No such master with that name/,
    );
    await assert.rejects(ask("alpha", "FLUSHALL"), /ERR unknown command 'FLUSHALL'/);
    const sentinels = (await ask("alpha", "SENTINEL", "sentinels", MASTER)) as string[][];
    assert.deepEqual(
      sentinels.map((fields) => fields[fields.indexOf("port") + 1]).sort(),
      [String(sentinelPort.get("beta")), String(sentinelPort.get("gamma"))].sort(),
    );
  });

  test("both clients write across the primary's death and are served by the promoted replica", async () => {
    await applyRedis();
    const primary = await waitFor(
      "one promoted copy",
      async () => primaryIn(await cluster.state("alpha")),
      { timeoutMs: 30_000 },
    );
    const replicas = NAMES.filter((name) => name !== primary);
    await followers(primary, replicas);
    const [watcher] = replicas as [Name, Name];
    // Every node answers the same: the primary's address and port.
    for (const name of NAMES)
      assert.deepEqual(await ask(name, "SENTINEL", "get-master-addr-by-name", MASTER), [
        ADDRESS[primary],
        String(redisPort),
      ]);
    const listed = (await ask(watcher, "SENTINEL", "replicas", MASTER)) as string[][];
    assert.deepEqual(
      listed.map((fields) => fields[fields.indexOf("ip") + 1]).sort(),
      replicas.map((name) => ADDRESS[name]).sort(),
    );
    assert.ok(listed.every((fields) => fields[fields.indexOf("flags") + 1] === "slave"));

    // A subscriber on each node that lives on (one of them a follower after the failover), as
    // ioredis' failover detector subscribes: every node derives the switch from the state.
    const switches = new Map<Name, string[]>(replicas.map((name) => [name, []]));
    for (const name of replicas) {
      const subscriber = sentinelClient(name);
      subscriber.on("message", (channel: string, text: string) =>
        switches.get(name)?.push(`${channel} ${text}`),
      );
      await subscriber.subscribe("+switch-master");
    }

    const sentinels = NAMES.map((name) => ({ host: "127.0.0.1", port: sentinelPort.get(name)! }));
    const io = new Redis({ sentinels, name: MASTER, sentinelRetryStrategy: () => 100 });
    io.on("error", () => {});
    clients.push(io);
    const ioWrites: Array<{ n: number; sentMs: number; ok: boolean }> = [];
    let writing = true;
    const ioLoop = (async () => {
      for (let n = 0; writing; n++) {
        const sentMs = Date.now();
        const ok = await io.set(`io:${n}`, String(n)).then(
          () => true,
          () => false,
        );
        ioWrites.push({ n, sentMs, ok });
        await sleep(ok ? 10 : 50);
      }
    })();
    const pyLog = join(dir, "py-writes.log");
    const py = spawn(PYTHON, [
      PY_WRITER,
      MASTER,
      pyLog,
      ...NAMES.map((name) => `127.0.0.1:${sentinelPort.get(name)}`),
    ]);
    const pyExited = new Promise((done) => py.once("exit", done));
    let killedAtMs = 0;
    try {
      await waitFor("both clients to write", async () =>
        ioWrites.some((w) => w.ok) && (await readWrites(pyLog)).some((w) => w.ok)
          ? true
          : undefined,
      );
      // The primary's node dies: its agent and its Redis, no goodbye.
      await cluster.signal(primary, "SIGKILL");
      process.kill(await pidOf(primary), "SIGKILL");
      killedAtMs = Date.now();
      const promoted = await waitFor(
        "a replica to be promoted",
        async () => {
          const next = primaryIn(await cluster.state(watcher));
          return next !== undefined && next !== primary ? next : undefined;
        },
        { timeoutMs: 30_000 },
      );
      await waitFor(
        "both clients to be served again",
        async () =>
          ioWrites.some((w) => w.ok && w.sentMs > killedAtMs) &&
          (await readWrites(pyLog)).some((w) => w.ok && w.sentMs > killedAtMs)
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      writing = false;
      await ioLoop;
      py.kill("SIGTERM");
      await pyExited;

      const lastIo = ioWrites.filter((w) => w.ok).at(-1)!;
      const lastPy = (await readWrites(pyLog)).filter((w) => w.ok).at(-1)!;
      assert.ok(lastIo.sentMs > killedAtMs && lastPy.sentMs > killedAtMs);
      // Served by the new primary: it has the last writes of both clients.
      assert.equal(await redis(promoted, "GET", `io:${lastIo.n}`), String(lastIo.n));
      assert.equal(await redis(promoted, "GET", `py:${lastPy.n}`), String(lastPy.n));
      assert.equal(parseRedisInfo(await redis(promoted, "INFO", "replication")).role, "master");
      assert.deepEqual(await ask(watcher, "SENTINEL", "get-master-addr-by-name", MASTER), [
        ADDRESS[promoted],
        String(redisPort),
      ]);
      await waitFor("both subscribers to hear +switch-master", async () =>
        [...switches.values()].every((heard) => heard.length > 0) ? true : undefined,
      );
      const expected = `+switch-master ${MASTER} ${ADDRESS[primary]} ${redisPort} ${ADDRESS[promoted]} ${redisPort}`;
      for (const [name, heard] of switches) assert.deepEqual(heard, [expected], `heard on ${name}`);
      const failed = {
        io: ioWrites.filter((w) => !w.ok).length,
        py: (await readWrites(pyLog)).filter((w) => !w.ok).length,
      };
      console.log(
        `primary ${primary} killed, ${promoted} promoted; failed writes during the failover: ioredis ${failed.io}, redis-py ${failed.py}`,
      );
    } finally {
      writing = false;
      if (py.exitCode === null) py.kill("SIGTERM");
    }
  });

  async function applyRedis(): Promise<void> {
    const peers = NAMES.map((name) => `${name}=${ADDRESS[name]}`).join(",");
    await cluster.applyResources(
      "alpha",
      [
        "resources:",
        "  redis:",
        `    agent: "exec:${REDIS_AGENT}"`,
        `    params: { dir: "${join(dir, "redis")}", peers: "${peers}", port: "${redisPort}" }`,
        "    operations: { monitor: { interval_ms: 500, timeout_ms: 5000 } }",
        "clones:",
        "  redis-ha: { of: redis, promotable: true, promoted_max: 1 }",
        "",
      ].join("\n"),
    );
  }
});

function missing(): string | false {
  try {
    accessSync("/usr/bin/redis-server");
  } catch {
    return "redis-server is not installed (Debian package redis-server)";
  }
  try {
    accessSync("/usr/lib/python3/dist-packages/redis/sentinel.py");
  } catch {
    return "redis-py is not installed (Debian package python3-redis)";
  }
  return false;
}
