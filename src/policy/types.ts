import type { ResourceModel } from "../resource-model/types.js";

/**
 * The policy engine's contract: a pure function from cluster state to a target placement and an
 * ordered action graph. Clone instances are named "<clone>:<n>" (n from 0).
 */

export interface NodeView {
  name: string;
  /** Member of the cluster and reachable (not dead/left, not fenced). */
  online: boolean;
  standby: boolean;
  attributes: Record<string, string>;
}

export type RunRole = "started" | "promoted" | "unpromoted";

export interface Placed {
  node: string;
  role: RunRole;
  /**
   * The leader told it to run here. When a resource runs in two places (a split brain healed),
   * this copy is the cluster's and keeps its stickiness; the other is the one that goes.
   */
  instructed?: boolean;
}

export interface PolicyInput {
  model: ResourceModel;
  nodes: NodeView[];
  /** What runs where now (probed/monitored), per primitive or clone instance. */
  current: Record<string, Placed[]>;
  /** resource → node → failures and when the last one happened. */
  failCounts: Record<string, Record<string, { count: number; lastFailureAtMs: number }>>;
  /** Where each resource prefers to be: the node it ran on first (for auto_failback). */
  nowMs: number;
  /** Maintenance: compute nothing to do. */
  maintenance: boolean;
}

export type ActionOp = "start" | "stop" | "promote" | "demote";

export interface Action {
  /** Stable id, e.g. "stop web@node1". */
  id: string;
  resource: string;
  node: string;
  op: ActionOp;
  /** Ids of actions that must complete first. */
  after: string[];
}

export interface ScoreLine {
  resource: string;
  node: string;
  score: number;
  /** Why: "location pref-db1 +100", "stickiness +50", "node standby -INFINITY", ... */
  reasons: string[];
}

export interface PolicyOutput {
  /** Target placement for every primitive (and clone instance). Empty array: stopped. */
  placement: Record<string, Placed[]>;
  actions: Action[];
  scores: ScoreLine[];
  /** Resources that cannot run anywhere, with why (for status and `vigil explain`). */
  unplaceable: Array<{ resource: string; reason: string }>;
  /**
   * Resources left exactly as `current` reports them because they run on a node that is offline
   * and not yet cleared by the caller (lease expired / fenced): starting them elsewhere could run
   * them twice. No actions are emitted for them. Optional so older producers stay valid.
   */
  blocked?: Array<{ resource: string; reason: string }>;
  /** Promotable clones that promote no copy yet, and what they wait for (a copy's score). */
  waiting?: Array<{ resource: string; reason: string }>;
}
