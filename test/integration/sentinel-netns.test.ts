import assert from "node:assert/strict";
import { accessSync } from "node:fs";
import { describe, test } from "node:test";
import { labTestOptions, withLab } from "../lab/index.js";
import { HOSTS, PORT, readWrites } from "../support/redis-lab.js";
import {
  MASTER_NAME,
  SENTINEL_PORT,
  startSentinelRedis,
  startSentinelWriters,
  writerOutageMs,
} from "../support/sentinel-lab.js";
import { nowMs } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

/**
 * The Sentinel protocol on test hosts: every agent listens on 26379 of its link-0 address; on a
 * lab client, redis-py's Sentinel and ioredis (`sentinels:`, with its failover detector) write to
 * the promotable Redis while the primary's host loses power, and are served by the promoted
 * replica without being told anything but the sentinels' addresses; redis-cli subscribed to
 * +switch-master on another host hears the move.
 */
describe(
  "Redis clients following a power-off through the Sentinel protocol",
  sentinelLabOptions(),
  () => {
    test("the primary's host loses power: both clients write on to the promoted replica, +switch-master is heard", async () => {
      await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
        const { view, primary } = await startSentinelRedis(lab);
        const address = (host: number) => lab.host(host).address(0);
        const client = lab.clients[0]!;
        const sentinel = async (host: number, args: readonly string[]) => {
          const result = await client.exec(
            "redis-cli",
            ["-h", address(host), "-p", String(SENTINEL_PORT), ...args],
            { timeoutMs: 5000 },
          );
          return result.stdout.trim();
        };
        for (const host of HOSTS)
          assert.equal(
            await sentinel(host, ["SENTINEL", "get-master-addr-by-name", MASTER_NAME]),
            `${address(primary)}\n${PORT}`,
            `the answer of host ${host}'s agent`,
          );
        const [watcher] = HOSTS.filter((host) => host !== primary) as [number, number];
        const subscriber = client.spawn("redis-cli", [
          "-h",
          address(watcher),
          "-p",
          String(SENTINEL_PORT),
          "SUBSCRIBE",
          "+switch-master",
        ]);
        await subscriber.waitForLine(/^\+switch-master$/, 10_000);
        const writers = await startSentinelWriters(lab, client);
        let faultMs: number;
        let promoted: number;
        try {
          await lab.powerOff(primary);
          // Taken once everything on the host is dead: a write sent later is served by a successor.
          faultMs = nowMs();
          promoted = await waitFor(
            "a replica to be promoted",
            async () => {
              const next = view.primaryIn(await view.stateOn(watcher));
              return next !== undefined && next !== primary ? next : undefined;
            },
            { timeoutMs: 30_000 },
          );
          for (const [name, log] of Object.entries(writers.logs))
            await waitFor(
              `${name} to be served again`,
              async () =>
                (await readWrites(log)).some((w) => w.ok && w.sentMs > faultMs) ? true : undefined,
              { timeoutMs: 30_000, intervalMs: 50 },
            );
        } finally {
          await writers.stop();
          subscriber.kill("SIGTERM");
        }
        const outages: string[] = [];
        for (const [name, log] of Object.entries(writers.logs)) {
          const writes = await readWrites(log);
          const last = writes.filter((w) => w.ok).at(-1)!;
          // Served by the new primary: it has the client's last acknowledged write.
          assert.equal(
            await view.redis(promoted, ["GET", `${name === "ioredis" ? "io" : "py"}:${last.n}`]),
            String(last.n),
            `${name}'s last write on the promoted host ${promoted}`,
          );
          outages.push(`${name} ${writerOutageMs(writes, faultMs)?.toFixed(0)} ms`);
        }
        assert.equal((await view.replication(promoted)).role, "master");
        assert.equal(
          await sentinel(promoted, ["SENTINEL", "get-master-addr-by-name", MASTER_NAME]),
          `${address(promoted)}\n${PORT}`,
        );
        assert.match(
          subscriber.stdout,
          new RegExp(
            `^message\\n\\+switch-master\\n${MASTER_NAME} ${address(primary)} ${PORT} ${address(promoted)} ${PORT}$`,
            "m",
          ),
        );
        console.log(
          `power-off of host ${primary}, host ${promoted} promoted; the clients' gap between their last write served by the old primary and their first by the new: ${outages.join(", ")}`,
        );
      });
    });
  },
);

/** Skips without Redis or redis-py (as the loopback tests do); otherwise the lab's own rule. */
function sentinelLabOptions(): { skip?: string } {
  try {
    accessSync("/usr/bin/redis-server");
    accessSync("/usr/bin/redis-cli");
    accessSync("/usr/lib/python3/dist-packages/redis/sentinel.py");
  } catch {
    return { skip: "redis-server, redis-tools or python3-redis is not installed" };
  }
  return labTestOptions(["redis-server", "redis-cli"]);
}
