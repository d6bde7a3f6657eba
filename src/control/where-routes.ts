import type { ClusterState } from "../state/types.js";
import { EventStreamReply, type SendEvent } from "./event-stream.js";
import { checkResourceName } from "./known-names.js";
import { queryParameters, RequestError, type Route } from "./route.js";

export interface WhereDeps {
  nodeName: string;
  state(): ClusterState;
  resourceIds(): string[];
  /** The placement keys a resource name stands for (a group: its members; a clone: its copies). */
  keysOf(resource: string, state: ClusterState): string[];
  /** What runs on this node now (the node's own view, not the last report). */
  running(): Array<{ resource: string; role: string }>;
  /** Whether this node may run resources now: it holds its lease, or is told to ignore quorum. */
  mayRun(): boolean;
  /** Calls back after every state change this node applies (for GET /v1/where?follow=1). */
  onStateChange(callback: () => void): void;
}

export interface WhereReply {
  resource: string;
  answeredBy: string;
  stateVersion: number;
  /** Every copy the replicated state records running, with the node's last reported role. */
  copies: Array<{ key: string; node: string; role: string }>;
}

/** Patroni's names: the node with the promoted copy, one with an unpromoted copy, any copy. */
const HEALTH_ROLES = {
  primary: (role: string) => role === "promoted",
  replica: (role: string) => role === "unpromoted",
  running: (_role: string) => true,
} as const;
type HealthRole = keyof typeof HEALTH_ROLES;

export interface HealthReply {
  resource: string;
  node: string;
  check: HealthRole;
  key: string;
  role: string;
}

/**
 * Where a resource runs (`vigil where`, GET /v1/where; with ?follow=1 a stream of server-sent
 * `where` events, the answer at once and again whenever it changes) and health endpoints in Patroni's style
 * (GET /v1/health/RESOURCE/primary|replica|running): 200 on a node that runs the copy asked for
 * now, under a lease; 503 elsewhere, saying where it runs. A load balancer's health check
 * (HAProxy's `option httpchk`) asks every node and sends clients to the one that answers 200.
 */
export function whereRoutes(deps: WhereDeps): Record<string, Route> {
  const followers = new WhereFollowers(deps);
  return {
    "GET /v1/where": (_body, query): WhereReply | EventStreamReply => {
      const { resource, follow } = queryParameters(query, ["resource", "follow"]);
      if (resource === undefined) throw new RequestError(400, "give ?resource=NAME");
      if (follow !== undefined && follow !== "1" && follow !== "0")
        throw new RequestError(400, `follow is 1 (a stream of changes) or 0, not "${follow}"`);
      checkResourceName(deps.resourceIds(), resource);
      if (follow === "1") return new EventStreamReply((send) => followers.add(resource, send));
      return whereNow(deps, resource);
    },
    "GET /v1/health/:resource/:check": (_body, query): HealthReply => {
      const { resource, check } = queryParameters(query, ["resource", "check"]);
      if (resource === undefined || check === undefined) throw new RequestError(404, "no route");
      if (!Object.hasOwn(HEALTH_ROLES, check))
        throw new RequestError(
          404,
          `no health check ${check}: ask primary, replica or running (/v1/health/${resource}/primary)`,
        );
      checkResourceName(deps.resourceIds(), resource);
      const state = deps.state();
      const keys = new Set(deps.keysOf(resource, state));
      const wanted = HEALTH_ROLES[check as HealthRole];
      const here = deps.running().find((copy) => keys.has(copy.resource) && wanted(copy.role));
      const elsewhere = copiesOf(deps, resource, state)
        .filter((copy) => wanted(copy.role) && copy.node !== deps.nodeName)
        .map((copy) => copy.node);
      const where =
        elsewhere.length === 0 ? "nowhere else" : `on ${[...new Set(elsewhere)].join(", ")}`;
      if (here === undefined)
        throw new RequestError(503, `${resource}: no ${check} copy on ${deps.nodeName} (${where})`);
      if (!deps.mayRun())
        throw new RequestError(
          503,
          `${resource}: ${deps.nodeName} runs it but holds no lease (cut off from the quorum): it is being stopped here`,
        );
      return {
        resource,
        node: deps.nodeName,
        check: check as HealthRole,
        key: here.resource,
        role: here.role,
      };
    },
  };
}

function whereNow(deps: WhereDeps, resource: string): WhereReply {
  const state = deps.state();
  return {
    resource,
    answeredBy: deps.nodeName,
    stateVersion: state.version,
    copies: copiesOf(deps, resource, state),
  };
}

/**
 * The open GET /v1/where?follow=1 streams: each is sent the answer at once, then again after a
 * state change that changed its copies (not after every change: a follower reacts to moves).
 * One state listener for them all, registered with the first.
 */
class WhereFollowers {
  private readonly open = new Set<() => void>();
  private listening = false;

  constructor(private readonly deps: WhereDeps) {}

  /** Starts following `resource` into `send`; returns what ends it. */
  add(resource: string, send: SendEvent): () => void {
    let last = "";
    const update = () => {
      const answer = whereNow(this.deps, resource);
      const copies = JSON.stringify(answer.copies);
      if (copies === last) return;
      last = copies;
      send("where", answer);
    };
    update();
    this.open.add(update);
    if (!this.listening) {
      this.listening = true;
      this.deps.onStateChange(() => {
        for (const each of this.open) each();
      });
    }
    return () => this.open.delete(update);
  }
}

function copiesOf(deps: WhereDeps, resource: string, state: ClusterState): WhereReply["copies"] {
  const copies: WhereReply["copies"] = [];
  for (const key of deps.keysOf(resource, state).sort()) {
    const byNode = Object.hasOwn(state.resources, key) ? state.resources[key] : undefined;
    for (const [node, cell] of Object.entries(byNode ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
      if (cell.active !== undefined) copies.push({ key, node, role: cell.active });
  }
  return copies;
}
