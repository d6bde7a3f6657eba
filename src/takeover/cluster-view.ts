import type { ConfigProblem } from "../config/errors.js";
import { resourceNodeNames } from "../config/safety-modes.js";
import type { NodeConfig } from "../config/schema.js";
import type { Placed, PolicyInput, RunRole } from "../policy/types.js";
import { usableResourceModel } from "../resource-check/usable-model.js";
import { type Constraint, INFINITY_SCORE, type ResourceModel } from "../resource-model/types.js";
import type { ClusterState, OperatorOverride, ResourceCell } from "../state/types.js";
import { clientLinkBans } from "./client-links.js";

const EMPTY_MODEL: ResourceModel = { primitives: {}, groups: {}, clones: {}, constraints: [] };

/**
 * The resource model of the committed configuration (empty before the first apply), with the
 * problems that made parts of it unusable here (usableResourceModel). Never throws.
 */
export function committedModel(
  state: ClusterState,
  nodes: readonly NodeConfig[],
): { model: ResourceModel; problems: ConfigProblem[] } {
  if (state.config.version === 0) return { model: EMPTY_MODEL, problems: [] };
  return usableResourceModel(state.config.document, resourceNodeNames(nodes));
}

/**
 * The role a resource may be running in on a node: the one it was told to take or reported,
 * whichever is further along, so a start or promote in flight already counts. A cell that exists
 * at all may still be running (ResourceCell), even when told to stop.
 */
export function possibleRole(cell: ResourceCell): RunRole {
  if (cell.target === "promoted" || cell.active === "promoted") return "promoted";
  if (cell.active !== undefined) return cell.active;
  return cell.target === undefined || cell.target === "stopped" ? "started" : cell.target;
}

function instructedOf(cell: ResourceCell): { instructed?: true } {
  return cell.target !== undefined && cell.target !== "stopped" ? { instructed: true } : {};
}

type Resources = ClusterState["resources"];

/**
 * The placements read from one `resources` object, kept while it lives: a state changed by a
 * command that does not touch resources keeps the object, and the leader reads it again at
 * every decision. Frozen, as every reader shares them.
 */
function placementsOf(
  cache: WeakMap<Resources, Readonly<Record<string, readonly Placed[]>>>,
  resources: Resources,
  placedOf: (node: string, cell: ResourceCell) => Placed | undefined,
): Record<string, Placed[]> {
  let placements = cache.get(resources);
  if (placements === undefined) {
    const read: Record<string, Placed[]> = {};
    for (const [key, byNode] of Object.entries(resources)) {
      const placed: Placed[] = [];
      for (const [node, cell] of Object.entries(byNode)) {
        const one = placedOf(node, cell);
        if (one !== undefined) placed.push(Object.freeze(one));
      }
      if (placed.length > 0) read[key] = Object.freeze(placed) as Placed[];
    }
    placements = Object.freeze(read);
    cache.set(resources, placements);
  }
  return placements as Record<string, Placed[]>;
}

const confirmedByResources = new WeakMap<Resources, Record<string, readonly Placed[]>>();
const possibleByResources = new WeakMap<Resources, Record<string, readonly Placed[]>>();

/** Where resources surely run: the nodes' own reports (a failed stop counts as running). */
export function confirmedPlacement(state: ClusterState): Record<string, Placed[]> {
  return placementsOf(confirmedByResources, state.resources, (node, cell) =>
    cell.active === undefined ? undefined : { node, role: cell.active, ...instructedOf(cell) },
  );
}

/** Where resources may run (possibleRole): what placement starts from. */
function possiblePlacement(state: ClusterState): Record<string, Placed[]> {
  return placementsOf(possibleByResources, state.resources, (node, cell) => ({
    node,
    role: possibleRole(cell),
    ...instructedOf(cell),
  }));
}

/**
 * The policy engine's input as this node sees the cluster: the committed configuration with the
 * operators' moves, bans and stops, what may run where (ResourceCell), and which nodes can take
 * part. A node takes part when its agent run is alive (`liveIncarnation`) and is the run that
 * probed the configuration in force; a node shutting down counts as standby.
 */
