/**
 * npm run bench:failover [-- --trials N] [--slow-hook] [--only power-off,graceful,monitor,two-node,sentinel,haproxy]
 *
 * Client-observed outage of a service group [VIP, echo service] on real test hosts (network
 * namespaces, 3 agents on 2 links, default profile, the compiled agent): a client on link 0
 * connects to the VIP every 5 ms and the outage is the longest time without an answer around
 * each fault (test/support/takeover-lab.ts). Faults, N trials each:
 *   power-off    of the active host (links down, then SIGKILL of everything on it);
 *   graceful     SIGTERM to the active host's agent (it hands the group over, then exits);
 *   monitor      the VIP deleted by hand on the active host (restart in place), its monitor every
 *                10 s (the default) for these trials: the kernel's address event finds it.
 * For power-off it also tells whether the victim was the Raft leader (then an election comes
 * first). Then two-node mode: 2 agents, no witness, the lab fence device (it powers a test host
 * off for real), h1 with a fence delay of TWO_NODE_DELAY_MS; power-off trials of either host (the
 * survivor fences the victim before it takes over). Every trial also checks that neither the VIP
 * nor the service was on two hosts at once.
 * Then clients of a promotable Redis (bench/redis-clients-failover.ts): power-off trials of its
 * primary's host, and how long ioredis and redis-py, finding the primary through the agents'
 * Sentinel protocol (sentinel), and a writer through HAProxy, which checks every node's health
 * endpoint over HTTPS (haproxy), go unserved.
 * --slow-hook: the 3-node runs have a cluster-wide and a node hook on every event whose every
 * delivery takes 30 s (docs/resources.md, hooks): a slow hook must not delay a failover.
 * Prints tables beside the targets and the reference systems' figures (../shared/TARGETS.md).
 */
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { HistoryEntry } from "../src/state/types.js";
import { withLab } from "../test/lab/index.js";
import { fencingConfig } from "../test/support/lab-fencing.js";
import {
  anyState,
  clientOutage,
  ECHO_RESOURCE,
  IP_RESOURCE,
  nowMs,
  type Overlap,
  TakeoverLab,
} from "../test/support/takeover-lab.js";
import { waitFor } from "../test/support/wait.js";
import { HAPROXY_WRITER, redisClientTrials } from "./redis-clients-failover.js";
import { printTable, summarize } from "./table.js";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "10" },
    "slow-hook": { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const SECTIONS = ["power-off", "graceful", "monitor", "two-node", "sentinel", "haproxy"] as const;
type Section = (typeof SECTIONS)[number];
const chosen = values.only?.split(",").map((name) => name.trim());
const unknown = chosen?.filter((name) => !(SECTIONS as readonly string[]).includes(name)) ?? [];
if (chosen?.length === 0 || unknown.length > 0) {
  process.stderr.write(`--only takes a list of ${SECTIONS.join(", ")}; got "${values.only}"\n`);
  process.exit(2);
}
/** Whether this run measures `section` (all of them without --only). */
const runs = (section: Section) => chosen === undefined || chosen.includes(section);
const SLOW_HOOK = values["slow-hook"] === true;
const TRIALS = Number(values.trials);
if (!Number.isInteger(TRIALS) || TRIALS <= 0) {
  process.stderr.write(`--trials takes a positive integer, got "${values.trials}"\n`);
  process.exit(2);
}
const MONITOR_INTERVAL_MS = 200;
/** The monitor interval of the VIP-deleted trials: the default, left to the address events. */
const VIP_DELETED_MONITOR_INTERVAL_MS = 10_000;
/** After the client is answered again, how long to keep watching for a second gap. */
const SETTLE_MS = 500;
/** Faults land at a random phase of the 100 ms keepalive and the 200 ms monitor. */
const MAX_PHASE_MS = 300;
/**
 * Two-node mode: h1's fence delay. It must outlast the other side's fence (the lab's takes tens
 * of ms; IPMI takes seconds, so production delays are longer): every fence of h1 waits it.
 */
const TWO_NODE_DELAY_MS = 1000;

type Fault = "power-off" | "graceful" | "monitor";

interface Trial {
  fault: Fault;
  outageMs: number;
  from: string;
  to: string;
  /** power-off: the victim was the Raft leader. */
  victimWasLeader: boolean;
  vipOverlaps: number;
  echoOverlaps: number;
  /** monitor: the VIP's fail count once the failure was recorded (one failure: 1). */
  failCount?: number;
  /** ms from the fault to each step, from the replicated state's history (see phasesOf). */
  phases: Phases;
}

/** Steps of a takeover, as the history records them; undefined when not in the history. */
interface Phases {
  /** monitor: the VIP's failure was counted. */
  failCounted?: number;
  /** The old host reported the service (echo) stopped (graceful, monitor: not applicable). */
  oldEchoStopped?: number;
  /** The leader instructed the VIP's start on the new host. */
  vipInstructed?: number;
  /** The new host reported the VIP started (the vip agent's start has returned). */
  vipStarted?: number;
  /** The new host reported the service started. */
  echoStarted?: number;
}

const PHASES: Array<[keyof Phases, string]> = [
  ["failCounted", "failure counted"],
  ["oldEchoStopped", "old echo stopped"],
  ["vipInstructed", "VIP start instructed"],
  ["vipStarted", "VIP started"],
  ["echoStarted", "echo started"],
];

/** When each step was proposed (the history's atMs: the proposer's clock, i.e. the host clock). */
function phasesOf(history: readonly HistoryEntry[], faultMs: number, from: string, to: string) {
  const at = (pattern: RegExp) => {
    const entry = history.find((h) => h.atMs >= faultMs && pattern.test(h.summary));
    return entry === undefined ? undefined : entry.atMs - faultMs;
  };
  const phases: Phases = {};
  const set = (key: keyof Phases, value: number | undefined) => {
    if (value !== undefined) phases[key] = value;
  };
  set("failCounted", at(new RegExp(`^fail count ${IP_RESOURCE} on ${from} now`)));
  if (from !== to) set("oldEchoStopped", at(new RegExp(`^${ECHO_RESOURCE} on ${from} stopped$`)));
  set("vipInstructed", at(new RegExp(`^placement: .*start ${IP_RESOURCE}@${to}\\b`)));
  set("vipStarted", at(new RegExp(`^${IP_RESOURCE} on ${to} started$`)));
  set("echoStarted", at(new RegExp(`^${ECHO_RESOURCE} on ${to} started$`)));
  return phases;
}

/**
 * Targets (../shared/TARGETS.md, "Vigil's targets"): power-off ≤ 1000 ms median with the default
 * profile, graceful stop ≤ 100 ms, VIP deleted by hand recovered within 300 ms.
 */
const TARGET_MS: Record<Fault, number> = { "power-off": 1000, graceful: 100, monitor: 300 };

/**
 * Reference figures, copied from ../shared/TARGETS.md (measured 2026-11-22 on a 2-core machine
 * like this one, namespaces + veth + bridge, a UDP client every 5 ms; median / min / max over 5
 * trials unless a single figure is given).
 */
const REFERENCE: Record<Fault, Array<[system: string, settings: string, outage: string]>> = {
  "power-off": [
    ["Heartbeat 3.0.6", "keepalive 2 s, deadtime 30 s (defaults)", "29998 / 29399 / 30435"],
    ["Heartbeat 3.0.6", "keepalive 200 ms, deadtime 1 s", "1540 / 1391 / 1687"],
    ["Heartbeat 3.0.6", "keepalive 100 ms, deadtime 300 ms", "627 / 599 / 767"],
    ["keepalived 2.2.7", "advert_int 1 s (default)", "2920 / 2770 / 3054"],
    ["keepalived 2.2.7", "advert_int 0.1 s", "280 / 271 / 345"],
    ["Corosync 3.1.7 + Pacemaker 2.1.5", "token 3650 ms (default)", "8766 / 8516 / 9195"],
    ["Corosync 3.1.7 + Pacemaker 2.1.5", "token 1000 ms", "3311 / 2375 / 3381"],
    ["Corosync 3.1.7 + Pacemaker 2.1.5", "token 500 ms", "2261 / 1240 / 2322"],
  ],
  graceful: [
    ["Heartbeat 3.0.6", "fast profile", "529"],
    ["keepalived 2.2.7", "fast / default", "68 / 615"],
    ["Corosync 3.1.7 + Pacemaker 2.1.5", "default", "141"],
  ],
  monitor: [
    ["Heartbeat 3.0.6", "v1 mode (no resource monitoring)", "not detected"],
    ["Corosync 3.1.7 + Pacemaker 2.1.5", "IPaddr2 monitor every 1 s", "829 / 661 / 868"],
  ],
};

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * Power-off trials alternate between a victim that is the Raft leader and one that is not
 * (the group is moved there first, as an operator would), so both cases get trials.
 */
async function placeForPowerOff(t: TakeoverLab, onLeader: boolean): Promise<void> {
  const active = await t.waitForGroup();
  const leader = await t.waitForLeader();
  if ((active === leader) === onLeader) return;
  const target = onLeader ? leader : t.hosts.find((h) => h !== leader)!;
  await t.moveGroup(target);
  await t.prober!.waitForAnswer(
    `an answer from ${t.name(target)}`,
    nowMs(),
    (a) => a === t.name(target),
  );
}

async function runTrial(
  t: TakeoverLab,
  fault: Fault,
  seen: { vip: number; echo: number },
  trialIndex: number,
) {
  if (fault === "power-off") await placeForPowerOff(t, trialIndex % 2 === 0);
  const active = await t.waitForGroup();
  const from = t.name(active);
  const leader = await t.leader(active);
  const versionBefore = (await anyState(t.cluster)).version;
  await sleep(Math.random() * MAX_PHASE_MS);
  let faultMs: number;
  if (fault === "power-off") faultMs = await t.powerOff(active);
  else if (fault === "graceful") faultMs = await t.stopAgent(active);
  else faultMs = await t.deleteVip(active);

  const stays = fault === "monitor";
  let failCount: number | undefined;
  if (stays) {
    failCount = await waitFor("the VIP's failure to be counted", async () => {
      const count = (await anyState(t.cluster)).failCounts[IP_RESOURCE]?.[from]?.count;
      return count !== undefined && count > 0 ? count : undefined;
    });
  }
  const next = await t.waitForGroup(
    stays ? `the group to run again on ${from}` : "the group to run on another host",
    (node) => (stays ? node === from : node !== from),
  );
  const to = t.name(next);
  const prober = t.prober!;
  // An answer sent once the group is settled again: the outage is over by then.
  await prober.waitForAnswer(`an answer from ${to}`, nowMs(), (answer) => answer === to);
  await sleep(SETTLE_MS);
  const state = await anyState(t.cluster);
  if (stays) failCount = state.failCounts[IP_RESOURCE]?.[from]?.count;
  const history = state.history.filter((h) => h.version > versionBefore);
  const outage = clientOutage(await prober.probes(), faultMs, nowMs());

  // Safety: only what happened since the last trial counts for this one.
  const safety = await t.safety();
  const trial: Trial = {
    fault,
    outageMs: outage.outageMs,
    from,
    to,
    victimWasLeader: leader === active,
    ...(failCount === undefined ? {} : { failCount }),
    // A power-off takes effect when lab.powerOff has set the links down, some ms after the call:
    // the client's last answer before the outage marks that instant better.
    phases: phasesOf(history, fault === "power-off" ? outage.fromMs : faultMs, from, to),
    vipOverlaps: safety.vip.length - seen.vip,
    echoOverlaps: safety.echo.length - seen.echo,
  };
  seen.vip = safety.vip.length;
  seen.echo = safety.echo.length;
  if (trial.vipOverlaps > 0 || trial.echoOverlaps > 0)
    log(`  !! two hosts at once: ${describeOverlaps([...safety.vip, ...safety.echo])}`);

  // Put things back for the next trial.
  if (fault === "power-off") await t.powerOn(active);
  else if (fault === "graceful") await t.startAgent(active);
  else await t.cleanup(IP_RESOURCE);
  return trial;
}

function describeOverlaps(found: readonly Overlap[]): string {
  return found
    .map((o) => `${o.nodes.join("+")} for ${(o.toMs - o.fromMs).toFixed(1)} ms`)
    .join(", ");
}

/** A cluster-wide and a node hook on every event, each delivery taking 30 s. */
async function slowHooks(dir: string): Promise<Record<string, unknown>> {
  const script = join(dir, "slow-hook");
  await writeFile(script, "#!/bin/sh\nexec sleep 30\n");
  await chmod(script, 0o755);
  return {
    "slow-cluster": { run: script, timeout_ms: 60_000 },
    "slow-node": { run: script, where: "node", timeout_ms: 60_000 },
  };
}

const trials: Trial[] = [];
const threeNodeFaults = (["power-off", "graceful", "monitor"] as const).filter(runs);
if (threeNodeFaults.length > 0)
  await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
    const t = await TakeoverLab.create(lab, {
      built: true,
      profile: "default",
      monitorIntervalMs: MONITOR_INTERVAL_MS,
    });
    await t.apply(SLOW_HOOK ? { hooks: await slowHooks(lab.dir) } : {});
    await t.waitForGroup();
    await t.startProber(5);
    const seen = { vip: 0, echo: 0 };
    for (const fault of threeNodeFaults) {
      log(`${fault}: ${TRIALS} trials`);
      if (fault === "monitor") {
        await t.apply({
          ...(SLOW_HOOK ? { hooks: await slowHooks(lab.dir) } : {}),
          monitorIntervalMs: VIP_DELETED_MONITOR_INTERVAL_MS,
        });
      }
      for (let i = 0; i < TRIALS; i++) {
        const trial = await runTrial(t, fault, seen, i);
        trials.push(trial);
        log(
          `  ${fault} ${i + 1}/${TRIALS}: ${trial.outageMs.toFixed(0)} ms, ${trial.from} → ${trial.to}` +
            (fault === "monitor"
              ? ""
              : ` (victim ${trial.victimWasLeader ? "was" : "not"} leader)`),
        );
      }
    }
    await t.close();
  });

