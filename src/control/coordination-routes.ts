import type { ConfigProblem } from "../config/errors.js";
import type { NodeConfig } from "../config/schema.js";
import type { ConnectivityStatus } from "../connectivity/monitor.js";
import type { Proposal, SubmitResult } from "../coordination/cluster-message.js";
import type { FenceDeviceEvent } from "../fencing/device-health.js";
import {
  SIMULATE_PARAMETERS,
  SimulateRequestError,
  simulatedChangeOf,
  simulationReply,
} from "../policy/simulate.js";
import type { PolicyInput } from "../policy/types.js";
import { describeProblems } from "../resource-check/check-document.js";
import { type Command, encodeCommand } from "../state/commands.js";
import type { ClusterState, FenceEvent, Incident } from "../state/types.js";
import type { LeaderStep } from "../takeover/leader-step.js";
import type { LocalResources } from "../takeover/local-resources.js";
import type { FenceDevicesReply } from "./fence-routes.js";
import { checkNodeName, checkResourceName } from "./known-names.js";
import {
  configApplyRequestSchema,
  membershipRequestSchema,
  parseRequest,
  runtimeRequestSchema,
} from "./request-schemas.js";
import { queryParameters, RequestError, type Route } from "./route.js";

export interface CoordinationRouteDeps {
  nodes: readonly NodeConfig[];
  nowMs(): number;
  /** The replicated state as this node last applied it. */
  state(): ClusterState;
  /** Proposes through Raft (forwarded to the leader when this node is not it). */
  submit(proposal: Proposal): Promise<SubmitResult>;
  policyInput(state: ClusterState): PolicyInput;
  /** The primitives, groups and clones of the committed configuration. */
  resourceIds(): string[];
  /** What is wrong with a resource document, its agents asked too (none: it may be applied). */
  checkDocument(document: unknown): Promise<ConfigProblem[]>;
  leaderStep(): LeaderStep | null;
  localResources: Pick<LocalResources, "running" | "quorum">;
  connectivity(): ConnectivityStatus | null;
  fenceDevices(): FenceDevicesReply;
  fenceDeviceEvents(): FenceDeviceEvent[];
}

/** The agent's `GET /v1/resources` reply, and the `resources` of its `GET /v1/status`. */
export interface ResourcesReply {
  /** Placement key → node → cell, as in the replicated state. */
  state: ClusterState["resources"];
  /** What this node runs, and whether an operation on it is in flight. */
  local: Array<{ resource: string; role: string; busy: boolean }>;
  quorum?: { leaseHeld: boolean; noQuorumPolicy: string };
  connectivity?: ConnectivityStatus | null;
  /** The replicated records of fences and incidents (older agents may not send them). */
  fenceHistory?: FenceEvent[];
  /** The fence devices this node monitors, and their events (older agents send neither). */
  fenceDevices?: FenceDevicesReply;
  fenceDeviceEvents?: FenceDeviceEvent[];
  incidents?: Incident[];
  /** The leader's last placement decision; null unless this node leads. */
  leader: null | {
    unplaceable: Array<{ resource: string; reason: string }>;
    blocked: Array<{ resource: string; reason: string }>;
    /** Promotable clones promoting nothing yet, and what they wait for (older agents: absent). */
    waiting?: Array<{ resource: string; reason: string }>;
    waitingForLease: string[];
    pendingActions: string[];
  };
}

/** Where the resources are, as this node sees them: the replicated cells and its own view. */
export function resourcesView(deps: CoordinationRouteDeps): ResourcesReply {
  const state = deps.state();
  const step = deps.leaderStep();
  return {
    state: state.resources,
    local: deps.localResources.running(),
    quorum: deps.localResources.quorum(),
    connectivity: deps.connectivity(),
    fenceHistory: state.fenceHistory,
    fenceDevices: deps.fenceDevices(),
    fenceDeviceEvents: deps.fenceDeviceEvents(),
    incidents: state.incidents,
    leader:
      step === null
        ? null
        : {
            unplaceable: step.policy.unplaceable,
            blocked: step.policy.blocked ?? [],
            waiting: step.policy.waiting ?? [],
            waitingForLease: step.waitingForLease,
            pendingActions: step.policy.actions.map((action) => action.id),
          },
  };
}

/** The routes that read the replicated state and propose changes to it. */
export function coordinationRoutes(deps: CoordinationRouteDeps): Record<string, Route> {
  const submitCommand = (command: Command) =>
    deps.submit({ kind: "command", payload: encodeCommand(command) });
  const atMs = () => Math.round(deps.nowMs());
  return {
    "GET /v1/config": () => {
      const { config, configurationVersion, version } = deps.state();
      return { ...config, configurationVersion, stateVersion: version };
    },
    "GET /v1/state": () => deps.state(),
    "GET /v1/policy-input": () => deps.policyInput(deps.state()),
    "GET /v1/resources": () => resourcesView(deps),
    "GET /v1/simulate": (_body, query) => {
      // GET with the what-if in the query: a read token may ask (nothing is changed).
      const spell = (parameter: string) => `query parameter ${parameter}`;
      try {
        const change = simulatedChangeOf(queryParameters(query, SIMULATE_PARAMETERS), spell);
        return simulationReply(deps.policyInput(deps.state()), change, spell);
      } catch (error) {
        if (error instanceof SimulateRequestError) throw new RequestError(400, error.message);
        throw error;
      }
    },
    "POST /v1/config": async (body): Promise<SubmitResult> => {
      const request = parseRequest(configApplyRequestSchema, body, "config apply");
      const problems = await deps.checkDocument(request.document);
      if (problems.length > 0) {
        throw new RequestError(422, `invalid configuration: ${describeProblems(problems)}`);
      }
      return submitCommand({ type: "config_apply", ...request, atMs: atMs() });
    },
    "POST /v1/runtime": async (body): Promise<SubmitResult> => {
      const request = parseRequest(runtimeRequestSchema, body, "runtime");
      if ("node" in request && request.node !== undefined) checkNodeName(deps.nodes, request.node);
      // A reset may name one copy of a clone ("web:1"), which the configuration does not list.
      if ("resource" in request && request.type !== "fail_count_reset") {
        checkResourceName(deps.resourceIds(), request.resource);
      }
      return submitCommand({ ...request, atMs: atMs() });
    },
    "POST /v1/membership": async (body): Promise<SubmitResult> => {
      const request = parseRequest(membershipRequestSchema, body, "membership");
      const node = deps.nodes.find((n) => n.name === request.node);
      if (node === undefined) {
        const names = deps.nodes.map((n) => n.name).join(", ");
        throw new RequestError(
          404,
          `no node named ${request.node} in the configuration (nodes: ${names})`,
        );
      }
      return deps.submit({ kind: "membership", action: request.action, nodeId: node.id });
    },
  };
}
