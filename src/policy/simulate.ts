import { computePlacement } from "./engine.js";
import type { NodeView, PolicyInput, PolicyOutput } from "./types.js";

/** A what-if for `vigil simulate`. */
export interface SimulatedChange {
  /** The node dies and is fenced: offline, and nothing is running on it any more. */
  failNode?: string;
  /** The operator puts the node in standby: it gets drained. */
  standbyNode?: string;
  /**
   * The resource fails on the node: its fail count there goes up by one (last failure now) and
   * it no longer runs there, so the result shows the recovery (restart in place, or move once
   * the migration threshold is reached).
   */
  failResource?: { resource: string; node: string };
}

function requireNode(input: PolicyInput, name: string, field: string): void {
  if (!input.nodes.some((node) => node.name === name)) {
    throw new Error(`simulate: ${field} names "${name}", which is not a cluster node`);
  }
}

/** Applies `change` to a copy of `input` (the input is not modified) and computes the result. */
export function applySimulatedChange(input: PolicyInput, change: SimulatedChange): PolicyInput {
  let nodes: NodeView[] = input.nodes.map((node) => ({
    ...node,
    attributes: { ...node.attributes },
  }));
  let current = Object.fromEntries(
    Object.entries(input.current).map(([key, list]) => [key, list.map((p) => ({ ...p }))]),
  );
  const failCounts = Object.fromEntries(
    Object.entries(input.failCounts).map(([key, perNode]) => [key, { ...perNode }]),
  );
  if (change.failNode !== undefined) {
    const failed = change.failNode;
    requireNode(input, failed, "failNode");
    nodes = nodes.map((node) => (node.name === failed ? { ...node, online: false } : node));
    current = Object.fromEntries(
      Object.entries(current).map(([key, list]) => [key, list.filter((p) => p.node !== failed)]),
    );
  }
  if (change.standbyNode !== undefined) {
    const drained = change.standbyNode;
    requireNode(input, drained, "standbyNode");
    nodes = nodes.map((node) => (node.name === drained ? { ...node, standby: true } : node));
  }
  if (change.failResource !== undefined) {
    const { resource, node } = change.failResource;
    requireNode(input, node, "failResource.node");
    const running = current[resource] ?? [];
    if (!running.some((p) => p.node === node)) {
      throw new Error(`simulate: failResource: "${resource}" is not running on "${node}"`);
    }
    current[resource] = running.filter((p) => p.node !== node);
    const perNode = failCounts[resource] ?? {};
    const before = perNode[node]?.count ?? 0;
    perNode[node] = { count: before + 1, lastFailureAtMs: input.nowMs };
    failCounts[resource] = perNode;
  }
  return { ...input, nodes, current, failCounts };
}

export function simulate(input: PolicyInput, change: SimulatedChange): PolicyOutput {
  return computePlacement(applySimulatedChange(input, change));
}

/** The what-ifs by the names `vigil simulate` (--fail ...) and GET /v1/simulate (fail=...) use. */
export const SIMULATE_PARAMETERS = ["fail", "standby", "resource-fail"] as const;
export type SimulateParameter = (typeof SIMULATE_PARAMETERS)[number];

/** A what-if asked wrongly; `parameter` is the one to fix (null: none was given). */
export class SimulateRequestError extends Error {
  override readonly name = "SimulateRequestError";
  constructor(
    readonly parameter: SimulateParameter | null,
    message: string,
  ) {
    super(message);
  }
}

/** How the caller spells a parameter in messages: "--fail" for the CLI, "fail" for the API. */
export type SpellParameter = (parameter: SimulateParameter) => string;

/** The change asked for by the parameters' text values (each optional, at least one given). */
export function simulatedChangeOf(
  values: Partial<Record<SimulateParameter, string>>,
  spell: SpellParameter,
): SimulatedChange {
  const change: SimulatedChange = {};
  const nodeOf = (parameter: "fail" | "standby") => {
    const value = values[parameter];
    if (value === undefined) return undefined;
    if (value === "") throw new SimulateRequestError(parameter, `${spell(parameter)} takes NODE`);
    return value;
  };
  const failNode = nodeOf("fail");
  if (failNode !== undefined) change.failNode = failNode;
  const standbyNode = nodeOf("standby");
  if (standbyNode !== undefined) change.standbyNode = standbyNode;
  const resourceFail = values["resource-fail"];
  if (resourceFail !== undefined) {
    const parts = resourceFail.split("@");
    const [resource, node] = parts;
    if (
      parts.length !== 2 ||
      resource === undefined ||
      resource === "" ||
      node === undefined ||
      node === ""
    )
      throw new SimulateRequestError(
        "resource-fail",
        `${spell("resource-fail")} takes RESOURCE@NODE, got "${resourceFail}"`,
      );
    change.failResource = { resource, node };
  }
  if (Object.keys(change).length === 0)
    throw new SimulateRequestError(
      null,
      `say what to simulate: ${spell("fail")} NODE, ${spell("standby")} NODE or ${spell("resource-fail")} RES@NODE`,
    );
  return change;
}

/**
 * What `vigil simulate --json` prints and GET /v1/simulate answers: the change, the placement
 * now, and the policy engine's placement and actions after the change (nothing is changed).
 */
export interface SimulationReply extends PolicyOutput {
  change: SimulatedChange;
  current: PolicyInput["current"];
}

/** The change simulated against the cluster's policy input; a node it names must exist. */
export function simulationReply(
  input: PolicyInput,
  change: SimulatedChange,
  spell: SpellParameter,
): SimulationReply {
  const known = input.nodes.map((node) => node.name);
  const named: Array<[SimulateParameter, string | undefined]> = [
    ["fail", change.failNode],
    ["standby", change.standbyNode],
    ["resource-fail", change.failResource?.node],
  ];
  for (const [parameter, node] of named) {
    if (node !== undefined && !known.includes(node))
      throw new SimulateRequestError(
        parameter,
        `${spell(parameter)}: no node named ${node} (nodes: ${known.join(", ")})`,
      );
  }
  let output: PolicyOutput;
  try {
    output = simulate(input, change);
  } catch (error) {
    // The one refusal left: the failed resource does not run on the node named.
    throw new SimulateRequestError("resource-fail", (error as Error).message);
  }
  return { change, current: input.current, ...output };
}