const twoNodeTrials: Trial[] = [];
if (runs("two-node"))
  await withLab({ hosts: 2, links: 2, clients: 1 }, async (lab) => {
    const t = await TakeoverLab.create(lab, {
      built: true,
      profile: "default",
      monitorIntervalMs: MONITOR_INTERVAL_MS,
      extraConfig: fencingConfig(
        lab,
        join(lab.dir, "fence-lab.log"),
        {},
        { h1: TWO_NODE_DELAY_MS },
      ),
    });
    await t.apply();
    await t.waitForGroup();
    await t.startProber(5);
    const seen = { vip: 0, echo: 0 };
    log(`two-node power-off: ${TRIALS} trials`);
    for (let i = 0; i < TRIALS; i++) {
      const trial = await runTrial(t, "power-off", seen, i);
      twoNodeTrials.push(trial);
      log(
        `  two-node power-off ${i + 1}/${TRIALS}: ${trial.outageMs.toFixed(0)} ms, ${trial.from} → ${trial.to}`,
      );
    }
    await t.close();
  });

const redisClients = { sentinel: runs("sentinel"), haproxy: runs("haproxy") };
if (redisClients.sentinel || redisClients.haproxy)
  log(`Redis clients, power-off of the Redis primary's host: ${TRIALS} trials`);
