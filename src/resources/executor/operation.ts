/** What the executor is asked to do and what it reports back (and keeps in its history). */

import type { ReplicationOffsetSpec } from "../../resource-model/replication-offset.js";
import type { AgentRef, OperationName } from "../../resource-model/types.js";
import type { AgentMetadata } from "../agents/metadata.js";
import type { FailureSeverity, OcfExitCode } from "../agents/ocf-codes.js";

export interface OperationRequest {
  operation: OperationName;
  agent: AgentRef;
  params: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Recurring monitors: their interval, passed to OCF agents. */
  intervalMs?: number;
  /** Extra environment for script agents (see AgentContext.environment). */
  environment?: Readonly<Record<string, string>>;
  /** Monitors of a promotable copy whose clone reads replication offsets: read after it. */
  replicationOffset?: ReplicationOffsetSpec;
}

/**
 * success: start/stop/promote/demote/meta-data did what was asked. running, running_promoted,
 * not_running: what a monitor found. failed: the agent answered with an error. timeout: the
 * operation ran out of time and its processes were killed.
 */
export type OperationOutcome =
  | "success"
  | "running"
  | "running_promoted"
  | "not_running"
  | "failed"
  | "timeout";

export interface OperationRecord {
  resourceId: string;
  operation: OperationName;
  outcome: OperationOutcome;
  /** The OCF code the outcome maps to (a timeout counts as OCF_ERR_GENERIC). */
  exitCode: OcfExitCode;
  /** Failures and timeouts only: whether retrying on this node makes sense. */
  severity?: FailureSeverity;
  reason?: string;
  startedAtMs: number;
  durationMs: number;
  /** End of the stderr of the last command the operation ran that wrote to stderr. */
  stderrTail: string;
  /** Monitors of promotable copies: the score the agent gave (MonitorOutcome). */
  promotionScore?: number;
  /** Monitors that found the copy running, with replicationOffset asked: what was read. */
  replicationOffset?: number;
  /** ...or why no offset could be read. */
  replicationOffsetProblem?: string;
}

export interface OperationResult extends OperationRecord {
  /** meta-data operations only. */
  metadata?: AgentMetadata;
}

/**
 * What runs a node's operations, one at a time per resource: the Executor in the agent, and
 * whatever stands in for it where nothing may be started for real (a test, a simulator).
 */
export interface OperationRunner {
  /**
   * Runs one operation. Aborting `cancel` ends it early as a deadline would: its processes are
   * killed and the outcome is "timeout", with a reason that says it was cancelled.
   */
  run(
    resourceId: string,
    request: OperationRequest,
    cancel?: AbortSignal,
  ): Promise<OperationResult>;
}
