import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RawConfig } from "../../src/config/schema.js";
import type { FenceEvent } from "../../src/state/types.js";
import type { Lab } from "../lab/index.js";
import type { TakeoverLab } from "./takeover-lab.js";

/**
 * Fencing on test hosts: the lab fence device `lab`, whose agent (test/fixtures/fence/fence_lab)
 * powers a test host off for real (links down, every process in it SIGKILLed) and logs each call.
 */

const here = fileURLToPath(new URL(".", import.meta.url));
export const FENCE_LAB = resolve(here, "../fixtures/fence/fence_lab");
export const DEVICE = "lab";

/** `fencing`: device `lab` (fence_lab) fences every host, its plug being the host's namespace. */
export function fencingConfig(
  lab: Lab,
  log: string,
  params: Record<string, string> = {},
  delayMs: Record<string, number> = {},
): Partial<RawConfig> {
  return {
    fencing: {
      devices: {
        [DEVICE]: {
          agent: `exec:${FENCE_LAB}`,
          params: { log, ...params },
          targets: Object.fromEntries(lab.hosts.map((host, i) => [`h${i + 1}`, host.ns])),
          timeout_ms: 10_000,
        },
      },
      delay_ms: delayMs,
    },
  };
}

export interface FenceCall {
  /** When fence_lab was done (for off/reboot: the host's links down, its processes gone). */
  atMs: number;
  action: string;
  plug: string;
  exit: number;
}

/** fence_lab's log: "<epoch ms> <action> <plug> exit=<code>" per call. */
export async function fenceCalls(log: string): Promise<FenceCall[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  const calls: FenceCall[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\d+) (\S+) (\S+) exit=(\d+)$/.exec(line);
    if (match === null) continue;
    calls.push({
      atMs: Number(match[1]),
      action: match[2]!,
      plug: match[3]!,
      exit: Number(match[4]),
    });
  }
  return calls;
}

export const powersOff = (call: FenceCall) => call.action === "reboot" || call.action === "off";

/**
 * The host was powered off by a fence at `atMs`: for the safety checks, whatever it still has
 * configured or running ends there (it was unreachable from then on).
 */
export function recordFence(t: TakeoverLab, host: number, atMs: number): void {
  const name = t.name(host);
  t.powerOffs.set(name, [...(t.powerOffs.get(name) ?? []), atMs]);
  t.watch.markOff(host, atMs);
}

export function describeHistory(history: readonly FenceEvent[]): string {
  return JSON.stringify(
    history.map(({ node, ok, action, devices, detail, by }) => ({
      node,
      ok,
      action,
      devices,
      detail,
      by,
    })),
  );
}
