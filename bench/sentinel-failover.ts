/**
 * bench:failover's Sentinel-protocol rows: a promotable Redis on 3 test hosts (default profile,
 * the compiled agent), every agent answering the Sentinel protocol; on a lab client, ioredis
 * (`sentinels:`, failover detector on, connectTimeout 500 ms) and redis-py's Sentinel
 * (socket_timeout 0.5 s) write without being told more than the sentinels' addresses. Each trial
 * powers the primary's host off and measures, per client, the time from its last write answered
 * before to its first write sent after and answered by the new primary; then the host comes
 * back, its agent starts and its Redis follows the new primary before the next trial.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { withLab } from "../test/lab/index.js";
import { HOSTS, readWrites } from "../test/support/redis-lab.js";
import {
  startSentinelRedis,
  startSentinelWriters,
  writerOutageMs,
} from "../test/support/sentinel-lab.js";
import { nowMs } from "../test/support/takeover-lab.js";
import { waitFor } from "../test/support/wait.js";

export interface SentinelTrial {
  /** Writer → ms it went unserved. */
  outageMs: Record<string, number>;
  /** The old primary's host had the Raft leader (an election came first). */
  victimWasLeader: boolean;
}

/** Power-offs land at a random phase of the 100 ms keepalive and the monitor. */
const MAX_PHASE_MS = 300;

export async function sentinelTrials(
  count: number,
  log: (text: string) => void,
): Promise<SentinelTrial[]> {
  const trials: SentinelTrial[] = [];
  await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
    const { cluster, view } = await startSentinelRedis(lab, { built: true });
    const client = lab.clients[0]!;
    let primary = await waitFor("one primary", async () => view.primaryIn(await view.stateOn(0)));
    for (let trial = 0; trial < count; trial++) {
      const survivor = HOSTS.find((host) => host !== primary)!;
      const leaderId = (await cluster.status(survivor)).coordination?.leaderId;
      const writers = await startSentinelWriters(lab, client, `-${trial}`);
      let offMs: number;
      let next: number;
      try {
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
        for (const log of Object.values(writers.logs))
          await waitFor(
            "the writers to be served again",
            async () =>
              (await readWrites(log)).some((w) => w.ok && w.sentMs > offMs) ? true : undefined,
            { timeoutMs: 30_000, intervalMs: 50 },
          );
      } finally {
        await writers.stop();
      }
      const outageMs: Record<string, number> = {};
      for (const [name, path] of Object.entries(writers.logs))
        outageMs[name] = writerOutageMs(await readWrites(path), offMs) ?? Number.NaN;
      const victimWasLeader = leaderId === primary + 1;
      trials.push({ outageMs, victimWasLeader });
      log(
        `  Sentinel clients, power-off ${trial + 1}/${count}: ${Object.entries(outageMs)
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
  });
  return trials;
}
