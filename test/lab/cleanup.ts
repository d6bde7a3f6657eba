/**
 * Removing a lab's kernel objects, by the lab's id only: every namespace and switch port a lab
 * creates is named "<id>-...", so the sweep finds exactly this run's leftovers and never touches
 * another run's. The exit-time safety net runs the same sweep synchronously when the test process
 * exits or is interrupted before a lab was torn down (no event loop turn is left then).
 */
import { rmSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runSync } from "./command.js";
import { belongsToLab } from "./names.js";
import {
  destroyNamespaces,
  listNetns,
  NETNS_ETC,
  parseLinkNames,
  parseNetnsList,
} from "./netns.js";
import { parsePids, signalPid } from "./processes.js";

export interface CleanupTarget {
  readonly id: string;
  readonly dir: string;
  /** Marks the lab dead and SIGKILLs its tracked process groups, without waiting. */
  abandonSync(): void;
}

const HANDLED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Bounds the busy wait in the exit handler for killed processes to leave their namespace. */
const SYNC_EVICT_TIMEOUT_MS = 2_000;
const SYNC_POLL_MS = 10;
const POLL_INTERVAL_MS = 20;
const GONE_TIMEOUT_MS = 10_000;

const live = new Set<CleanupTarget>();

/** Where a lab keeps logs and whatever its tests write; named by id, so it is unique too. */
export function labDir(id: string): string {
  return join(tmpdir(), `vigil-lab-${id}`);
}

export function keepLabDir(): boolean {
  return process.env.VIGIL_LAB_KEEP === "1";
}

export function register(target: CleanupTarget): void {
  if (live.size === 0) install();
  live.add(target);
}

export function unregister(target: CleanupTarget): void {
  live.delete(target);
  if (live.size === 0) uninstall();
}

/**
 * Deletes every namespace named "<id>-..." (evicting its processes, deleting its links) and any
 * root-namespace link so named (a lab creates none there; one would be a leak), then waits until
 * none is listed. Returns the names it removed.
 */
export async function sweepLeftovers(id: string): Promise<string[]> {
  const namespaces = (await listNetns()).filter((ns) => belongsToLab(id, ns));
  await destroyNamespaces(namespaces, `${id}-sw`);
  const etcLeft = (await readdir(NETNS_ETC).catch(() => [])).filter((ns) => belongsToLab(id, ns));
  for (const ns of etcLeft) await rm(join(NETNS_ETC, ns), { recursive: true, force: true });
  const rootLinks = parseLinkNames(await run("ip", ["-o", "link", "show"])).filter((name) =>
    belongsToLab(id, name),
  );
  for (const name of rootLinks) await run("ip", ["link", "del", name]).catch(() => undefined);
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  for (;;) {
    const left = await labObjects(id);
    if (left.length === 0) return [...namespaces, ...rootLinks];
    if (Date.now() > deadline)
      throw new Error(
        `lab ${id}: ${left.join(", ")} still present ${GONE_TIMEOUT_MS} ms after deletion`,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Namespaces, root-namespace links and /etc/netns entries named for lab `id` that exist now. */
export async function labObjects(id: string): Promise<string[]> {
  const namespaces = (await listNetns()).filter((ns) => belongsToLab(id, ns));
  const links = parseLinkNames(await run("ip", ["-o", "link", "show"])).filter((name) =>
    belongsToLab(id, name),
  );
  const etc = (await readdir(NETNS_ETC).catch(() => [])).filter((ns) => belongsToLab(id, ns));
  return [
    ...namespaces.map((ns) => `netns ${ns}`),
    ...links.map((name) => `link ${name}`),
    ...etc.map((ns) => `${NETNS_ETC}/${ns}`),
  ];
}

function install(): void {
  process.on("exit", cleanupAllSync);
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off("exit", cleanupAllSync);
  for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAllSync();
  // Our listener replaced the default action (terminate); restore it unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function cleanupAllSync(): void {
  for (const target of [...live]) {
    unregister(target);
    try {
      cleanupSync(target);
    } catch (error) {
      process.stderr.write(`vigil lab ${target.id}: exit-time cleanup failed: ${String(error)}\n`);
    }
  }
}

/** Kills tracked groups, evicts what is left in the lab's namespaces, deletes them and the dir. */
function cleanupSync(target: CleanupTarget): void {
  target.abandonSync();
  const namespaces = parseNetnsList(runSync("ip", ["netns", "list"])).filter((ns) =>
    belongsToLab(target.id, ns),
  );
  const deadline = Date.now() + SYNC_EVICT_TIMEOUT_MS;
  for (const ns of namespaces) {
    for (;;) {
      const pids = parsePids(runSync("ip", ["netns", "pids", ns]));
      if (pids.length === 0 || Date.now() > deadline) break;
      for (const pid of pids) signalPid(pid, "SIGKILL");
      sleepSync(SYNC_POLL_MS);
    }
  }
  // Deleting the namespaces destroys their veths and bridges; the kernel finishes that after we exit.
  const failures: string[] = [];
  for (const ns of namespaces) {
    try {
      runSync("ip", ["netns", "delete", ns]);
    } catch (error) {
      failures.push(String(error));
    }
    rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
  }
  if (!keepLabDir()) rmSync(target.dir, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(failures.join("\n"));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
