/**
 * npm run bench:consensus [-- --trials N --commits N]
 *
 * Coordination on real test hosts (network namespaces, the compiled agent), default profile:
 *   1. leader failover after power-off of the leader (links down, then SIGKILL);
 *   2. commit latency of a configuration change, at 3 and 5 nodes;
 *   3. simulator throughput (steps per second) at 3 and 5 nodes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { controlGet, controlPost } from "../src/control/client.js";
import type { AgentStatus } from "../src/control/status-reply.js";
import type { SubmitResult } from "../src/coordination/cluster-message.js";
import { exploreSeeds } from "../src/sim/explore.js";
import { createRaftNode } from "../src/sim/raft-factory.js";
import { type Lab, withLab } from "../test/lab/index.js";
import { LabCluster } from "../test/support/lab-cluster.js";
import { printTable, summarize } from "./table.js";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "10" },
    commits: { type: "string", default: "50" },
  },
});
const TRIALS = Number(values.trials);
const COMMITS = Number(values.commits);
if (!Number.isInteger(TRIALS) || TRIALS < 1 || !Number.isInteger(COMMITS) || COMMITS < 1) {
  process.stderr.write("--trials and --commits take positive whole numbers\n");
  process.exit(2);
}
const POLL_MS = 5;
const nowMs = () => performance.timeOrigin + performance.now();

async function leaderOf(cluster: LabCluster, hosts: readonly number[]): Promise<number | null> {
  const views = await Promise.all(
    hosts.map((host) => cluster.status(host).then((s: AgentStatus) => s.coordination)),
  );
  const leaders = views.filter((view) => view?.role === "leader" && view.leaseUntilMs !== null);
  const agreed = views.every((view) => view?.leaderId === leaders[0]?.id);
  return leaders.length === 1 && agreed ? leaders[0]!.id - 1 : null;
}

async function waitForLeader(cluster: LabCluster, hosts: readonly number[]): Promise<number> {
  const deadline = nowMs() + 30_000;
  while (nowMs() < deadline) {
    const leader = await leaderOf(cluster, hosts).catch(() => null);
    if (leader !== null) return leader;
    await sleep(POLL_MS);
  }
  throw new Error("no leader within 30 s");
}

async function startCluster(lab: Lab): Promise<LabCluster> {
  const cluster = await LabCluster.create(lab, { built: true });
  await cluster.startAll();
  await cluster.waitAllUp();
  return cluster;
}

/** How many times each of `hosts` has lost its lease since its agent started. */
async function leaseLosses(cluster: LabCluster, hosts: readonly number[]): Promise<number> {
  const views = await Promise.all(hosts.map((host) => cluster.status(host)));
  return views.reduce((sum, view) => sum + (view.coordination?.leaseLosses ?? 0), 0);
}

/**
 * ms from the leader's links going down until a survivor leads with a lease, agreed by all; and
 * how often a survivor lost its lease meanwhile (it would have stopped every resource it ran).
 */
async function failoverTimes(): Promise<{ samples: number[]; followerLeaseLosses: number }> {
  return withLab({ hosts: 3, links: 2 }, async (lab) => {
    const cluster = await startCluster(lab);
    const all = [0, 1, 2];
    const samples: number[] = [];
    let followerLeaseLosses = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const leader = await waitForLeader(cluster, all);
      const survivors = all.filter((host) => host !== leader);
      await sleep(200 + Math.random() * 100);
      const lossesBefore = await leaseLosses(cluster, survivors);
      const offAtMs = nowMs();
      await lab.powerOff(leader);
      await waitForLeader(cluster, survivors);
      samples.push(nowMs() - offAtMs);
      // A survivor's lease, if it ran out, did so before the new leader renewed it.
      followerLeaseLosses += (await leaseLosses(cluster, survivors)) - lossesBefore;
      await lab.powerOn(leader);
      await cluster.start(leader);
      await cluster.waitAllUp();
      process.stderr.write(`  failover trial ${trial + 1}/${TRIALS}\n`);
    }
    return { samples, followerLeaseLosses };
  });
}

