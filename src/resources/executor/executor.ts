/**
 * Runs resource agent operations: one at a time per resource (start and monitor of one resource
 * never overlap), in parallel across resources. Every operation has a deadline; when it passes,
 * the operation's processes are killed (see ChildProcessRunner) and the result is "timeout".
 * Keeps a bounded history of operations per resource for status and fail-count decisions.
 */

import { readFile, unlink } from "node:fs/promises";
import { pacemakerShimEnvironment } from "../../pacemaker/shim-environment.js";
import { formatAgentRef } from "../../resource-model/agent-ref.js";
import type { AgentRef } from "../../resource-model/types.js";
import type { Clock } from "../../time/clock.js";
import { timerDelayProblem } from "../../time/timer-delay.js";
import type {
  ActionOutcome,
  AgentContext,
  MonitorOutcome,
  ResourceAgent,
} from "../agents/agent.js";
import { type AgentPaths, createAgent } from "../agents/create-agent.js";
import type { AgentMetadata } from "../agents/metadata.js";
import {
  failureSeverity,
  OCF_ERR_GENERIC,
  OCF_ERR_UNIMPLEMENTED,
  OCF_NOT_RUNNING,
  OCF_RUNNING_PROMOTED,
  OCF_SUCCESS,
  type OcfExitCode,
} from "../agents/ocf-codes.js";
import type {
  OperationOutcome,
  OperationRecord,
  OperationRequest,
  OperationResult,
  OperationRunner,
} from "./operation.js";
import {
  agentBasePath,
  ChildProcessRunner,
  type CommandSpec,
  type ProcessRunner,
} from "./process-runner.js";
import { readReplicationOffset } from "./replication-offset-reader.js";

export interface ExecutorOptions {
  clock: Clock;
  /** This node's name, passed to agents (VIGIL_NODE, OCF_RESKEY_CRM_meta_on_node). */
  nodeName?: string;
  /**
   * The agent's control socket: with nodeName, script agents find Vigil's Pacemaker commands
   * first on PATH (src/pacemaker/), answered through it.
   */
  controlSocket?: string;
  runner?: ProcessRunner;
  /** Builds agents; defaults to createAgent with the standard paths. */
  createAgent?: (ref: AgentRef) => ResourceAgent;
  agentPaths?: AgentPaths;
  /** Operations kept per resource (oldest dropped first). */
  historyLimit?: number;
  /** Operations waiting per resource; more are refused, since they show a stuck agent. */
  queueLimit?: number;
  /**
   * After the deadline, how long to wait for the agent to finish killing its processes before
   * reporting the timeout anyway. Covers the runner's SIGTERM→SIGKILL grace.
   */
  settleGraceMs?: number;
  /** Every finished operation, as kept in the history (the API's metrics). */
  onOperation?(record: OperationRecord): void;
}

export class ExecutorQueueFullError extends Error {
  constructor(resourceId: string, limit: number) {
    super(`resource ${resourceId} already has ${limit} operations waiting; refusing another`);
    this.name = "ExecutorQueueFullError";
  }
}

interface ResourceLane {
  tail: Promise<unknown>;
  waiting: number;
  agent?: { key: string; agent: ResourceAgent };
  history: OperationRecord[];
}

export class Executor implements OperationRunner {
  private readonly lanes = new Map<string, ResourceLane>();
  private readonly clock: Clock;
  private readonly runner: ProcessRunner;
  private readonly makeAgent: (ref: AgentRef) => ResourceAgent;
  private readonly historyLimit: number;
  private readonly queueLimit: number;
  private readonly settleGraceMs: number;
  private readonly nodeName: string | undefined;
  private readonly controlSocket: string | undefined;
  /** Numbers each operation's refusals file. */
  private operationSeq = 0;
  private readonly onOperation: ((record: OperationRecord) => void) | undefined;

  constructor(options: ExecutorOptions) {
    this.clock = options.clock;
    this.runner = options.runner ?? new ChildProcessRunner();
    this.makeAgent = options.createAgent ?? ((ref) => createAgent(ref, options.agentPaths));
    this.historyLimit = options.historyLimit ?? 50;
    this.queueLimit = options.queueLimit ?? 16;
    this.settleGraceMs = options.settleGraceMs ?? 5_000;
    this.nodeName = options.nodeName;
    this.controlSocket = options.controlSocket;
    this.onOperation = options.onOperation;
  }