const redisRuns =
  redisClients.sentinel || redisClients.haproxy
    ? await redisClientTrials(TRIALS, redisClients, log)
    : [];
const redisOutages = (client: string) =>
  redisRuns.map((t) => t.outageMs[client] ?? Number.NaN).filter((ms) => !Number.isNaN(ms));

const row = (label: string, samples: number[], target?: number): string[] => {
  if (samples.length === 0) return [label, "0", "-", "-", "-", target === undefined ? "-" : ""];
  const s = summarize(samples);
  return [
    label,
    String(samples.length),
    s.median.toFixed(0),
    s.min.toFixed(0),
    s.max.toFixed(0),
    target === undefined ? "-" : `≤ ${target} ${s.median <= target ? "✓" : "✗"}`,
  ];
};
const of = (fault: Fault) => trials.filter((t) => t.fault === fault);
const outages = (list: Trial[]) => list.map((t) => t.outageMs);

printTable(
  `Client-observed outage, ms (3 nodes, 2 links, default profile, monitor every 200 ms, 10 s for the VIP deleted by hand; compiled agent${SLOW_HOOK ? "; a cluster-wide and a node hook on every event, 30 s per delivery" : ""})`,
  ["fault", "trials", "median", "min", "max", "target (median)"],
  (["power-off", "graceful", "monitor"] as const).map((fault) =>
    row(
      fault === "monitor" ? "VIP deleted by hand (monitor every 10 s)" : fault,
      outages(of(fault)),
      TARGET_MS[fault],
    ),
  ),
);
const powerOffs = of("power-off");
printTable(
  "Power-off: was the victim the Raft leader? (a lost leader needs an election first)",
  ["victim", "trials", "median", "min", "max", "target (median)"],
  [
    row("Raft leader", outages(powerOffs.filter((t) => t.victimWasLeader)), TARGET_MS["power-off"]),
    row("follower", outages(powerOffs.filter((t) => !t.victimWasLeader)), TARGET_MS["power-off"]),
  ],
);
printTable(
  `Two-node mode, power-off (2 nodes, no witness, lab fence device; h1 fence delay ${TWO_NODE_DELAY_MS} ms): the survivor fences, then takes over`,
  ["victim", "trials", "median", "min", "max", "target (median)"],
  [
    row("h2 (no fence delay)", outages(twoNodeTrials.filter((t) => t.from === "h2")), 1000),
    row(
      `h1 (fenced after ${TWO_NODE_DELAY_MS} ms)`,
      outages(twoNodeTrials.filter((t) => t.from === "h1")),
    ),
  ],
);
if (redisClients.sentinel)
  printTable(
    "Sentinel-protocol clients: a promotable Redis, power-off of its primary's host; ms a client goes unserved, from its last write answered by the old primary to its first answered by the new (3 nodes, default profile; ioredis with failoverDetector and connectTimeout 500 ms, redis-py with socket_timeout 0.5 s)",
    ["client", "trials", "median", "min", "max", "target (median)"],
    ["ioredis", "redis-py"].map((client) => row(client, redisOutages(client))),
  );
