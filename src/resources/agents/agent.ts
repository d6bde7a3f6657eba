/**
 * What every resource agent offers the executor. An agent answers in OCF terms whatever it runs
 * underneath (a built-in, an OCF script, an LSB init script, a systemd unit), so the policy engine
 * sees one vocabulary.
 */

import type { AgentRef } from "../../resource-model/types.js";
import type { CommandSpec, ProcessOutcome, ProcessRunner } from "../executor/process-runner.js";
import type { AgentMetadata } from "./metadata.js";
import type { OcfExitCode } from "./ocf-codes.js";

export interface AgentContext {
  resourceId: string;
  /** The node the operation runs on, when the executor knows it (agents pass it on). */
  nodeName?: string;
  params: Readonly<Record<string, string>>;
  /** The operation's whole budget; `signal` fires when it is spent. */
  timeoutMs: number;
  /** Recurring monitors only: passed to OCF agents as OCF_RESKEY_CRM_meta_interval. */
  intervalMs?: number;
  /** Extra environment for script agents: what the cluster knows that the agent may need. */
  environment?: Readonly<Record<string, string>>;
  signal: AbortSignal;
  /**
   * Runs a command bound to this operation: ended when `signal` fires (or its own, shorter
   * `timeoutMs` passes), its stderr kept for the operation's history.
   */
  run(command: Omit<CommandSpec, "signal">): Promise<ProcessOutcome>;
  /** For work that outlives the operation (the vip agent's repeated gratuitous ARPs). */
  runner: ProcessRunner;
}

/** Result of start, stop, promote, demote. `reason` explains a failure (OCF's exit reason). */
export interface ActionOutcome {
  code: OcfExitCode;
  reason?: string;
}

/**
 * `promotionScore`: how good a primary this copy would make (e.g. a replica's replication
 * offset), for promotable clones; higher is promoted first (the agent's crm_master).
 */
export type MonitorOutcome =
  | { state: "running" | "running_promoted" | "not_running"; promotionScore?: number }
  | { state: "failed"; code: OcfExitCode; reason: string };

export interface ResourceAgent {
  readonly ref: AgentRef;
  start(ctx: AgentContext): Promise<ActionOutcome>;
  stop(ctx: AgentContext): Promise<ActionOutcome>;
  monitor(ctx: AgentContext): Promise<MonitorOutcome>;
  promote?(ctx: AgentContext): Promise<ActionOutcome>;
  demote?(ctx: AgentContext): Promise<ActionOutcome>;
  /** Pacemaker's clone notification; what it is about comes in the OCF_RESKEY_CRM_meta_notify_* environment. */
  notify?(ctx: AgentContext): Promise<ActionOutcome>;
  metaData?(ctx: AgentContext): Promise<AgentMetadata>;
}

export function success(): ActionOutcome {
  return { code: 0 };
}

export function failure(code: OcfExitCode, reason: string): ActionOutcome {
  return { code, reason };
}
