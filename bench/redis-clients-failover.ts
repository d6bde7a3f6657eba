/**
 * bench:failover's rows for clients of a promotable Redis (`--only sentinel,haproxy`): the Redis
 * on 3 test hosts (default profile, the compiled agent), and on a lab client the clients that
 * find its primary through Vigil:
 *   sentinel  ioredis (`sentinels:`, failover detector on, connectTimeout 500 ms) and redis-py's
 *             Sentinel (socket_timeout 0.5 s), given only the agents' Sentinel addresses;
 *   haproxy   a plain Redis writer through Debian's HAProxy on the client host, which checks
 *             every node's GET /v1/health/redis-ha/primary over HTTPS (test/support/haproxy-lab.ts).
 * Each trial powers the primary's host off and measures, per client, the time from its last write
 * answered before to its first write sent after and answered by the new primary; then the host
 * comes back, its agent starts and its Redis follows the new primary before the next trial.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { withLab } from "../test/lab/index.js";
import { startHaproxy, startHaproxyWriter, tlsApiConfig } from "../test/support/haproxy-lab.js";
import { HOSTS, readWrites } from "../test/support/redis-lab.js";
import {
  startSentinelRedis,
  startSentinelWriters,
  writerOutageMs,
} from "../test/support/sentinel-lab.js";
import { nowMs } from "../test/support/takeover-lab.js";
import { waitFor } from "../test/support/wait.js";

export interface RedisClientTrial {
  /** Writer → ms it went unserved. */
  outageMs: Record<string, number>;
  /** The old primary's host had the Raft leader (an election came first). */
  victimWasLeader: boolean;
}

/** The writer through HAProxy, as its row is named. */
export const HAPROXY_WRITER = "HAProxy";

/** Power-offs land at a random phase of the 100 ms keepalive and the monitor. */
const MAX_PHASE_MS = 300;

export async function redisClientTrials(
  count: number,
  clients: { sentinel: boolean; haproxy: boolean },
  log: (text: string) => void,
): Promise<RedisClientTrial[]> {
  const trials: RedisClientTrial[] = [];
  await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
    const client = lab.clients[0]!;
    const { cluster, view } = await startSentinelRedis(lab, {
      built: true,
      extraConfig: clients.haproxy ? await tlsApiConfig(lab) : {},
    });
    const haproxy = clients.haproxy ? await startHaproxy(lab, client, "redis-ha") : undefined;
    let primary = await waitFor("one primary", async () => view.primaryIn(await view.stateOn(0)));
    try {
      for (let trial = 0; trial < count; trial++) {
        const survivor = HOSTS.find((host) => host !== primary)!;
        const leaderId = (await cluster.status(survivor)).coordination?.leaderId;
        if (haproxy !== undefined)
          await waitFor(`HAProxy to have only ${cluster.name(primary)} UP`, async () => {
            const up = await haproxy.upServers();
            return up.length === 1 && up[0] === cluster.name(primary) ? true : undefined;
          });
        const writerLogs: Record<string, string> = {};
        const stops: Array<() => Promise<void>> = [];
        let offMs: number;
        let next: number;
        try {
          if (clients.sentinel) {
            const writers = await startSentinelWriters(lab, client, `-${trial}`);
            stops.push(writers.stop);
            Object.assign(writerLogs, writers.logs);
          }
          if (haproxy !== undefined) {
            const path = join(lab.dir, `haproxy-writes-${trial}.log`);
            stops.push((await startHaproxyWriter(client, haproxy.front, path)).stop);
            writerLogs[HAPROXY_WRITER] = path;
          }
          await sleep(Math.random() * MAX_PHASE_MS);
          await lab.powerOff(primary);
          offMs = nowMs();
          next = await waitFor(
            "a replica to be promoted",
            async () => {
              const found = view.primaryIn(await view.stateOn(survivor));
              return found !== undefined && found !== primary ? found : undefined;
            },
            { timeoutMs: 30_000 },
          );
          for (const [name, path] of Object.entries(writerLogs))
            await waitFor(
              `${name} to be served again`,
              async () =>
                (await readWrites(path)).some((w) => w.ok && w.sentMs > offMs) ? true : undefined,
              { timeoutMs: 30_000, intervalMs: 50 },
            );
        } finally {
          for (const stop of stops) await stop();
        }
        const outageMs: Record<string, number> = {};
        for (const [name, path] of Object.entries(writerLogs))
          outageMs[name] = writerOutageMs(await readWrites(path), offMs) ?? Number.NaN;
        const victimWasLeader = leaderId === primary + 1;
        trials.push({ outageMs, victimWasLeader });
        log(
          `  Redis clients, power-off ${trial + 1}/${count}: ${Object.entries(outageMs)
            .map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`)
            .join(
              ", ",
            )}, ${cluster.name(primary)} → ${cluster.name(next)} (victim ${victimWasLeader ? "was" : "not"} leader)`,
        );
        await lab.powerOn(primary);
        await cluster.start(primary);
        await view.followers(
          next,
          HOSTS.filter((host) => host !== next),
        );
        primary = next;
      }
    } finally {
      await haproxy?.stop();
    }
  });
  return trials;
}