  run(
    resourceId: string,
    request: OperationRequest,
    cancel?: AbortSignal,
  ): Promise<OperationResult> {
    if (!(request.timeoutMs > 0)) {
      throw new RangeError(
        `operation ${request.operation} of ${resourceId}: timeoutMs must be > 0`,
      );
    }
    // The deadline is a timer: one it cannot hold would end the operation after 1 ms.
    const tooLong = timerDelayProblem(request.timeoutMs);
    if (tooLong !== null)
      throw new RangeError(
        `operation ${request.operation} of ${resourceId}: timeout is ${tooLong}`,
      );
    const lane = this.lane(resourceId);
    if (lane.waiting >= this.queueLimit)
      throw new ExecutorQueueFullError(resourceId, this.queueLimit);
    lane.waiting += 1;
    const result = lane.tail.then(async () => {
      lane.waiting -= 1;
      const record = await this.execute(resourceId, lane, request, cancel);
      const { metadata: _, ...entry } = record;
      lane.history.push(entry);
      if (lane.history.length > this.historyLimit) lane.history.shift();
      this.onOperation?.(entry);
      return record;
    });
    lane.tail = result.catch(() => undefined);
    return result;
  }

  /** Oldest first, at most historyLimit entries. */
  history(resourceId: string): readonly OperationRecord[] {
    return [...(this.lanes.get(resourceId)?.history ?? [])];
  }

  private lane(resourceId: string): ResourceLane {
    let lane = this.lanes.get(resourceId);
    if (!lane) {
      lane = { tail: Promise.resolve(), waiting: 0, history: [] };
      this.lanes.set(resourceId, lane);
    }
    return lane;
  }

  /** One agent per resource, kept between operations: the vip agent's stop cancels its start's ARPs. */
  private agentFor(lane: ResourceLane, ref: AgentRef): ResourceAgent {
    const key = formatAgentRef(ref);
    if (lane.agent?.key !== key) lane.agent = { key, agent: this.makeAgent(ref) };
    return lane.agent.agent;
  }

