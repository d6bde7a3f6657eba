/**
 * Builds and removes a lab's topology: one namespace per host plus a "switch" namespace holding
 * one bridge per link, joined by veth pairs created from inside the switch namespace, so nothing
 * ever appears in the root namespace. Removal deletes the veths explicitly (synchronous in the
 * kernel) instead of relying on namespace teardown, which finishes in the background.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CommandError, run } from "./command.js";
import {
  bridgeName,
  device,
  type HostPlan,
  hostAddress,
  hostMac,
  type LabPlan,
  neighbourBatch,
  switchPortName,
} from "./names.js";
import { netnsPids, signalPid } from "./processes.js";

/** Two cores: more parallel `ip` calls only queue on the rtnl lock. */
const SETUP_CONCURRENCY = 4;
const POLL_INTERVAL_MS = 20;
/** Namespace and link removal complete in milliseconds; seconds mean something holds them. */
const GONE_TIMEOUT_MS = 10_000;

/** Creates the switch namespace first: `ip netns add` failing with "File exists" is the id clash check. */
export async function claimSwitch(plan: LabPlan): Promise<void> {
  await run("ip", ["netns", "add", plan.switchNs]);
}

export async function buildTopology(plan: LabPlan): Promise<void> {
  const sw = plan.switchNs;
  for (let link = 0; link < plan.linkCount; link++) {
    // No IGMP snooping: the bridge floods multicast like a plain hub, so mcast heartbeats need no querier.
    await run("ip", [
      "-n",
      sw,
      "link",
      "add",
      bridgeName(link),
      "type",
      "bridge",
      "mcast_snooping",
      "0",
    ]);
    await run("ip", ["-n", sw, "link", "set", bridgeName(link), "up"]);
  }
  await forEachLimited(plan.hosts, SETUP_CONCURRENCY, (host) => buildHost(plan, host));
}

/** Where `ip netns exec NS` finds files it mounts over /etc's for the commands it runs. */
export const NETNS_ETC = "/etc/netns";

/**
 * A host's own resolv.conf: a name server on its loopback, where nothing listens, so every name
 * lookup in the lab fails at once. With the machine's, a lookup waited for a server out of the
 * lab's reach for as long as that machine's resolver was told to wait, and Redis, which resolves
 * a primary named `no-such-master` (ocf:heartbeat:redis) in its main loop, stopped answering.
 */
async function isolateNameLookups(host: HostPlan): Promise<void> {
  const dir = join(NETNS_ETC, host.ns);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
}

async function buildHost(plan: LabPlan, host: HostPlan): Promise<void> {
  const sw = plan.switchNs;
  await run("ip", ["netns", "add", host.ns]);
  await isolateNameLookups(host);
  await run("ip", ["-n", host.ns, "link", "set", "lo", "up"]);
  for (const link of host.links) {
    const port = switchPortName(plan.id, host, link);
    const dev = device(link);
    await run("ip", [
      "-n",
      sw,
      "link",
      "add",
      port,
      "type",
      "veth",
      "peer",
      "name",
      dev,
      "address",
      hostMac(host, link),
      "netns",
      host.ns,
    ]);
    await run("ip", ["-n", host.ns, "addr", "add", `${hostAddress(host, link)}/24`, "dev", dev]);
    await run("ip", ["-n", host.ns, "link", "set", dev, "up"]);
    await run("ip", ["-n", sw, "link", "set", port, "master", bridgeName(link), "up"]);
  }
  await installNeighbours(plan, host);
}

/**
 * Gives the host permanent neighbour entries for its peers. Needed again after the host's links
 * were set down, because an interface going down flushes even permanent entries.
 */
export async function installNeighbours(plan: LabPlan, host: HostPlan): Promise<void> {
  const batch = neighbourBatch(plan, host);
  if (batch !== "") await run("ip", ["-n", host.ns, "-batch", "-"], { input: batch });
}

/** Sets every link of the host down (power off) or up (power on). */
export async function setHostLinks(host: HostPlan, state: "up" | "down"): Promise<void> {
  for (const link of host.links) {
    await run("ip", ["-n", host.ns, "link", "set", device(link), state]);
  }
}

/** Names of all mounted network namespaces. */
export async function listNetns(): Promise<string[]> {
  return parseNetnsList(await run("ip", ["netns", "list"]));
}

export function parseNetnsList(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name.length > 0);
}

export function labNamespaces(plan: LabPlan): string[] {
  return [...plan.hosts.map((host) => host.ns), plan.switchNs];
}

/**
 * SIGKILLs whatever still runs in the namespace until nothing does: a process there keeps the
 * namespace (and its veth) alive after `ip netns delete`.
 */
export async function evictProcesses(ns: string): Promise<void> {
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  for (;;) {
    const pids = await netnsPids(ns);
    if (pids.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `processes ${pids.join(", ")} in lab namespace ${ns} survive SIGKILL for ${GONE_TIMEOUT_MS} ms`,
      );
    }
    for (const pid of pids) signalPid(pid, "SIGKILL");
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * Removes every process, veth, bridge and namespace among `all` that exists, and waits until
 * they are gone. `switchNs` (one of `all`) holds the switch-side veth ends and the bridges.
 * Something already gone (a concurrent sweep, a peer deleted with its namespace) is no error.
 */
export async function destroyNamespaces(all: readonly string[], switchNs: string): Promise<void> {
  const present = new Set(await listNetns());
  const namespaces = all.filter((ns) => present.has(ns));
  await forEachLimited(namespaces, SETUP_CONCURRENCY, (ns) => unlessGone(evictProcesses(ns)));
  if (present.has(switchNs)) {
    for (const name of await switchLinks(switchNs)) {
      await unlessGone(run("ip", ["-n", switchNs, "link", "del", name]));
    }
    await waitUntil(
      async () => (await switchLinks(switchNs)).length === 0,
      `links in lab switch namespace ${switchNs} still exist after deletion`,
    );
  }
  for (const ns of namespaces) await unlessGone(run("ip", ["netns", "delete", ns]));
  // Gone with its namespace or not: its files outlive a lab that stopped before removing them.
  for (const ns of all) await rm(join(NETNS_ETC, ns), { recursive: true, force: true });
  await waitUntil(
    async () => {
      const left = new Set(await listNetns());
      return all.every((ns) => !left.has(ns));
    },
    `lab namespaces ${all.join(", ")} still listed after deletion`,
  );
}

async function unlessGone(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    const gone =
      error instanceof CommandError &&
      /No such file or directory|Cannot find device/.test(error.stderr);
    if (!gone) throw error;
  }
}

/** Veth ports first (deleting one end removes both), then bridges; lo cannot be deleted. */
async function switchLinks(switchNs: string): Promise<string[]> {
  let output = "";
  await unlessGone(
    run("ip", ["-n", switchNs, "-o", "link", "show"]).then((text) => {
      output = text;
    }),
  );
  const names = parseLinkNames(output).filter((name) => name !== "lo");
  return names.sort((a, b) => Number(a.startsWith("br")) - Number(b.startsWith("br")));
}

/** Interface names from `ip -o link show`, without the "@peer" suffix. */
export function parseLinkNames(output: string): string[] {
  return output
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

async function waitUntil(done: () => Promise<boolean>, failure: string): Promise<void> {
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${failure} (waited ${GONE_TIMEOUT_MS} ms)`);
    await sleep(POLL_INTERVAL_MS);
  }
}

export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map(String).join("\n"));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