/** Round trip of `POST /v1/config` on the leader: propose, replicate, fsync, commit, apply. */
async function commitLatencies(hosts: number): Promise<number[]> {
  return withLab({ hosts, links: 2 }, async (lab) => {
    const cluster = await startCluster(lab);
    const leader = await waitForLeader(
      cluster,
      lab.hosts.map((_, i) => i),
    );
    const socket = cluster.socketPath(leader);
    const samples: number[] = [];
    for (let i = 0; i < COMMITS; i++) {
      const { configurationVersion } = await controlGet<{ configurationVersion: number }>(
        socket,
        "/v1/config",
      );
      const startedMs = nowMs();
      const result = await controlPost<SubmitResult>(socket, "/v1/config", {
        text: `resources: {}\n# change ${i}\n`,
        document: { resources: {} },
        expectedVersion: configurationVersion,
        by: "bench",
      });
      samples.push(nowMs() - startedMs);
      if (!result.ok) throw new Error(`commit ${i} failed: ${result.error}`);
    }
    return samples;
  });
}

function simulatorSpeed(nodeCount: number, seedCount: number) {
  const startedMs = nowMs();
  const summary = exploreSeeds({ startSeed: 1, seedCount, nodeCount, createNode: createRaftNode });
  const seconds = (nowMs() - startedMs) / 1000;
  if (summary.failures.length > 0) throw new Error("the simulator found a violation");
  return { nodeCount, seeds: summary.seedsRun, steps: summary.steps, seconds };
}

process.stderr.write(`failover: ${TRIALS} power-offs of the leader\n`);
const failover = await failoverTimes();
process.stderr.write(`commit latency: ${COMMITS} changes at 3 and 5 nodes\n`);
const commits: Array<[number, number[]]> = [];
for (const hosts of [3, 5]) commits.push([hosts, await commitLatencies(hosts)]);
process.stderr.write("simulator\n");
const sim = [simulatorSpeed(3, 300), simulatorSpeed(5, 100)];

const f = summarize(failover.samples);
printTable(
  `Leader failover after power-off of the leader (ms; 3 nodes, 2 links, default profile, ${TRIALS} trials; polled every ${POLL_MS} ms)`,
  ["median", "min", "max", "target", "survivors' lease losses"],
  [
    [
      f.median.toFixed(0),
      f.min.toFixed(0),
      f.max.toFixed(0),
      `< 1000 ${f.median < 1000 ? "✓" : "✗"}`,
      `${failover.followerLeaseLosses} ${failover.followerLeaseLosses === 0 ? "✓" : "✗"}`,
    ],
  ],
);
printTable(
  "Reference: membership re-formed after power-off (../shared/TARGETS.md, outage includes resource start)",
  ["system", "settings", "median ms"],
  [
    ["Corosync 3.1.7 + Pacemaker", "default token (3650 ms)", "8766"],
    ["Corosync 3.1.7 + Pacemaker", "token 500 ms", "2261"],
    ["Redis Sentinel 7.0", "down-after 1 s", "2300"],
  ],
);
printTable(
  `Commit latency of a configuration change (ms, control socket round trip on the leader; ${COMMITS} changes)`,
  ["nodes", "median", "min", "max"],
  commits.map(([hosts, samples]) => {
    const s = summarize(samples);
    return [String(hosts), s.median.toFixed(1), s.min.toFixed(1), s.max.toFixed(1)];
  }),
);
printTable(
  "Deterministic simulator (real Raft core, random faults, checkers after every step)",
  ["nodes", "seeds", "steps", "seconds", "steps per second"],
  sim.map((r) => [
    String(r.nodeCount),
    String(r.seeds),
    String(r.steps),
    r.seconds.toFixed(1),
    (r.steps / r.seconds).toFixed(0),
  ]),
);
