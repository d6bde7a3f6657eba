/**
 * The safety net behind withLab's finally: when the test process exits or is interrupted before a
 * lab was torn down, its processes and namespaces are removed synchronously (no event loop turn
 * is left in an 'exit' handler). Labs leaked by a process that died by SIGKILL are swept by the
 * next lab, found by their owner file.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSync } from "./command.js";
import { LAB_NETNS_PATTERN } from "./names.js";
import { destroyNamespaces, listNetns, parseNetnsList } from "./netns.js";
import { parsePids, signalPid } from "./processes.js";

export interface CleanupTarget {
  readonly id: string;
  readonly dir: string;
  namespaces(): readonly string[];
  /** Marks the lab dead and SIGKILLs its tracked process groups, without waiting. */
  abandonSync(): void;
}

const OWNER_FILE = "owner.json";
const HANDLED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Bounds the busy wait in the exit handler for killed processes to leave their namespace. */
const SYNC_EVICT_TIMEOUT_MS = 2_000;
const SYNC_POLL_MS = 10;

const live = new Set<CleanupTarget>();

/** Where a lab keeps configs, logs and state; deterministic so the stale sweep can find the owner. */
export function labDir(id: string): string {
  return join(tmpdir(), `vigil-lab-${id}`);
}

export function ownerRecord(): string {
  return `${JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() })}\n`;
}

export function ownerFile(dir: string): string {
  return join(dir, OWNER_FILE);
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

/** Kills tracked groups, evicts what is left in the namespaces, deletes them and the lab dir. */
export function cleanupSync(target: CleanupTarget): void {
  target.abandonSync();
  const present = new Set(parseNetnsList(runSync("ip", ["netns", "list"])));
  const namespaces = target.namespaces().filter((ns) => present.has(ns));
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
  }
  if (!keepLabDir()) rmSync(target.dir, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(failures.join("\n"));
}

/**
 * Removes labs whose owning process is dead (it was SIGKILLed before any handler could run). A
 * lab without a readable owner file, or whose owner still runs, is left alone: better a leak
 * than deleting a live lab of another test file.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const byId = new Map<string, string[]>();
  for (const ns of await listNetns()) {
    const id = LAB_NETNS_PATTERN.exec(ns)?.[1];
    if (id === undefined) continue;
    byId.set(id, [...(byId.get(id) ?? []), ns]);
  }
  const mine = new Set([...live].map((target) => target.id));
  const swept: string[] = [];
  for (const [id, namespaces] of byId) {
    if (mine.has(id)) continue;
    const owner = readOwnerPid(labDir(id));
    if (owner === null || isAlive(owner)) continue;
    await destroyNamespaces(namespaces, `${id}-sw`);
    if (!keepLabDir()) rmSync(labDir(id), { recursive: true, force: true });
    swept.push(id);
  }
  return swept;
}

function readOwnerPid(dir: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(ownerFile(dir), "utf8")) as { pid?: unknown }).pid;
    return typeof pid === "number" && Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
