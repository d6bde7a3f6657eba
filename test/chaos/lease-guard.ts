/**
 * The lease guard option (`--lease-guard`): every agent runs with `watchdog.lease_guard`, whose
 * self-fence action on a lab host is test/chaos/lab-self-fence (never the default reboot: the lab
 * shares the machine).
 */
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import type { Lab } from "../lab/index.js";
import { IP_RESOURCE, type TakeoverLab } from "../support/takeover-lab.js";
import type { HostLifecycle } from "./hosts.js";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The lease guard's self-fence action on a lab host (see the script). */
export const LAB_SELF_FENCE = resolve(here, "lab-self-fence");

/** The lease guard's reason for fencing, from the agent's stderr (it inherits it), or null. */
export function guardFence(stderr: string): string | null {
  const line = stderr
    .split("\n")
    .find((l) => l.includes('"component":"lease-guard"') && l.includes("fencing this node"));
  if (line === undefined)
    return /"component":"lease-guard".*"msg":"fenced"/.test(stderr) ? "fenced" : null;
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg);
  } catch {
    return line.slice(0, 300);
  }
}

/**
 * Restarts every agent, one at a time (quorum stays), with `watchdog.lease_guard` on in the
 * cluster's vigil.yaml and the lab's self-fence action. TakeoverLab.create starts the agents
 * with LabCluster's file and has no way to add a key before it does. Returns the action.
 */
export async function enableLeaseGuard(
  lab: Lab,
  t: TakeoverLab,
  hosts: HostLifecycle,
): Promise<string> {
  const ip = (t.document().resources as Record<string, { params: { address: string } }>)[
    IP_RESOURCE
  ]!;
  const action = [
    LAB_SELF_FENCE,
    ip.params.address,
    lab.host(0).device(0),
    lab.dir,
    ...t.hosts.map((h) => `${lab.host(h).ns}=${t.name(h)}`),
  ].join(" ");
  const config = parse(await readFile(t.cluster.configPath, "utf8")) as Record<string, unknown>;
  config.watchdog = { lease_guard: true, action };
  await writeFile(t.cluster.configPath, stringify(config), { mode: 0o600 });
  for (const host of t.hosts) {
    await hosts.powerOff(host);
    await hosts.powerOn(host);
    await t.cluster.agent(host)!.waitForLine(/lease guard started/, 10_000);
  }
  await t.waitForLeader();
  return action;
}
