import { controlGet } from "../../control/client.js";
import { explainResource, simulate } from "../../policy/index.js";
import type { SimulatedChange } from "../../policy/simulate.js";
import type { PolicyInput, PolicyOutput } from "../../policy/types.js";
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
 * engine would decide after that change. Nothing is changed or run.
 */
export async function runSimulate(options: PolicyCommandOptions): Promise<void> {
  const change: SimulatedChange = {};
  if (options.fail !== undefined) change.failNode = options.fail;
  if (options.standby !== undefined) change.standbyNode = options.standby;
  if (options.resourceFail !== undefined) {
    const [resource, node] = options.resourceFail.split("@");
    if (resource === undefined || resource === "" || node === undefined || node === "")
      throw new UsageError(`--resource-fail takes RESOURCE@NODE, got "${options.resourceFail}"`);
    change.failResource = { resource, node };
  }
  if (Object.keys(change).length === 0)
    throw new UsageError(
      "say what to simulate: --fail NODE, --standby NODE or --resource-fail RES@NODE",
    );
  const input = await policyInput(options);
  const known = new Set(input.nodes.map((node) => node.name));
  for (const node of [change.failNode, change.standbyNode, change.failResource?.node]) {
    if (node !== undefined && !known.has(node))
      throw new UsageError(`no node named ${node} (nodes: ${[...known].join(", ")})`);
  }
  const output = simulate(input, change);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${describeOutcome(input, output)}\n`);
}

function describeOutcome(input: PolicyInput, output: PolicyOutput): string {
  const lines = ["Placement after the change (nothing was changed):"];
  const resources = [
    ...new Set([...Object.keys(input.current), ...Object.keys(output.placement)]),
  ].sort();
  const rows = resources.map((resource) => {
    const where = (placed: PolicyInput["current"][string] | undefined) =>
      placed === undefined || placed.length === 0
        ? "stopped"
        : placed.map((p) => (p.role === "started" ? p.node : `${p.node} (${p.role})`)).join(", ");
    return [resource, where(input.current[resource]), where(output.placement[resource])];
  });
  lines.push(...renderTable([["RESOURCE", "NOW", "THEN"], ...rows]));
  lines.push("", "Actions, in order:");
  if (output.actions.length === 0) lines.push("  none");
  for (const action of output.actions) {
    const after = action.after.length > 0 ? ` (after ${action.after.join(", ")})` : "";
    lines.push(`  ${action.id}${after}`);
  }
  for (const { resource, reason } of [...output.unplaceable, ...(output.blocked ?? [])])
    lines.push(`  ! ${resource}: ${reason}`);
  return lines.join("\n");
}
