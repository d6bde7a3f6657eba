import type { ConfigPath, ConfigProblem } from "../config/errors.js";
import type { ResourceDocument } from "./model-schema.js";
import { parseOperations } from "./parse-operations.js";
import { replicationOffsetSpec } from "./replication-offset.js";
import {
  type AgentRef,
  type Constraint,
  INFINITY_SCORE,
  type Primitive,
  type ResourceMeta,
  type ResourceModel,
} from "./types.js";
import { readVipParams, VipParamError } from "./vip-params.js";
import { readVirtualServices } from "./virtual-services.js";

/**
 * Defaults chosen for an operator who writes nothing (operations: parse-operations.ts): three
 * failures on one node before moving away, and no failback on its own (a recovered node does not
 * cause a second outage unless auto_failback says so).
 */
export const DEFAULT_META: ResourceMeta = {
  stickiness: 0,
  migrationThreshold: 3,
  failureTimeoutMs: 0,
  onFail: "restart",
  autoFailback: false,
  targetRole: "started",
};
/** The agents that can implement promote and demote (vip, lsb: and systemd: have neither). */
const PROMOTING_AGENTS: ReadonlyArray<AgentRef["kind"]> = ["exec", "ocf"];

function paramStrings(
  written: Readonly<Record<string, string | number | boolean>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(written).map(([key, value]) => [key, String(value)]));
}

export function parseAgentRef(text: string): AgentRef | { error: string } {
  if (text === "vip") return { kind: "vip", name: "vip" };
  const [kind, ...rest] = text.split(":");
  const name = rest.join(":");
  switch (kind) {
    case "exec":
      return name.startsWith("/")
        ? { kind: "exec", name }
        : { error: `exec agents need an absolute path: exec:/path/to/script (got "${text}")` };
    case "ocf": {
      const parts = name.split(":");
      return parts.length === 2 && parts.every((part) => /^[A-Za-z0-9._-]+$/.test(part))
        ? { kind: "ocf", name: `${parts[0]}/${parts[1]}` }
        : {
            error: `OCF agents are written ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:IPaddr2 (got "${text}")`,
          };
    }
    case "lsb":
    case "systemd":
      return /^[A-Za-z0-9@._-]+$/.test(name)
        ? { kind, name }
        : { error: `expected ${kind}:NAME (got "${text}")` };
    default:
      return {
        error: `unknown agent "${text}": expected vip, exec:/path, ocf:PROVIDER:TYPE, lsb:NAME or systemd:UNIT`,
      };
  }
}

function score(value: number | string): number {
  if (typeof value === "number") return value;
  return value.startsWith("-") ? -INFINITY_SCORE : INFINITY_SCORE;
}

type WrittenMeta = ResourceDocument["resources"][string]["meta"];

/**
 * A clone's copies are run by the nodes and placed by the leader from one meta: the clone's own
 * keys over those of what it wraps (a group's for the clone, each member's for its copies), so
 * a key counts wherever it is written. A copy is stopped if either level says so.
 */
function cloneMeta(inner: WrittenMeta, clone: WrittenMeta): WrittenMeta {
  const written = Object.fromEntries(
    Object.entries(clone).filter(([, value]) => value !== undefined),
  );
  const stopped = inner.target_role === "stopped" || clone.target_role === "stopped";
  return { ...inner, ...written, ...(stopped ? { target_role: "stopped" } : {}) };
}

function meta(written: WrittenMeta): ResourceMeta {
  return {
    stickiness: written.stickiness ?? DEFAULT_META.stickiness,
    migrationThreshold: written.migration_threshold ?? DEFAULT_META.migrationThreshold,
    failureTimeoutMs: written.failure_timeout_ms ?? DEFAULT_META.failureTimeoutMs,
    onFail: written.on_fail ?? DEFAULT_META.onFail,
    autoFailback: written.auto_failback ?? DEFAULT_META.autoFailback,
    targetRole: written.target_role ?? DEFAULT_META.targetRole,
  };
}

/**
 * Turns the written sections into the model, checking every reference. Problems carry the path
 * of the key to change; the model is only meaningful when there are none.
 */