export function policyInputOf(options: {
  state: ClusterState;
  nodes: readonly NodeConfig[];
  /** The incarnation of the node's agent run that is up now; null when it is not up. */
  liveIncarnation(node: NodeConfig): number | null;
  nowMs: number;
  model?: ResourceModel;
  /** Whether a node's cut from a link counts yet (clientLinkBans); default: at once. */
  clientLinkCutHolds?: (node: string, link: string) => boolean;
  /**
   * Fencing is enabled: a run that asked to be fenced (on_fail fence) takes no part, so what it
   * ran stays where it is until the fence, and is then placed elsewhere.
   */
  fencing?: boolean;
}): PolicyInput {
  const { state } = options;
  const model = withOperatorOverrides(
    options.model ?? committedModel(state, options.nodes).model,
    state.operator,
  );
  const current = possiblePlacement(state);
  const nodes = options.nodes
    .filter((node) => !node.witness)
    .map((node) => {
      const agent = state.agents[node.name];
      const live = options.liveIncarnation(node);
      return {
        name: node.name,
        online:
          live !== null &&
          agent?.incarnation === live &&
          agent.probedConfigVersion === state.config.version &&
          !(options.fencing === true && agent.fenceRequested !== undefined),
        standby: (state.nodes[node.name]?.standby ?? false) || (agent?.shuttingDown ?? false),
        attributes: { ...state.nodes[node.name]?.attributes, ...agent?.attributes },
      };
    });
  const online = new Set(nodes.filter((node) => node.online).map((node) => node.name));
  const bans = clientLinkBans(
    model,
    options.nodes.filter((node) => online.has(node.name)),
    (name) => state.agents[name]?.attributes,
    options.clientLinkCutHolds,
  );
  return {
    model: bans.length === 0 ? model : { ...model, constraints: [...model.constraints, ...bans] },
    nodes,
    current,
    failCounts: state.failCounts,
    nowMs: options.nowMs,
    maintenance: state.maintenance,
  };
}

/**
 * The last model made from each model, with the operator record it was made for: the leader
 * decides again on every change from the same model and, mostly, the same record, and the policy
 * engine indexes a model once per object. Neither is ever changed once made.
 */
const overridden = new WeakMap<
  ResourceModel,
  { operator: Readonly<Record<string, OperatorOverride>>; model: ResourceModel }
>();

/** Moves and bans become location constraints; a stop sets the resource's target role. */
export function withOperatorOverrides(
  model: ResourceModel,
  operator: Readonly<Record<string, OperatorOverride>>,
): ResourceModel {
  const last = overridden.get(model);
  if (last?.operator === operator) return last.model;
  const result = overrideModel(model, operator);
  overridden.set(model, { operator, model: result });
  return result;
}

function overrideModel(
  model: ResourceModel,
  operator: Readonly<Record<string, OperatorOverride>>,
): ResourceModel {
  const entries = Object.entries(operator);
  if (entries.length === 0) return model;
  const constraints: Constraint[] = [...model.constraints];
  const primitives = { ...model.primitives };
  const groups = { ...model.groups };
  const clones = { ...model.clones };
  for (const [resource, override] of entries) {
    const known =
      Object.hasOwn(primitives, resource) ||
      Object.hasOwn(groups, resource) ||
      Object.hasOwn(clones, resource);
    if (!known) continue;
    if (override.prefer !== undefined) {
      constraints.push({
        kind: "location",
        id: `cli-prefer-${resource}`,
        resource,
        node: override.prefer,
        score: INFINITY_SCORE,
      });
    }
    for (const node of override.bans ?? []) {
      constraints.push({
        kind: "location",
        id: `cli-ban-${resource}-on-${node}`,
        resource,
        node,
        score: -INFINITY_SCORE,
      });
    }
    if (override.stopped === true) {
      const stopped = { targetRole: "stopped" as const };
      const primitive = primitives[resource];
      const group = groups[resource];
      // What a clone wraps is placed as the clone: stopping it stops every copy.
      const clone = clones[resource] ?? Object.values(clones).find((c) => c.of === resource);
      if (primitive)
        primitives[resource] = { ...primitive, meta: { ...primitive.meta, ...stopped } };
      if (group) groups[resource] = { ...group, meta: { ...group.meta, ...stopped } };
      if (clone) clones[clone.id] = { ...clone, meta: { ...clone.meta, ...stopped } };
    }
  }
  return { ...model, primitives, groups, clones, constraints };
}
