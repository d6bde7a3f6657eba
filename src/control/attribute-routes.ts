import type { NodeConfig } from "../config/schema.js";
import type { SubmitResult } from "../coordination/cluster-message.js";
import { type PacemakerClusterReply, pacemakerClusterView } from "../pacemaker/cluster-view.js";
import type { PacemakerNodesReply } from "../pacemaker/nodes-output.js";
import type { ResourceModel } from "../resource-model/types.js";
import type { Command } from "../state/commands.js";
import type { ClusterState } from "../state/types.js";
import { checkNodeName } from "./known-names.js";
import {
  type AttributeRequest,
  attributeRequestSchema,
  banRequestSchema,
  parseRequest,
  propertyRequestSchema,
} from "./request-schemas.js";
import { queryParameters, RequestError, type Route } from "./route.js";

/*
 * Node attributes and membership as Pacemaker's commands ask for them (src/pacemaker/): what an
 * OCF agent reads and writes with crm_attribute, crm_master, attrd_updater and crm_node, the
 * cluster properties of crm_attribute --type crm_config, and the cluster as crm_mon,
 * crm_resource --locate and cibadmin -Q show it.
 */

export interface AttributeRouteDeps {
  localNode: string;
  nodes: readonly NodeConfig[];
  nowMs(): number;
  state(): ClusterState;
  submit(command: Command): Promise<SubmitResult>;
  /** This run's transient attribute, kept and committed until the state shows it. */
  setOwnAttribute(key: string, value: string | null): Promise<void>;
  /** Whether the node takes part in the cluster now, as this node sees it. */
  isUp(name: string): boolean;
  /** Whether this node's partition has quorum (it holds its lease). */
  quorate(): boolean;
  /** The resource model of the committed configuration, as this node uses it. */
  model(state: ClusterState): ResourceModel;
}

export function attributeRoutes(deps: AttributeRouteDeps): Record<string, Route> {
  const by = `agent@${deps.localNode}`;
  return {
    "GET /v1/attributes": (_body, query) => {
      const { node, key, lifetime } = queryParameters(query, ["node", "key", "lifetime"]);
      if (node === undefined || key === undefined) {
        throw new RequestError(400, "query parameters node and key are required");
      }
      if (lifetime !== "forever" && lifetime !== "reboot") {
        throw new RequestError(400, "query parameter lifetime must be reboot or forever");
      }
      checkNodeName(deps.nodes, node);
      const state = deps.state();
      const attributes =
        lifetime === "forever" ? state.nodes[node]?.attributes : state.agents[node]?.attributes;
      const value =
        attributes !== undefined && Object.hasOwn(attributes, key) ? attributes[key] : undefined;
      return { node, key, lifetime, value: value ?? null };
    },
    "POST /v1/attributes": async (body) => {
      const request = parseRequest(attributeRequestSchema, body, "attribute");
      checkNodeName(deps.nodes, request.node);
      const result = await submitAttribute(deps, request, by);
      if (result !== null && !result.ok) {
        throw new RequestError(503, `attribute ${request.key} not set: ${result.error}`);
      }
      return { ok: true };
    },
    "GET /v1/pacemaker/nodes": (): PacemakerNodesReply => ({
      nodes: deps.nodes.map((node) => ({
        id: node.id,
        name: node.name,
        member: node.name === deps.localNode || deps.isUp(node.name),
      })),
      quorate: deps.quorate(),
    }),
    "GET /v1/pacemaker/properties": (_body, query) => {
      const { name } = queryParameters(query, ["name"]);
      if (name === undefined) throw new RequestError(400, "query parameter name is required");
      const properties = deps.state().clusterProperties ?? {};
      return { name, value: Object.hasOwn(properties, name) ? properties[name] : null };
    },
    "POST /v1/pacemaker/properties": async (body) => {
      const { name, value } = parseRequest(propertyRequestSchema, body, "cluster property");
      const properties = deps.state().clusterProperties ?? {};
      if (value === null && !Object.hasOwn(properties, name)) return { ok: true };
      const result = await deps.submit({
        type: "cluster_property",
        name,
        value,
        by,
        atMs: Math.round(deps.nowMs()),
      });
      if (!result.ok)
        throw new RequestError(503, `cluster property ${name} not set: ${result.error}`);
      return { ok: true };
    },
    "POST /v1/pacemaker/ban": async (body) => {
      const request = parseRequest(banRequestSchema, body, "ban");
      checkNodeName(deps.nodes, request.node);
      const resource = bannedResourceOf(deps.model(deps.state()), request.resource);
      const result = await deps.submit({
        type: "resource_ban",
        resource,
        node: request.node,
        by,
        atMs: Math.round(deps.nowMs()),
      });
      if (!result.ok) throw new RequestError(503, `${resource} not banned: ${result.error}`);
      return { ok: true, resource };
    },
    "GET /v1/pacemaker/cluster": (): PacemakerClusterReply => {
      const state = deps.state();
      return pacemakerClusterView({
        state,
        model: deps.model(state),
        localNode: deps.localNode,
        nodes: deps.nodes.filter((node) => !node.witness),
        isUp: deps.isUp,
        quorate: deps.quorate(),
      });
    },
  };
}

/**
 * What a ban of `named` keeps off the node: a clone's copy (`db:1`) and what a clone wraps (an OCF
 * copy's OCF_RESOURCE_INSTANCE) name the clone, as a ban of them keeps every copy off in
 * Pacemaker; a resource the model does not have is refused.
 */
function bannedResourceOf(model: ResourceModel, named: string): string {
  const base = named.replace(/:\d+$/, "");
  if (Object.hasOwn(model.clones, base)) return base;
  const wrapping = Object.values(model.clones).find((clone) => clone.of === base);
  if (wrapping !== undefined) return wrapping.id;
  if (Object.hasOwn(model.primitives, named) || Object.hasOwn(model.groups, named)) return named;
  throw new RequestError(404, `no resource named ${named}`);
}

/** Commits the change; null when nothing was to be submitted (or this run keeps retrying it). */
async function submitAttribute(
  deps: AttributeRouteDeps,
  request: AttributeRequest,
  by: string,
): Promise<SubmitResult | null> {
  const { node, key, value } = request;
  const atMs = Math.round(deps.nowMs());
  const state = deps.state();
  if (request.lifetime === "forever") {
    const configured = state.nodes[node]?.attributes ?? {};
    if (value === null) {
      if (!Object.hasOwn(configured, key)) return null;
      return deps.submit({ type: "node_attribute_unset", node, key, by, atMs });
    }
    return deps.submit({ type: "node_attribute_set", node, key, value, by, atMs });
  }
  if (node === deps.localNode) {
    await deps.setOwnAttribute(key, value);
    return null;
  }
  // Another node's run holds it (Pacemaker lets any node write any node's transient attributes).
  const run = state.agents[node];
  if (run === undefined) {
    throw new RequestError(409, `node ${node} has no agent run to hold attribute ${key}`);
  }
  if (value === null && !Object.hasOwn(run.attributes ?? {}, key)) return null;
  return deps.submit({
    type: "node_transient_attribute",
    node,
    incarnation: run.incarnation,
    key,
    value,
    by,
    atMs,
  });
}
