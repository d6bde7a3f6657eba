/**
 * The cluster as Pacemaker's status commands show it (crm_mon, crm_resource --locate, cibadmin
 * -Q), made from the replicated state as this node applied it: the answer of `GET
 * /v1/pacemaker/cluster`, which the commands' renderers (src/pacemaker/*-output.ts) print.
 */

import { cloneInstanceKey } from "../policy/naming.js";
import type { RunRole } from "../policy/types.js";
import { formatAgentRef } from "../resource-model/agent-ref.js";
import type { Primitive, ResourceModel } from "../resource-model/types.js";
import type { ClusterState } from "../state/types.js";

export interface PacemakerNode {
  id: number;
  name: string;
  /** A member now, as this node sees it. */
  online: boolean;
  /** Standby by an operator, or its agent is stopping gracefully. */
  standby: boolean;
  /** Offline while the state still records resources there (not released, not fenced). */
  unclean: boolean;
}

/**
 * One placement key: a primitive, a group member, or a clone's copy, named as Vigil names it to
 * its agent (OCF_RESOURCE_INSTANCE): "web", "db-ha:0", "web-clone:1/ip".
 */
export interface PacemakerCopy {
  id: string;
  /** The primitive it is (a copy's primitive is what its clone wraps). */
  primitive: string;
  /** "ocf:heartbeat:redis", "exec:/usr/local/bin/x", "vip". */
  agent: string;
  /** Where its node reported it running, and in which role (a failed stop counts as running). */
  running: Array<{ node: string; role: RunRole }>;
  /** A stop failed: whether it still runs is unknown until cleanup. */
  failed: boolean;
}

export interface PacemakerGroup {
  id: string;
  members: PacemakerCopy[];
}

export type PacemakerResource =
  | { kind: "primitive"; copy: PacemakerCopy }
  | { kind: "group"; group: PacemakerGroup }
  | {
      kind: "clone";
      id: string;
      promotable: boolean;
      /** Copy 0 to max-1: a primitive's copies, or a cloned group's. */
      copies: Array<PacemakerCopy | PacemakerGroup>;
    };

export interface PacemakerClusterReply {
  /** The node that answered. */
  localNode: string;
  /** The state's version: the CIB's epoch. */
  stateVersion: number;
  quorate: boolean;
  nodes: PacemakerNode[];
  resources: PacemakerResource[];
  /** Cluster properties (crm_config). */
  properties: Record<string, string>;
  /** Node → its configured attributes with its run's transient ones over them. */
  nodeAttributes: Record<
    string,
    { forever: Record<string, string>; reboot: Record<string, string> }
  >;
}

export interface ClusterViewInput {
  state: ClusterState;
  model: ResourceModel;
  localNode: string;
  /** The nodes that run resources (witnesses are not Pacemaker nodes), in configured order. */
  nodes: ReadonlyArray<{ id: number; name: string }>;
  isUp(name: string): boolean;
  quorate: boolean;
}

export function pacemakerClusterView(input: ClusterViewInput): PacemakerClusterReply {
  const { state, model } = input;
  const copyOf = (key: string, id: string): PacemakerCopy => {
    const cells = Object.entries(state.resources[key] ?? {});
    const primitive: Primitive | undefined = model.primitives[id];
    return {
      id: key,
      primitive: id,
      agent: primitive === undefined ? "unknown" : formatAgentRef(primitive.agent),
      running: cells.flatMap(([node, cell]) =>
        cell.active === undefined ? [] : [{ node, role: cell.active }],
      ),
      failed: cells.some(([, cell]) => cell.stopFailed === true),
    };
  };
  const groupOf = (id: string, members: readonly string[], keyOf: (m: string) => string) => ({
    id,
    members: members.map((member) => copyOf(keyOf(member), member)),
  });
  const cloned = new Set(Object.values(model.clones).map((clone) => clone.of));
  const grouped = new Set(Object.values(model.groups).flatMap((group) => group.members));
  const resources: PacemakerResource[] = [
    ...Object.values(model.primitives)
      .filter((p) => !cloned.has(p.id) && !grouped.has(p.id))
      .map((p): PacemakerResource => ({ kind: "primitive", copy: copyOf(p.id, p.id) })),
    ...Object.values(model.groups)
      .filter((g) => !cloned.has(g.id))
      .map(
        (g): PacemakerResource => ({
          kind: "group",
          group: groupOf(g.id, g.members, (member) => member),
        }),
      ),
    ...Object.values(model.clones).map((clone): PacemakerResource => {
      const group = model.groups[clone.of];
      return {
        kind: "clone",
        id: clone.id,
        promotable: clone.promotable,
        copies: Array.from({ length: clone.max }, (_, index) =>
          group === undefined
            ? copyOf(cloneInstanceKey(clone.id, index), clone.of)
            : groupOf(cloneInstanceKey(clone.id, index), group.members, (member) =>
                cloneInstanceKey(clone.id, index, member),
              ),
        ),
      };
    }),
  ];
  const recordsResourcesOn = (name: string) =>
    Object.values(state.resources).some((byNode) => Object.hasOwn(byNode, name));
  return {
    localNode: input.localNode,
    stateVersion: state.version,
    quorate: input.quorate,
    nodes: input.nodes.map(({ id, name }) => {
      const online = name === input.localNode || input.isUp(name);
      return {
        id,
        name,
        online,
        standby:
          (state.nodes[name]?.standby ?? false) || (state.agents[name]?.shuttingDown ?? false),
        unclean: !online && recordsResourcesOn(name),
      };
    }),
    resources,
    properties: { ...state.clusterProperties },
    nodeAttributes: Object.fromEntries(
      input.nodes.map(({ name }) => [
        name,
        {
          forever: { ...state.nodes[name]?.attributes },
          reboot: { ...state.agents[name]?.attributes },
        },
      ]),
    ),
  };
}

/** Every placement key of the view, with the clone (or group) it belongs to. */
export function copiesOf(reply: PacemakerClusterReply): PlacedCopy[] {
  return reply.resources.flatMap(copiesOfResource);
}

export interface PlacedCopy {
  copy: PacemakerCopy;
  clone?: string;
  group?: string;
}

function copiesOfResource(resource: PacemakerResource): PlacedCopy[] {
  switch (resource.kind) {
    case "primitive":
      return [{ copy: resource.copy }];
    case "group":
      return resource.group.members.map((copy) => ({ copy, group: resource.group.id }));
    case "clone":
      return resource.copies.flatMap((copy) =>
        "members" in copy
          ? copy.members.map((member) => ({ copy: member, clone: resource.id, group: copy.id }))
          : [{ copy, clone: resource.id }],
      );
  }
}
