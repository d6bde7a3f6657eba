/**
 * The safety modes a run can put the cluster in, each one a setting Vigil claims is safe:
 * - quorum (always): no_quorum_policy stop; a lost node's resources move once its lease has
 *   surely ended;
 * - node guard (always, as by default): every agent runs the guard, which kills a dead or hung
 *   agent and stops what it held, or fences its host with the lab's action (lease-guard.ts);
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
import { FenceTracker, TWO_NODE_DELAYED, TWO_NODE_FENCE_DELAY_MS } from "./fencing.js";
import { LAB_SELF_FENCE, labGuardConfig } from "./lease-guard.js";
import type { ChaosOptions } from "./types.js";

const GUARD = `node guard on (self-fence action: ${LAB_SELF_FENCE.replace(/.*\/test\//, "test/")})`;

/** One line for the report. */
export function describeMode(options: Pick<ChaosOptions, "fencing" | "twoNode">): string {
  if (options.twoNode === true) {
    return `two-node: 2 hosts, no witness, no_quorum_policy freeze (the two-node default), fence device lab (test/fixtures/fence/fence_lab), fencing.delay_ms ${TWO_NODE_DELAYED} ${TWO_NODE_FENCE_DELAY_MS} ms (it wins a fence race), ${GUARD}`;
  }
  if (options.fencing === true) {
    return `fencing: no_quorum_policy stop, fence device lab (test/fixtures/fence/fence_lab: the host's links down, every process in it killed) before a lost node's resources move, ${GUARD}`;
  }
  return `quorum: no_quorum_policy stop, no fence device, ${GUARD}`;
}

/** Before the agents start: the configuration sections the mode adds (the guard's in every mode). */
export async function modeConfig(
  lab: Lab,
  options: Pick<ChaosOptions, "fencing" | "twoNode">,
): Promise<Partial<RawConfig>> {
  const guard = labGuardConfig(lab);
  if (options.twoNode === true)
    return {
      ...guard,
      ...(await FenceTracker.prepare(lab, { [TWO_NODE_DELAYED]: TWO_NODE_FENCE_DELAY_MS })),
    };
  return options.fencing === true ? { ...guard, ...(await FenceTracker.prepare(lab)) } : guard;
}

/** Whether the run has a fence device (fencing and two-node modes). */
export function fencingOn(options: Pick<ChaosOptions, "fencing" | "twoNode">): boolean {
  return options.fencing === true || options.twoNode === true;
}