export function parseResourceModel(
  document: ResourceDocument,
  nodeNames: readonly string[],
): { model: ResourceModel; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const problem = (path: ConfigPath, message: string) => problems.push({ path, message });
  const model: ResourceModel = { primitives: {}, groups: {}, clones: {}, constraints: [] };
  /** Resources whose monitors name roles: only a promotable clone's copies have roles. */
  const monitorRoles = new Map<string, string[]>();

  for (const [id, written] of Object.entries(document.resources)) {
    const agent = parseAgentRef(written.agent);
    if ("error" in agent) {
      problem(["resources", id, "agent"], agent.error);
      continue;
    }
    const params = paramStrings(written.params);
    const paramsOn: Record<string, Record<string, string>> = {};
    for (const [node, own] of Object.entries(written.params_on)) {
      if (!nodeNames.includes(node)) {
        problem(
          ["resources", id, "params_on", node],
          `no node named ${node} (nodes: ${nodeNames.join(", ")})`,
        );
        continue;
      }
      paramsOn[node] = paramStrings(own);
    }
    if (agent.kind === "vip") {
      // Each node's parameters must make an address, wherever they come from.
      const where: Array<[ConfigPath, Record<string, string>]> = [
        [["resources", id, "params"], params],
        ...Object.entries(paramsOn).map(([node, own]): [ConfigPath, Record<string, string>] => [
          ["resources", id, "params_on", node],
          { ...params, ...own },
        ]),
      ];
      for (const [path, effective] of where) {
        try {
          readVipParams(effective, { prefixRequired: true });
        } catch (error) {
          const param = error instanceof VipParamError ? [error.param] : [];
          problem([...path, ...param], (error as Error).message);
        }
      }
    }
    const { roles, ...operations } = parseOperations(
      written.operations,
      ["resources", id, "operations"],
      problem,
    );
    if (roles.length > 0) monitorRoles.set(id, roles);
    const primitive: Primitive = {
      id,
      agent,
      params,
      ...(Object.keys(paramsOn).length === 0 ? {} : { paramsOn }),
      ...operations,
      meta: meta(written.meta),
    };
    model.primitives[id] = primitive;
  }

  for (const service of readVirtualServices(document, problem)) {
    const { id, written, params } = service;
    const { roles, ...operations } = parseOperations(
      written.operations,
      ["virtual_services", id, "operations"],
      problem,
    );
    if (roles.length > 0)
      problem(
        ["virtual_services", id, "operations", "monitor"],
        "a virtual service is never cloned, so its copy has no role: drop role",
      );
    model.primitives[id] = {
      id,
      agent: { kind: "director", name: "director" },
      params,
      ...operations,
      meta: meta(written.meta),
    };
  }
  /** Primitives as written: `resources` and `virtual_services`. */
  const isPrimitive = (name: string) =>
    Object.hasOwn(document.resources, name) || Object.hasOwn(document.virtual_services, name);

  const ids = new Set<string>();
  const claim = (id: string, path: ConfigPath) => {
    if (ids.has(id))
      problem(
        path,
        `id ${id} is used twice; resources, virtual services, groups and clones share one namespace`,
      );
    ids.add(id);
  };
  for (const id of Object.keys(document.resources)) claim(id, ["resources", id]);
  for (const id of Object.keys(document.virtual_services)) claim(id, ["virtual_services", id]);

  const groupOf = new Map<string, string>();
  for (const [id, written] of Object.entries(document.groups)) {
    claim(id, ["groups", id]);
    const members = Array.isArray(written) ? written : written.members;
    members.forEach((member, index) => {
      const path = ["groups", id, ...(Array.isArray(written) ? [] : ["members"]), index];
      if (!isPrimitive(member)) {
        problem(path, `no resource named ${member} (groups hold resources, not groups or clones)`);
      } else if (groupOf.has(member)) {
        problem(
          path,
          `${member} is already in group ${groupOf.get(member)}; a resource belongs to at most one group`,
        );
      } else groupOf.set(member, id);
    });
    model.groups[id] = {
      id,
      members,
      meta: meta(Array.isArray(written) ? {} : written.meta),
    };
  }

  const clonedBy = new Map<string, string>();
  for (const [id, written] of Object.entries(document.clones)) {
    claim(id, ["clones", id]);
    const target = written.of;
    if (Object.hasOwn(document.virtual_services, target)) {
      problem(
        ["clones", id, "of"],
        `${target} is a virtual service: it runs where its vip runs, as one copy, and is not cloned`,
      );
    } else if (
      !Object.hasOwn(document.resources, target) &&
      !Object.hasOwn(document.groups, target)
    ) {
      problem(["clones", id, "of"], `no resource or group named ${target}`);
    } else if (groupOf.has(target)) {
      problem(
        ["clones", id, "of"],
        `${target} is in group ${groupOf.get(target)}: clone the group instead`,
      );
    } else if (clonedBy.has(target)) {
      problem(["clones", id, "of"], `${target} is already cloned by ${clonedBy.get(target)}`);
    } else if (written.notify && Object.hasOwn(document.groups, target)) {
      problem(
        ["clones", id, "notify"],
        `notifications go to a cloned resource's agent, not to group ${target}: clone a resource, or drop notify`,
      );
    } else if (written.promotable && Object.hasOwn(document.groups, target)) {
      problem(["clones", id, "of"], `a promotable clone wraps a resource, not group ${target}`);
    } else if (written.promotable) {
      const agent = Object.hasOwn(model.primitives, target)
        ? model.primitives[target]?.agent
        : undefined;
      if (agent !== undefined && !PROMOTING_AGENTS.includes(agent.kind)) {
        problem(
          ["clones", id, "promotable"],
          `${target} cannot be promoted: its agent (resources.${target}.agent: ${document.resources[target]?.agent}) has no promote or demote; a promotable clone needs an exec or OCF agent that implements them, or drop promotable`,
        );
      }
    }
    clonedBy.set(target, id);
    if (written.replication_offset !== undefined && !written.promotable) {
      problem(
        ["clones", id, "replication_offset"],
        "only a promotable clone's copies are ranked by replication offset: add promotable: true, or drop replication_offset",
      );
    }
    if (written.promotable && written.promoted_max > (written.max ?? nodeNames.length)) {
      problem(
        ["clones", id, "promoted_max"],
        `promoted_max (${written.promoted_max}) exceeds the number of copies`,
      );
    }
    const wrapped = Object.hasOwn(document.resources, target)
      ? document.resources[target]
      : undefined;
    const group = Object.hasOwn(document.groups, target) ? document.groups[target] : undefined;
    const innerMeta =
      wrapped?.meta ?? (group === undefined || Array.isArray(group) ? {} : group.meta);
    model.clones[id] = {
      id,
      of: target,
      max: written.max ?? nodeNames.length,
      maxPerNode: 1,
      promotable: written.promotable,
      promotedMax: written.promoted_max,
      notify: written.notify,
      ...(written.replication_offset === undefined
        ? {}
        : { replicationOffset: replicationOffsetSpec(written.replication_offset) }),
      meta: meta(cloneMeta(innerMeta, written.meta)),
    };
    const clonedPrimitive = model.primitives[target];
    if (wrapped !== undefined && clonedPrimitive !== undefined) {
      clonedPrimitive.meta = meta(cloneMeta(wrapped.meta, written.meta));
    }
    const clonedGroup = model.groups[target];
    if (clonedGroup !== undefined) {
      clonedGroup.meta = meta(cloneMeta(innerMeta, written.meta));
      for (const member of clonedGroup.members) {
        const primitive = Object.hasOwn(model.primitives, member)
          ? model.primitives[member]
          : undefined;
        const memberMeta = document.resources[member]?.meta;
        if (primitive !== undefined && memberMeta !== undefined)
          primitive.meta = meta(cloneMeta(memberMeta, written.meta));
      }
    }
  }

  for (const [id, roles] of monitorRoles) {
    const promotable = Object.values(model.clones).some((c) => c.of === id && c.promotable);
    if (!promotable)
      problem(
        ["resources", id, "operations", "monitor"],
        `a monitor for role ${roles.join(" and ")} runs only on the copies of a promotable clone, and no promotable clone wraps ${id}: drop role`,
      );
  }

  for (const service of Object.keys(document.virtual_services))
    checkBesideItsVip(document, service, groupOf, problem);

  const known = (name: string) =>
    isPrimitive(name) ||
    Object.hasOwn(document.groups, name) ||
    Object.hasOwn(document.clones, name);
  const describeMissing = (name: string) =>
    `no resource, virtual service, group or clone named ${name}`;
  document.constraints.forEach((written, index) => {
    const path = ["constraints", index];
    if ("location" in written) {
      const c = written.location;
      if (!known(c.resource))
        problem([...path, "location", "resource"], describeMissing(c.resource));
      if (c.node !== undefined && !nodeNames.includes(c.node)) {
        problem(
          [...path, "location", "node"],
          `no node named ${c.node} (nodes: ${nodeNames.join(", ")})`,
        );
      }
      if (c.node === undefined && (c.rules === undefined || c.rules.length === 0)) {
        problem([...path, "location"], "a location constraint needs a node or rules");
      }
      model.constraints.push({
        kind: "location",
        id: c.id ?? `location-${index}`,
        resource: c.resource,
        ...(c.node !== undefined ? { node: c.node } : {}),
        ...(c.rules !== undefined
          ? {
              rules: c.rules.map((rule) => ({
                attribute: rule.attribute,
                op: rule.op,
                ...(rule.value !== undefined ? { value: String(rule.value) } : {}),
              })),
            }
          : {}),
        score: score(c.score),
      } satisfies Constraint);
    } else if ("colocation" in written) {
      const c = written.colocation;
      for (const [key, name] of [
        ["resource", c.resource],
        ["with", c.with],
      ] as const)
        if (!known(name)) problem([...path, "colocation", key], describeMissing(name));
      if (c.resource === c.with)
        problem([...path, "colocation"], "a resource cannot be colocated with itself");
      model.constraints.push({
        kind: "colocation",
        id: c.id ?? `colocation-${index}`,
        resource: c.resource,
        with: c.with,
        score: score(c.score),
        ...(c.with_role !== undefined ? { withRole: c.with_role } : {}),
      });
    } else {
      const c = written.order;
      for (const [key, name] of [
        ["first", c.first],
        ["then", c.then],
      ] as const)
        if (!known(name)) problem([...path, "order", key], describeMissing(name));
      if (c.first === c.then)
        problem([...path, "order"], "a resource cannot be ordered after itself");
      model.constraints.push({
        kind: "order",
        id: c.id ?? `order-${index}`,
        first: c.first,
        then: c.then,
        strength: c.kind,
        ...(c.first_action !== undefined ? { firstAction: c.first_action } : {}),
        ...(c.then_action !== undefined ? { thenAction: c.then_action } : {}),
      });
    }
  });
  return { model, problems };
}

/**
 * A virtual service runs where its VIP's address is, and after it: the two in one group, the
 * VIP first (the group moves them together and starts them in that order).
 */
function checkBesideItsVip(
  document: ResourceDocument,
  service: string,
  groupOf: ReadonlyMap<string, string>,
  problem: (path: ConfigPath, message: string) => void,
): void {
  const vip = document.virtual_services[service]?.vip ?? "";
  if (!Object.hasOwn(document.resources, vip)) return; // named by readVirtualServices
  const group = groupOf.get(service);
  const written = group === undefined ? undefined : document.groups[group];
  const members = written === undefined ? [] : Array.isArray(written) ? written : written.members;
  const vipAt = members.indexOf(vip);
  if (group !== undefined && vipAt >= 0 && vipAt < members.indexOf(service)) return;
  problem(
    ["virtual_services", service, "vip"],
    `${service} must run where ${vip} runs, after it: put both in one group, ${vip} first (groups: { NAME: [${vip}, ${service}] })`,
  );
}