  private async execute(
    resourceId: string,
    lane: ResourceLane,
    request: OperationRequest,
    cancel: AbortSignal | undefined,
  ): Promise<OperationResult> {
    const startedAtMs = this.clock.nowMs();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), request.timeoutMs);
    const onCancel = () => deadline.abort();
    if (cancel?.aborted) deadline.abort();
    else cancel?.addEventListener("abort", onCancel, { once: true });
    let stderrTail = "";
    const runner = this.runner;
    const refusalsFile =
      this.controlSocket === undefined || this.nodeName === undefined
        ? undefined
        : `${this.controlSocket}.refused-${++this.operationSeq}`;
    const environment = {
      ...(refusalsFile === undefined
        ? {}
        : pacemakerShimEnvironment({
            socketPath: this.controlSocket as string,
            nodeName: this.nodeName as string,
            basePath: agentBasePath(),
            refusalsFile,
          })),
      ...request.environment,
    };
    const ctx: AgentContext = {
      resourceId,
      ...(this.nodeName === undefined ? {} : { nodeName: this.nodeName }),
      params: request.params,
      timeoutMs: request.timeoutMs,
      ...(request.intervalMs === undefined ? {} : { intervalMs: request.intervalMs }),
      ...(Object.keys(environment).length === 0 ? {} : { environment }),
      signal: deadline.signal,
      runner,
      run: async (command: Omit<CommandSpec, "signal">) => {
        const outcome = await runner.run({ ...command, signal: deadline.signal });
        if (outcome.stderrTail !== "") stderrTail = outcome.stderrTail;
        return outcome;
      },
    };

    let answer: Answer;
    try {
      answer = await this.settle(
        this.ask(this.agentFor(lane, request.agent), request, ctx),
        deadline.signal,
      );
    } catch (error) {
      answer = {
        outcome: "failed",
        code: OCF_ERR_GENERIC,
        reason: `agent error: ${(error as Error).message}`,
      };
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener("abort", onCancel);
    }
    if (deadline.signal.aborted) {
      answer = {
        outcome: "timeout",
        code: OCF_ERR_GENERIC,
        reason:
          cancel?.aborted === true
            ? `${request.operation} cancelled after ${Math.round(this.clock.nowMs() - startedAtMs)} ms`
            : `${request.operation} did not finish within ${request.timeoutMs} ms`,
      };
    }
    const refused = refusalsFile === undefined ? null : await takeRefusals(refusalsFile);
    if (refused !== null && answer.outcome !== "timeout") {
      // Whatever the agent made of the command's failure, it ran without what it asked for.
      answer = { outcome: "failed", code: OCF_ERR_UNIMPLEMENTED, reason: refused };
    }
    const failed = answer.outcome === "failed" || answer.outcome === "timeout";
    const offset =
      request.replicationOffset !== undefined &&
      (answer.outcome === "running" || answer.outcome === "running_promoted")
        ? await readReplicationOffset(request.replicationOffset, runner, {
            resourceId,
            params: request.params,
            environment,
          })
        : undefined;
    return {
      resourceId,
      operation: request.operation,
      outcome: answer.outcome,
      exitCode: answer.code,
      ...(failed ? { severity: failureSeverity(answer.code) } : {}),
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
      startedAtMs,
      durationMs: Math.max(0, this.clock.nowMs() - startedAtMs),
      stderrTail,
      ...(answer.metadata ? { metadata: answer.metadata } : {}),
      ...(answer.promotionScore === undefined ? {} : { promotionScore: answer.promotionScore }),
      ...(offset === undefined
        ? {}
        : "offset" in offset
          ? { replicationOffset: offset.offset }
          : { replicationOffsetProblem: offset.problem }),
    };
  }

  /**
   * The agent's answer, or — once the deadline passed and the agent still has not answered after
   * settleGraceMs (a built-in agent awaiting something that ignores the signal) — a timeout, so
   * one stuck agent cannot block its resource's queue forever.
   */
  private settle(answer: Promise<Answer>, signal: AbortSignal): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      const onAbort = () => {
        grace = setTimeout(
          () => resolve({ outcome: "timeout", code: OCF_ERR_GENERIC }),
          this.settleGraceMs,
        );
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      answer.then(resolve, reject).finally(() => {
        clearTimeout(grace);
        signal.removeEventListener("abort", onAbort);
      });
    });
  }

  private async ask(
    agent: ResourceAgent,
    request: OperationRequest,
    ctx: AgentContext,
  ): Promise<Answer> {
    switch (request.operation) {
      case "start":
        return fromAction(await agent.start(ctx));
      case "stop":
        return fromAction(await agent.stop(ctx));
      case "promote":
        return agent.promote
          ? fromAction(await agent.promote(ctx))
          : unimplemented(agent, "promote");
      case "demote":
        return agent.demote ? fromAction(await agent.demote(ctx)) : unimplemented(agent, "demote");
      case "notify":
        return agent.notify ? fromAction(await agent.notify(ctx)) : unimplemented(agent, "notify");
      case "monitor":
        return fromMonitor(await agent.monitor(ctx));
      case "meta-data": {
        if (!agent.metaData) return unimplemented(agent, "meta-data");
        const metadata: AgentMetadata = await agent.metaData(ctx);
        return { outcome: "success", code: OCF_SUCCESS, metadata };
      }
    }
  }
}

interface Answer {
  outcome: OperationOutcome;
  code: OcfExitCode;
  reason?: string;
  metadata?: AgentMetadata;
  promotionScore?: number;
}

function fromAction(action: ActionOutcome): Answer {
  return {
    outcome: action.code === OCF_SUCCESS ? "success" : "failed",
    code: action.code,
    ...(action.reason === undefined ? {} : { reason: action.reason }),
  };
}

function fromMonitor(monitor: MonitorOutcome): Answer {
  const score =
    monitor.state !== "failed" && monitor.promotionScore !== undefined
      ? { promotionScore: monitor.promotionScore }
      : {};
  switch (monitor.state) {
    case "running":
      return { outcome: "running", code: OCF_SUCCESS, ...score };
    case "running_promoted":
      return { outcome: "running_promoted", code: OCF_RUNNING_PROMOTED, ...score };
    case "not_running":
      return { outcome: "not_running", code: OCF_NOT_RUNNING };
    case "failed":
      return { outcome: "failed", code: monitor.code, reason: monitor.reason };
  }
}

/** What the operation's refused Pacemaker commands said (null: none was), the file removed. */
async function takeRefusals(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    return `cannot read what the Pacemaker commands refused: ${(error as Error).message}`;
  }
  await unlink(file).catch(() => {});
  const lines = [...new Set(text.split("\n").filter((line) => line !== ""))];
  return lines.join("; ").slice(0, 300);
}

function unimplemented(agent: ResourceAgent, operation: string): Answer {
  return {
    outcome: "failed",
    code: OCF_ERR_UNIMPLEMENTED,
    reason: `agent ${formatAgentRef(agent.ref)} does not implement ${operation}`,
  };
}