if (redisClients.haproxy)
  printTable(
    "HAProxy: the same Redis and power-offs; ms a Redis writer through HAProxy on a client host goes unserved (HAProxy 2.6 checks every node's GET /v1/health/redis-ha/primary over HTTPS every 200 ms, fall 2, rise 1, on-marked-down shutdown-sessions; the writer gives up on a write after 500 ms)",
    ["client", "trials", "median", "min", "max", "target (median)"],
    [row("writer through HAProxy", redisOutages(HAPROXY_WRITER))],
  );
const overlapsOf = (list: Trial[]) => [
  String(list.reduce((n, t) => n + t.vipOverlaps, 0)),
  String(list.reduce((n, t) => n + t.echoOverlaps, 0)),
];
printTable(
  "Safety: instants with the VIP or the service on two hosts at once (target 0)",
  ["fault", "VIP on two hosts", "service on two hosts"],
  [
    ...(["power-off", "graceful", "monitor"] as const).map((fault) => [
      fault,
      ...overlapsOf(of(fault)),
    ]),
    ["two-node power-off", ...overlapsOf(twoNodeTrials)],
  ],
);
printTable(
  "Where the time goes: median ms from the fault (power-off: the client's last answer) to each step, as recorded in the replicated state's history (the proposer's clock)",
  ["fault", ...PHASES.map(([, label]) => label), "client outage"],
  threeNodeFaults.map((fault) => [
    fault === "monitor" ? "VIP deleted by hand" : fault,
    ...PHASES.map(([key]) => {
      const values = of(fault)
        .map((t) => t.phases[key])
        .filter((v): v is number => v !== undefined);
      return values.length === 0 ? "-" : summarize(values).median.toFixed(0);
    }),
    summarize(outages(of(fault))).median.toFixed(0),
  ]),
);
const monitorCounts = of("monitor").map((t) => t.failCount ?? 0);
printTable(
  "VIP deleted by hand: fail count recorded per failure (correct: 1)",
  ["trials", "counted once", "counted more than once", "counts"],
  [
    [
      String(monitorCounts.length),
      String(monitorCounts.filter((c) => c === 1).length),
      String(monitorCounts.filter((c) => c > 1).length),
      monitorCounts.join(" "),
    ],
  ],
);
printTable(
  "Reference: client outage ms, median / min / max (../shared/TARGETS.md)",
  ["fault", "system", "settings", "outage ms"],
  (["power-off", "graceful", "monitor"] as const).flatMap((fault) =>
    REFERENCE[fault].map(([system, settings, outage]) => [
      fault === "monitor" ? "VIP deleted by hand" : fault,
      system,
      settings,
      outage,
    ]),
  ),
);
