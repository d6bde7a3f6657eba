import type { CheckStatus } from "../checks/health-checks.js";
import type { DetectorConfig, Timing } from "../config/schema.js";
import type { CoordinationStatus } from "../coordination/coordinator.js";
import type { LinkCounters, LinkKind } from "../links/link.js";
import type { MembershipEvent, MembershipEventType, NodeStatus } from "../membership/types.js";
import type { HookStatus } from "../notify/notifier.js";
import type { ClusterTransportCounters } from "../transport/cluster-transport.js";
import type { RejectReason } from "../wire/message.js";
import type { ResourcesReply } from "./coordination-routes.js";

/** The agent's own view: membership, links, Raft (the heartbeat side of `GET /v1/status`). */
export interface AgentStatus {
  cluster: { name: string; id: number };
  node: { id: number; name: string; incarnation: number; startedAtMs: number };
  /** The agent's clock when the status was taken: `nowMs - lastHeardMs` is the silence. */
  nowMs: number;
  timing: Timing & { profile: string };
  detector: DetectorConfig;
  links: Array<{ name: string; kind: LinkKind; counters: LinkCounters }>;
  nodes: NodeStatus[];
  rejects: Record<RejectReason, number>;
  /** Raft role, term, leader, votes and commit index; null before coordination has started. */
  coordination: CoordinationStatus | null;
  /** Coordination messages sent alone / on heartbeats, received, duplicates dropped. */
  clusterTransport: ClusterTransportCounters | null;
  /** The last events, oldest first (bounded). */
  recentEvents: MembershipEvent[];
  /** How many events of each type since the agent started: false deaths show up here. */
  eventCounts: Partial<Record<MembershipEventType, number>>;
  /** Exceptions thrown in a timer or socket callback, contained and logged, per callback. */
  callbackFailures: Record<string, number>;
}

/**
 * What `GET /v1/status` returns (on the control socket and the network API) and `vigil status
 * --json` prints as it is: the agent's status and where the resources are (null before
 * coordination has started).
 */
export interface StatusReply extends AgentStatus {
  resources: ResourcesReply | null;
  /** This node's hook queues (cluster-wide hooks deliver only on the leader). */
  hooks: HookStatus[];
  /** The health checks running on this node, with their verdicts. */
  checks: CheckStatus[];
  /**
   * Applications' sessions and locks: open in the cluster and held, the sessions whose TTL
   * this agent keeps, its open session connections (older agents send none).
   */
  sessions?: SessionCounts;
}

export interface SessionCounts {
  sessions: number;
  locks: number;
  local: number;
  connections: number;
}
