/**
 * The safety modes a run can put the cluster in, each one a setting Vigil claims is safe:
 * - quorum (always): no_quorum_policy stop; a lost node's resources move once its lease has
 *   surely ended;
 * - lease guard (`leaseGuard`): every agent also runs the lease guard, which fences a hung node
 *   itself (lease-guard.ts);
 * - fencing (`fencing`): a fence device powers a lost node off before its resources move
 *   (fencing.ts);
 * - two-node (`twoNode`): two hosts, no witness, the same fence device, h1 with a fence delay;
 *   the survivor of a lost peer fences it and goes on alone (no_quorum_policy freeze, the
 *   two-node default).
 * A mode changes the cluster's configuration and what the run expects to happen to hosts; it
 * never changes a checker.
 */
import type { RawConfig } from "../../src/config/schema.js";
import type { Lab } from "../lab/index.js";
import type { TakeoverLab } from "../support/takeover-lab.js";
import { FenceTracker, TWO_NODE_DELAYED, TWO_NODE_FENCE_DELAY_MS } from "./fencing.js";
import type { HostLifecycle } from "./hosts.js";
import { enableLeaseGuard } from "./lease-guard.js";
import type { ChaosOptions } from "./types.js";

/** One line for the report. */
export function describeMode(
  options: Pick<ChaosOptions, "leaseGuard" | "fencing" | "twoNode">,
): string {
  const guard = options.leaseGuard === true;
  if (options.twoNode === true) {
    return `two-node${guard ? " + lease guard" : ""}: 2 hosts, no witness, no_quorum_policy freeze (the two-node default), fence device lab (test/fixtures/fence/fence_lab), fencing.delay_ms ${TWO_NODE_DELAYED} ${TWO_NODE_FENCE_DELAY_MS} ms (it wins a fence race), ${guard ? "watchdog.lease_guard on (action: test/chaos/lab-self-fence)" : "no lease guard"}`;
  }
  if (options.fencing === true) {
    return `fencing${guard ? " + lease guard" : ""}: no_quorum_policy stop, fence device lab (test/fixtures/fence/fence_lab: the host's links down, every process in it killed) before a lost node's resources move, ${guard ? "watchdog.lease_guard on (action: test/chaos/lab-self-fence)" : "no lease guard"}`;
  }
  return guard
    ? "quorum + lease guard: no_quorum_policy stop, no fence device, watchdog.lease_guard on (action: test/chaos/lab-self-fence)"
    : "quorum: no_quorum_policy stop, no fence device, no lease guard";
}

/** Before the agents start: the configuration sections the mode adds (undefined: none). */
export async function modeConfig(
  lab: Lab,
  options: Pick<ChaosOptions, "fencing" | "twoNode">,
): Promise<Partial<RawConfig> | undefined> {
  if (options.twoNode === true)
    return FenceTracker.prepare(lab, { [TWO_NODE_DELAYED]: TWO_NODE_FENCE_DELAY_MS });
  return options.fencing === true ? FenceTracker.prepare(lab) : undefined;
}

/** Whether the run has a fence device (fencing and two-node modes). */
export function fencingOn(options: Pick<ChaosOptions, "fencing" | "twoNode">): boolean {
  return options.fencing === true || options.twoNode === true;
}

/** Once the agents run: the lease guard is switched on (a restart of every agent, one by one). */
export async function startMode(
  lab: Lab,
  t: TakeoverLab,
  hosts: HostLifecycle,
  fences: FenceTracker | undefined,
  options: Pick<ChaosOptions, "leaseGuard">,
  log: (line: string) => void,
): Promise<void> {
  if (options.leaseGuard === true) {
    const action = await enableLeaseGuard(lab, t, hosts);
    log(`chaos: lease guard on, action: ${action}`);
  }
  if (fences !== undefined)
    log(`chaos: fencing on: fence_lab logs to ${fences.logPath}, locks in ${fences.lockDir}`);
}
