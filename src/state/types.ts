import type { JsonObject } from "./json.js";

/** How many changes the history keeps: enough to explain a refused compare-and-set. */
export const HISTORY_LIMIT = 50;

/**
 * Whether a change is to the configuration an operator edits (the config document, node
 * attributes, standby, maintenance) or to what the cluster records at run time (fail counts,
 * placement). An operator's edit only conflicts with configuration changes, so a resource
 * failing while someone edits the file does not get the edit refused.
 */
export type ChangeScope = "configuration" | "runtime";

export interface AppliedConfig {
  /** The state version at which this document was applied; 0 before the first apply. */
  version: number;
  /** The resources/constraints section as parsed JSON; its schema is checked elsewhere. */
  document: JsonObject;
  /** The YAML exactly as applied, for `vigil config show`. */
  text: string;
  appliedAtMs: number;
  appliedBy: string;
}

export interface NodeState {
  attributes: Record<string, string>;
  standby: boolean;
}

export interface FailCount {
  count: number;
  lastFailureAtMs: number;
}

export interface HistoryEntry {
  version: number;
  summary: string;
  by: string;
  atMs: number;
  scope: ChangeScope;
}

/**
 * The replicated cluster state: every node holds the same value at the same log index because
 * it changes only by applying committed commands, in order, with `applyCommand`.
 */
export interface ClusterState {
  /** Increments on every successful command; refused commands leave it alone. */
  version: number;
  /** The version of the last configuration-scoped change: what operators' edits are checked against. */
  configurationVersion: number;
  config: AppliedConfig;
  /** Keyed by node name. A node appears once something has been recorded about it. */
  nodes: Record<string, NodeState>;
  maintenance: boolean;
  /** resource → node → failures since the last reset. */
  failCounts: Record<string, Record<string, FailCount>>;
  /** resource → the nodes it runs on, in the order given (for promotable resources, primary first). */
  placement: Record<string, string[]>;
  /** The last HISTORY_LIMIT successful changes, oldest first. */
  history: HistoryEntry[];
}

export type CommandResult = { ok: true; version: number } | { ok: false; error: string };
