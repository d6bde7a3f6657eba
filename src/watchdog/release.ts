import { Executor } from "../resources/executor/executor.js";
import type { OperationRunner } from "../resources/executor/operation.js";
import { systemClock } from "../time/clock.js";
import type { HeldResource } from "./guard-protocol.js";

type Log = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface ReleaseOptions {
  /** Latest held first (GuardState's order). */
  held: HeldResource[];
  /** The lease's end and its grace on `clock`: stops still running then are too late; null: none. */
  releaseByMs: number | null;
  /** This node's name, for the agents (VIGIL_NODE, OCF_RESKEY_CRM_meta_on_node). */
  nodeName?: string;
  clock: () => number;
  log: Log;
  /** Builds the executor; the default runs the real agents. */
  executor?: OperationRunner;
}

export interface ReleaseOutcome {
  /** Every held resource stopped in time. */
  ok: boolean;
  /** Why not, one line per resource (empty when ok). */
  problems: string[];
}

function isAddress(resource: HeldResource): boolean {
  return resource.agent.kind === "vip";
}

/**
 * Stops what the dead or hung agent held: virtual IPs first, then the rest one after the other
 * (newest first, as the agent's own stops go: group members and ordered resources depend on
 * the ones before them),
 * each with its own stop timeout, cut short at the lease's end: a stop still running then may
 * overlap a start elsewhere, so the caller fences. The same executor and agents as the agent's,
 * with the same requests, so a stop here is the stop the agent would have run.
 */
export async function releaseHeld(options: ReleaseOptions): Promise<ReleaseOutcome> {
  const { held, releaseByMs, clock, log } = options;
  const executor =
    options.executor ??
    new Executor({
      clock: systemClock,
      ...(options.nodeName === undefined ? {} : { nodeName: options.nodeName }),
      // A stop that ignores its deadline must not hold the release up much beyond it.
      settleGraceMs: 200,
    });
  const problems: string[] = [];
  const leftMs = () => (releaseByMs === null ? Number.POSITIVE_INFINITY : releaseByMs - clock());
  /** A promotable copy is demoted first, as its agent expects; whatever the outcome, stopped. */
  const demote = async (resource: HeldResource, timeoutMs: number): Promise<void> => {
    const left = leftMs();
    if (left <= 0) return;
    const started = clock();
    try {
      const result = await executor.run(resource.key, {
        operation: "demote",
        agent: resource.agent,
        params: resource.params,
        timeoutMs: Math.max(1, Math.floor(Math.min(timeoutMs, left))),
        ...(resource.environment === undefined ? {} : { environment: resource.environment }),
      });
      const ms = Math.round(clock() - started);
      if (result.outcome === "success")
        log("info", `demoted ${resource.key}`, { resource: resource.key, ms });
      else
        log(
          "warn",
          `could not demote ${resource.key}: ${result.reason ?? result.outcome}; stopping it anyway`,
          {
            resource: resource.key,
            ms,
          },
        );
    } catch (error) {
      log("warn", `could not demote ${resource.key}: ${String(error)}; stopping it anyway`, {
        resource: resource.key,
      });
    }
  };
  const stop = async (resource: HeldResource): Promise<void> => {
    if (resource.demoteTimeoutMs !== undefined) await demote(resource, resource.demoteTimeoutMs);
    const left = leftMs();
    if (left <= 0) {
      problems.push(`${resource.key}: not stopped before the lease ended (and its grace)`);
      return;
    }
    const timeoutMs = Math.max(1, Math.floor(Math.min(resource.timeoutMs, left)));
    const started = clock();
    try {
      const result = await executor.run(resource.key, {
        operation: "stop",
        agent: resource.agent,
        params: resource.params,
        timeoutMs,
        ...(resource.environment === undefined ? {} : { environment: resource.environment }),
      });
      const ms = Math.round(clock() - started);
      if (result.outcome === "success") {
        log("info", `stopped ${resource.key}`, { resource: resource.key, ms });
        return;
      }
      const why =
        result.outcome === "timeout" && timeoutMs < resource.timeoutMs
          ? `stop did not finish within the ${timeoutMs} ms left of the lease and its grace`
          : (result.reason ?? result.outcome);
      problems.push(`${resource.key}: ${why}`);
      log("error", `could not stop ${resource.key}: ${why}`, {
        resource: resource.key,
        ms,
        exitCode: result.exitCode,
        stderr: result.stderrTail || undefined,
      });
    } catch (error) {
      problems.push(`${resource.key}: ${String(error)}`);
      log("error", `could not stop ${resource.key}: ${String(error)}`, { resource: resource.key });
    }
  };
  // Virtual IPs first, all at once: taking an address away depends on nothing, takes
  // milliseconds, and is what sends clients to the copy starting elsewhere.
  await Promise.all(held.filter(isAddress).map(stop));
  for (const resource of held.filter((r) => !isAddress(r))) await stop(resource);
  return { ok: problems.length === 0, problems };
}
