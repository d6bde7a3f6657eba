/**
 * The node guard in the chaos lab (on in every mode, as it is by default): its self-fence action
 * on a lab host is test/chaos/lab-self-fence, never the default reboot (the lab shares the
 * machine), and what it did to a host is read from the agent's stderr, which the guard inherits.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RawConfig } from "../../src/config/schema.js";
import type { Lab } from "../lab/index.js";
import { VIP_PREFIX_LENGTH, vipOf } from "../support/takeover-lab.js";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The node guard's self-fence action on a lab host (see the script). */
export const LAB_SELF_FENCE = resolve(here, "lab-self-fence");

/**
 * The `watchdog` section of every chaos run: the guard on, its self-fence taking the VIP off,
 * ending the echo service as its own stop would (events.log) and clearing the host's markers, so
 * the checkers count the host's copies as ended at that moment, as after a power-off.
 */
export function labGuardConfig(lab: Lab): Pick<RawConfig, "watchdog"> {
  const action = [
    LAB_SELF_FENCE,
    `${vipOf(lab)}/${VIP_PREFIX_LENGTH}`,
    lab.host(0).device(0),
    lab.dir,
    ...lab.hosts.map((_, h) => `${lab.host(h).ns}=h${h + 1}`),
  ].join(" ");
  return { watchdog: { lease_guard: true, action } };
}

/** What the node guard did to its host, from the agent's stderr: released it or fenced it. */
export interface GuardAction {
  fenced: boolean;
  reason: string;
}

/** The node guard's last act on the host, or null if it did not act. */
export function guardAction(stderr: string): GuardAction | null {
  const lines = stderr.split("\n").filter((l) => l.includes('"component":"lease-guard"'));
  const fencing = lines.find((l) => l.includes("fencing this node"));
  if (fencing !== undefined) return { fenced: true, reason: messageOf(fencing) };
  if (lines.some((l) => /"msg":"fenced"/.test(l))) return { fenced: true, reason: "fenced" };
  const releasing = lines.find((l) => l.includes("releasing this node"));
  return releasing === undefined ? null : { fenced: false, reason: messageOf(releasing) };
}

function messageOf(line: string): string {
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg);
  } catch {
    return line.slice(0, 300);
  }
}
