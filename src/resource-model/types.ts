/**
 * The resource model: what operators write under `resources:` / `constraints:` in the document
 * applied with `vigil config apply`, after validation. Shared by the validator (src/resources),
 * the policy engine (src/policy) and the executor (src/resources/executor). Names carry units.
 */

import type { ReplicationOffsetSpec } from "./replication-offset.js";

export type OperationName =
  | "start"
  | "stop"
  | "monitor"
  | "promote"
  | "demote"
  | "notify"
  | "meta-data";

export interface OperationSpec {
  timeoutMs: number;
  /** monitor only: how often; 0 disables. */
  intervalMs: number;
}

/** The roles of a promotable clone's copies, each of which may have its own monitor. */
export type MonitorRole = "promoted" | "unpromoted";

export type OnFail = "restart" | "move" | "standby" | "fence" | "ignore";

/**
 * Agent reference: `vip`, `exec:/path/to/script`, `ocf:heartbeat:IPaddr2`, `lsb:nginx`,
 * `systemd:nginx`; `director` is never written: a `virtual_services` entry becomes a primitive
 * with it (virtual-service.ts).
 */
export interface AgentRef {
  kind: "vip" | "exec" | "ocf" | "lsb" | "systemd" | "director";
  /**
   * exec: executable path; ocf: "provider/type"; lsb/systemd: script or unit name; vip: "vip";
   * director: "director".
   */
  name: string;
}

export interface Primitive {
  id: string;
  agent: AgentRef;
  params: Record<string, string>;
  /** Per node, the parameters that differ there (over `params`): see nodeParams. */
  paramsOn?: Record<string, Record<string, string>>;
  /** `monitor` here is the one of every role, or only the probe's when monitorsByRole is set. */
  operations: Partial<Record<OperationName, OperationSpec>>;
  /**
   * A promotable clone's copies monitored per role (Pacemaker's monitor with role=Promoted): the
   * recurring monitor of a copy is the one of its role; a role without one is not monitored.
   */
  monitorsByRole?: Partial<Record<MonitorRole, OperationSpec>>;
  meta: ResourceMeta;
}

export interface ResourceMeta {
  /** Score added to the node a resource runs on, so it does not move for nothing. */
  stickiness: number;
  /** Failures on a node before the resource is moved away from it (0 = never moved for failures). */
  migrationThreshold: number;
  /** Fail counts older than this are forgotten (0 = never). */
  failureTimeoutMs: number;
  onFail: OnFail;
  /** Heartbeat's auto_failback: return to the preferred node when it comes back. */
  autoFailback: boolean;
  /** Desired state: "started" (default) or "stopped". */
  targetRole: "started" | "stopped";
}

/** Started in order, stopped in reverse, always on one node together. */
export interface Group {
  id: string;
  members: string[];
  meta: ResourceMeta;
}

/** N copies on different nodes; promotable: one (or promotedMax) primary, the rest secondary. */
export interface Clone {
  id: string;
  /** A primitive or group id. */
  of: string;
  max: number;
  maxPerNode: 1;
  promotable: boolean;
  promotedMax: number;
  /** Pacemaker's clone notifications (takeover/notify-round.ts): sent only when true. */
  notify?: boolean;
  /** Promotable clones: how a copy's replication offset is read (the copy with the most wins). */
  replicationOffset?: ReplicationOffsetSpec;
  meta: ResourceMeta;
}

/** Node attribute rule: e.g. { attribute: "connectivity", op: "lt", value: "1" } → score. */
export interface Rule {
  attribute: string;
  op: "eq" | "ne" | "lt" | "lte" | "gt" | "gte" | "defined" | "not_defined";
  value?: string;
}

export type Score = number; // -INFINITY .. +INFINITY as ±1e6 (Pacemaker's convention)
export const INFINITY_SCORE = 1_000_000;

export type Constraint =
  | { kind: "location"; id: string; resource: string; node?: string; rules?: Rule[]; score: Score }
  | {
      kind: "colocation";
      id: string;
      resource: string;
      with: string;
      score: Score;
      /** Colocate with the promoted copy of a promotable clone. */
      withRole?: "promoted";
    }
  | {
      kind: "order";
      id: string;
      first: string;
      then: string;
      /** mandatory: then waits for first; optional: only ordered when both change together. */
      strength: "mandatory" | "optional";
      firstAction?: "start" | "promote";
      thenAction?: "start" | "promote";
    };

export interface ResourceModel {
  primitives: Record<string, Primitive>;
  groups: Record<string, Group>;
  clones: Record<string, Clone>;
  constraints: Constraint[];
  /**
   * Resources (primitive, group and clone ids) of a committed document that this node cannot
   * use, with why: never started, and left as they are where they run (usableResourceModel).
   * Absent or empty for a document that passed the checks.
   */
  unusable?: Record<string, string>;
}

/** The parameters a resource runs with on `node`: its `params`, and over them that node's own. */
export function nodeParams(primitive: Primitive, node: string): Record<string, string> {
  const own = primitive.paramsOn?.[node];
  return own === undefined ? primitive.params : { ...primitive.params, ...own };
}
