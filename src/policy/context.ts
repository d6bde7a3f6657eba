import type { ResourceMeta, ResourceModel } from "../resource-model/types.js";
import { ModelIndex, type Unit } from "./model-index.js";
import { parseCloneInstanceKey } from "./naming.js";
import type { NodeView, Placed, PolicyInput } from "./types.js";

/** Everything one computation needs, derived once from the input. */
export interface PolicyContext {
  input: PolicyInput;
  index: ModelIndex;
  /** Node names in input order: the tie-breaker everywhere. */
  nodeNames: string[];
  nodes: Map<string, NodeView>;
  /**
   * The latest time at which this computation's answer still holds: time alone changes it only
   * when a failure it counts expires (failure timeout). Lowered as the computation counts them.
   */
  validity: { untilMs: number };
}

export function createContext(input: PolicyInput): PolicyContext {
  const nodes = new Map<string, NodeView>();
  for (const [position, node] of input.nodes.entries()) {
    if (nodes.has(node.name))
      throw new Error(`nodes[${position}]: duplicate node name "${node.name}"`);
    nodes.set(node.name, node);
  }
  return {
    input,
    index: indexOf(input.model),
    nodeNames: [...nodes.keys()],
    nodes,
    validity: { untilMs: Number.POSITIVE_INFINITY },
  };
}

/**
 * The model's index, built once per model object: a caller deciding again and again from the same
 * configuration (the leader, on every change) hands the same model each time. Models are never
 * changed once made.
 */
const indexes = new WeakMap<ResourceModel, ModelIndex>();

function indexOf(model: ResourceModel): ModelIndex {
  let index = indexes.get(model);
  if (index === undefined) {
    index = new ModelIndex(model);
    indexes.set(model, index);
  }
  return index;
}

/** A node we may act on. Unknown nodes (e.g. removed from the cluster) count as offline. */
export function isOnline(ctx: PolicyContext, node: string): boolean {
  return ctx.nodes.get(node)?.online === true;
}

export function currentOf(ctx: PolicyContext, key: string): Placed[] {
  return Object.hasOwn(ctx.input.current, key) ? (ctx.input.current[key] ?? []) : [];
}

/** Placement keys of a unit that `current` mentions, including clone instances beyond `max`. */
export function currentKeysOfUnit(ctx: PolicyContext, unit: Unit): string[] {
  const keys = new Set(ctx.index.unitKeys(unit));
  if (unit.kind === "clone") {
    for (const key of Object.keys(ctx.input.current)) {
      if (parseCloneInstanceKey(unit.id, key) !== undefined) keys.add(key);
    }
  }
  return [...keys].filter((key) => currentOf(ctx, key).length > 0).sort();
}

/** Nodes (in node order, unknown nodes last) where any of the unit's keys currently runs. */
export function runningNodesOfUnit(ctx: PolicyContext, unit: Unit): string[] {
  const seen = new Set<string>();
  for (const key of currentKeysOfUnit(ctx, unit)) {
    for (const placed of currentOf(ctx, key)) seen.add(placed.node);
  }
  const known = ctx.nodeNames.filter((name) => seen.has(name));
  const unknown = [...seen].filter((name) => !ctx.nodes.has(name)).sort();
  return [...known, ...unknown];
}

/**
 * Where a running unit may stay (stickiness, auto_failback off): where it runs; but when it runs
 * in several places (a split brain healed), only where the leader put it (Placed.instructed) if
 * it put it anywhere — the other copies are the ones that go.
 */
export function stayingNodesOfUnit(ctx: PolicyContext, unit: Unit): string[] {
  const running = runningNodesOfUnit(ctx, unit);
  if (running.length < 2) return running;
  const instructed = new Set<string>();
  for (const key of currentKeysOfUnit(ctx, unit)) {
    for (const placed of currentOf(ctx, key)) {
      if (placed.instructed === true) instructed.add(placed.node);
    }
  }
  const staying = running.filter((node) => instructed.has(node));
  return staying.length > 0 ? staying : running;
}

/** Fail-count keys that belong to a unit, with the meta whose threshold applies to each. */
export function failureKeysOf(
  ctx: PolicyContext,
  unit: Unit,
): Array<{ key: string; meta: ResourceMeta }> {
  const keys = Object.keys(ctx.input.failCounts).sort();
  if (unit.kind === "primitive") {
    return keys.filter((key) => key === unit.id).map((key) => ({ key, meta: unit.meta }));
  }
  if (unit.kind === "group") return [];
  const members = unit.members ?? [];
  // A copy of a cloned group's member counts by that member's meta (the clone's keys over its
  // own, as the node that runs it reads them); everything else by the clone's.
  const metaOf = (key: string): ResourceMeta => {
    const member = parseCloneInstanceKey(unit.id, key)?.member;
    return member !== undefined && members.includes(member)
      ? ctx.index.metaOfPrimitive(member)
      : unit.meta;
  };
  return keys
    .filter(
      (key) =>
        key === unit.id ||
        key === unit.clone.of ||
        members.includes(key) ||
        parseCloneInstanceKey(unit.id, key) !== undefined,
    )
    .map((key) => ({ key, meta: metaOf(key) }));
}
