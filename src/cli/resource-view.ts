import { parseCloneInstanceKey } from "../policy/naming.js";
import { resourceDocumentSchema } from "../resource-model/model-schema.js";
import type { ClusterState, ResourceCell } from "../state/types.js";

/**
 * What the CLI needs to know about the committed configuration's resources: which ids are
 * primitives, groups (with their members) and clones (with what they wrap). Read from the
 * document's shape alone, so it needs neither the node list nor a full check (the agent checked
 * the document before committing it).
 */
export interface ResourceShape {
  primitives: string[];
  groups: Record<string, string[]>;
  /** Clone id → the primitive or group it wraps. */
  clones: Record<string, string>;
}

export function resourceShape(state: ClusterState): ResourceShape {
  const parsed = resourceDocumentSchema.safeParse(state.config.document);
  if (!parsed.success) return { primitives: [], groups: {}, clones: {} };
  const { resources, groups, clones } = parsed.data;
  return {
    primitives: Object.keys(resources).sort(),
    groups: Object.fromEntries(
      Object.entries(groups).map(([id, group]) => [
        id,
        Array.isArray(group) ? group : group.members,
      ]),
    ),
    clones: Object.fromEntries(Object.entries(clones).map(([id, clone]) => [id, clone.of])),
  };
}

/** Every resource id an operator may name (primitives, groups, clones), sorted. */
export function resourceIds(shape: ResourceShape): string[] {
  return [...shape.primitives, ...Object.keys(shape.groups), ...Object.keys(shape.clones)].sort();
}

/**
 * How a named resource maps onto placement keys:
 * - `keys`: a primitive or a group outside any clone: its key, or its members' keys;
 * - `clone`: a clone, or a primitive or group a clone wraps (directly or as a group member):
 *   keys "c:0", "c:1", ... or "c:0/member", matched by `member` when only one member's keys count.
 */
export type ResourceKeys =
  | { kind: "primitive" | "group"; keys: string[] }
  | { kind: "clone"; cloneId: string; members?: string[] };

export function keysOfResource(shape: ResourceShape, resource: string): ResourceKeys | undefined {
  for (const [cloneId, of] of Object.entries(shape.clones)) {
    if (resource === cloneId || resource === of) {
      const members = shape.groups[of];
      return members === undefined
        ? { kind: "clone", cloneId }
        : { kind: "clone", cloneId, members };
    }
    if (shape.groups[of]?.includes(resource))
      return { kind: "clone", cloneId, members: [resource] };
  }
  const members = shape.groups[resource];
  if (members !== undefined) return { kind: "group", keys: [...members] };
  if (shape.primitives.includes(resource)) return { kind: "primitive", keys: [resource] };
  return undefined;
}

/** Whether a placement key belongs to the resource. */
export function keyBelongs(keys: ResourceKeys, key: string): boolean {
  if (keys.kind !== "clone") return keys.keys.includes(key);
  const instance = parseCloneInstanceKey(keys.cloneId, key);
  if (instance === undefined) return false;
  if (keys.members === undefined) return instance.member === undefined;
  return instance.member !== undefined && keys.members.includes(instance.member);
}

export interface PlacedCell {
  key: string;
  node: string;
  cell: ResourceCell;
}

/** Every cell of the resource's placement keys, by key then node. */
export function cellsOf(state: ClusterState, keys: ResourceKeys): PlacedCell[] {
  const cells: PlacedCell[] = [];
  for (const key of Object.keys(state.resources).sort(byKey)) {
    if (!keyBelongs(keys, key)) continue;
    const byNode = state.resources[key] ?? {};
    for (const node of Object.keys(byNode).sort()) {
      cells.push({ key, node, cell: byNode[node]! });
    }
  }
  return cells;
}

/** "db:2" before "db:10". */
export function byKey(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

function unknownResource(shape: ResourceShape, resource: string): string {
  const ids = resourceIds(shape);
  return `no resource named ${resource} in the committed configuration (resources: ${ids.join(", ") || "none"})`;
}

/**
 * The one node a primitive or group runs on now, for `vigil resource move|ban RES` without a
 * node (Pacemaker's crm_resource --move without --node bans the current node). A cell counts
 * when it runs or is starting there, not when it is being stopped there. A clone runs on several
 * nodes: the operator has to name one.
 */
export function nodeRunningResource(
  state: ClusterState,
  resource: string,
): { node: string } | { error: string } {
  const shape = resourceShape(state);
  const keys = keysOfResource(shape, resource);
  if (keys === undefined) return { error: unknownResource(shape, resource) };
  if (keys.kind === "clone") {
    return {
      error:
        resource === keys.cloneId
          ? `${resource} is a clone and runs on several nodes: name a node for a clone`
          : `${resource} runs in clone ${keys.cloneId} on several nodes: name a node for a clone`,
    };
  }
  const cells = cellsOf(state, keys);
  const running = new Set(
    cells
      .filter(({ cell }) => cell.target !== "stopped" && (cell.active ?? cell.target) !== undefined)
      .map(({ node }) => node),
  );
  if (running.size === 1) return { node: [...running][0]! };
  if (running.size > 1) {
    return {
      error: `${resource} is on several nodes right now (${[...running].sort().join(", ")}): name the node`,
    };
  }
  const stopping = [...new Set(cells.map(({ node }) => node))].sort();
  return {
    error:
      stopping.length > 0
        ? `${resource} is not running anywhere (it is being stopped on ${stopping.join(", ")}): name a node`
        : `${resource} is not running anywhere: name a node`,
  };
}

/** Restart, first half: the resource is stopped once no cell of its keys is left on any node. */
export function stoppedEverywhere(state: ClusterState, keys: ResourceKeys): boolean {
  return cellsOf(state, keys).length === 0;
}

/** Keys of the resource that run (some cell with `active` set). */
export function runningKeys(state: ClusterState, keys: ResourceKeys): string[] {
  return [
    ...new Set(
      cellsOf(state, keys)
        .filter(({ cell }) => cell.active !== undefined)
        .map(({ key }) => key),
    ),
  ];
}

/**
 * Restart, second half: every cell left has reached what it was told (`active` set and equal to
 * `target`: nothing starting or stopping), and at least as many keys run as before the restart
 * (at least one).
 */
export function runningAgain(state: ClusterState, keys: ResourceKeys, before: number): boolean {
  const cells = cellsOf(state, keys);
  if (cells.some(({ cell }) => cell.active === undefined || cell.target !== cell.active)) {
    return false;
  }
  return new Set(cells.map(({ key }) => key)).size >= Math.max(1, before);
}

/** "echo on beta (target stopped, active started)": where a resource still is, for messages. */
export function describeCells(cells: readonly PlacedCell[]): string {
  return cells
    .map(({ key, node, cell }) => {
      const parts = [`target ${cell.target ?? "none"}`, `active ${cell.active ?? "none"}`];
      if (cell.stopFailed === true) parts.push("stop failed");
      return `${key} on ${node} (${parts.join(", ")})`;
    })
    .join(", ");
}
