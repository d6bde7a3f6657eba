import { controlGet } from "../../control/client.js";
import { explainResource } from "../../policy/index.js";
import {
  type SimulateParameter,
  SimulateRequestError,
  type SimulationReply,
  simulatedChangeOf,
  simulationReply,
} from "../../policy/simulate.js";
import type { PolicyInput } from "../../policy/types.js";
import { INFINITY_SCORE } from "../../resource-model/types.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";
import { renderTable } from "../table.js";

export interface PolicyCommandOptions {
  socket?: string;
  config?: string;
  fail?: string;
  standby?: string;
  resourceFail?: string;
  json?: boolean;
}

async function policyInput(options: PolicyCommandOptions): Promise<PolicyInput> {
  return controlGet<PolicyInput>(await controlSocketPath(options), "/v1/policy-input");
}

function showScore(score: number): string {
  if (score >= INFINITY_SCORE) return "+INFINITY";
  if (score <= -INFINITY_SCORE) return "-INFINITY";
  return String(score);
}

/** `vigil explain RES`: the score of every node for the resource, and where it comes from. */
export async function runExplain(resource: string, options: PolicyCommandOptions): Promise<void> {
  const input = await policyInput(options);
  let lines: ReturnType<typeof explainResource>;
  try {
    lines = explainResource(input, resource);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
    return;
  }
  const rows = lines.map((line) => [
    line.resource,
    line.node,
    showScore(line.score),
    line.reasons.join("; ") || "-",
  ]);
  process.stdout.write(
    `${renderTable([["RESOURCE", "NODE", "SCORE", "WHY"], ...rows]).join("\n")}\n`,
  );
}

/**
 * `vigil simulate --fail NODE | --standby NODE | --resource-fail RES@NODE`: what the policy
 * engine would decide after that change. Nothing is changed or run. The same function as the
 * agent's GET /v1/simulate (the dashboard's what-if panel) computes it, from the agent's policy
 * input, so both answer alike; here a mistake is named as the option.
 */
export async function runSimulate(options: PolicyCommandOptions): Promise<void> {
  const given: Partial<Record<SimulateParameter, string>> = {};
  if (options.fail !== undefined) given.fail = options.fail;
  if (options.standby !== undefined) given.standby = options.standby;
  if (options.resourceFail !== undefined) given["resource-fail"] = options.resourceFail;
  const spell = (parameter: SimulateParameter) => `--${parameter}`;
  let reply: SimulationReply;
  try {
    const change = simulatedChangeOf(given, spell);
    reply = simulationReply(await policyInput(options), change, spell);
  } catch (error) {
    if (error instanceof SimulateRequestError) throw new UsageError(error.message);
    throw error;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${describeOutcome(reply)}\n`);
}

function describeOutcome(reply: SimulationReply): string {
  const lines = ["Placement after the change (nothing was changed):"];
  const resources = [
    ...new Set([...Object.keys(reply.current), ...Object.keys(reply.placement)]),
  ].sort();
  const rows = resources.map((resource) => {
    const where = (placed: SimulationReply["current"][string] | undefined) =>
      placed === undefined || placed.length === 0
        ? "stopped"
        : placed.map((p) => (p.role === "started" ? p.node : `${p.node} (${p.role})`)).join(", ");
    return [resource, where(reply.current[resource]), where(reply.placement[resource])];
  });
  lines.push(...renderTable([["RESOURCE", "NOW", "THEN"], ...rows]));
  lines.push("", "Actions, in order:");
  if (reply.actions.length === 0) lines.push("  none");
  for (const action of reply.actions) {
    const after = action.after.length > 0 ? ` (after ${action.after.join(", ")})` : "";
    lines.push(`  ${action.id}${after}`);
  }
  for (const { resource, reason } of [...reply.unplaceable, ...(reply.blocked ?? [])])
    lines.push(`  ! ${resource}: ${reason}`);
  for (const { resource, reason } of reply.waiting ?? []) lines.push(`  ~ ${resource} ${reason}`);
  return lines.join("\n");
}
