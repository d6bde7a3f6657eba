import assert from "node:assert/strict";
import type { PolicyInput, PolicyOutput } from "../../src/policy/types.js";
import type {
  Clone,
  Constraint,
  Group,
  Primitive,
  ResourceMeta,
  ResourceModel,
} from "../../src/resource-model/types.js";

export function meta(overrides: Partial<ResourceMeta> = {}): ResourceMeta {
  return {
    stickiness: 0,
    migrationThreshold: 0,
    failureTimeoutMs: 0,
    onFail: "restart",
    autoFailback: false,
    targetRole: "started",
    ...overrides,
  };
}

export function primitive(id: string, overrides: Partial<ResourceMeta> = {}): Primitive {
  return {
    id,
    agent: { kind: "exec", name: `/usr/lib/vigil/${id}` },
    params: {},
    operations: {},
    meta: meta(overrides),
  };
}

export function group(id: string, members: string[], overrides: Partial<ResourceMeta> = {}): Group {
  return { id, members, meta: meta(overrides) };
}

export function clone(id: string, of: string, options: Partial<Clone> = {}): Clone {
  return {
    id,
    of,
    max: 2,
    maxPerNode: 1,
    promotable: false,
    promotedMax: 1,
    meta: meta(),
    ...options,
  };
}

export function model(parts: {
  primitives?: Primitive[];
  groups?: Group[];
  clones?: Clone[];
  constraints?: Constraint[];
}): ResourceModel {
  return {
    primitives: Object.fromEntries((parts.primitives ?? []).map((p) => [p.id, p])),
    groups: Object.fromEntries((parts.groups ?? []).map((g) => [g.id, g])),
    clones: Object.fromEntries((parts.clones ?? []).map((c) => [c.id, c])),
    constraints: parts.constraints ?? [],
  };
}

export function input(parts: Partial<PolicyInput> & { model: ResourceModel }): PolicyInput {
  return {
    nodes: ["node1", "node2", "node3"].map((name) => ({
      name,
      online: true,
      standby: false,
      attributes: {},
    })),
    current: {},
    failCounts: {},
    nowMs: 1_000_000,
    maintenance: false,
    ...parts,
  };
}

/** Whether `later` waits (directly or transitively) for `earlier`. */
export function waitsFor(output: PolicyOutput, later: string, earlier: string): boolean {
  const byId = new Map(output.actions.map((a) => [a.id, a]));
  const stack = [...(byId.get(later)?.after ?? [])];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (id === earlier) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(byId.get(id)?.after ?? []));
  }
  return false;
}

/** Every `after` names a real action that comes earlier in the list: the graph is acyclic. */
export function assertActionGraphValid(output: PolicyOutput): void {
  const position = new Map(output.actions.map((a, i) => [a.id, i]));
  assert.equal(position.size, output.actions.length, "action ids are unique");
  for (const [i, action] of output.actions.entries()) {
    for (const dependency of action.after) {
      const at = position.get(dependency);
      assert.ok(at !== undefined, `${action.id} waits for unknown action ${dependency}`);
      assert.ok(at < i, `${action.id} waits for ${dependency}, which comes later (cycle)`);
    }
  }
}

/** An order constraint ("first, then"), mandatory unless `options` says otherwise. */
export function order(
  id: string,
  first: string,
  thenResource: string,
  options: {
    strength?: "mandatory" | "optional";
    firstAction?: "start" | "promote";
    thenAction?: "start" | "promote";
  } = {},
): Constraint {
  return { kind: "order", id, first, then: thenResource, strength: "mandatory", ...options };
}
