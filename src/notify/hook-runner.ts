import type { ProcessRunner } from "../resources/executor/process-runner.js";
import type { NotificationEvent } from "../state/notification-events.js";
import type { HookTarget } from "./hook-target.js";

export type { HookTarget } from "./hook-target.js";

export type DeliveryOutcome = { ok: true } | { ok: false; reason: string };

export interface HookDelivery {
  hook: string;
  target: HookTarget;
  /** `seq`: a cluster-wide event's number in the cluster's order (VIGIL_SEQ). */
  event: NotificationEvent & { seq?: number };
  timeoutMs: number;
  /** The node delivering it (VIGIL_DELIVERED_BY), as receivers log it. */
  deliveredBy: string;
}

export type DeliverHook = (delivery: HookDelivery) => Promise<DeliveryOutcome>;

/** The event as VIGIL_* variables, for scripts that do not parse JSON. */
export function eventEnvironment(delivery: HookDelivery): Record<string, string> {
  const { event } = delivery;
  const env: Record<string, string> = {
    VIGIL_HOOK: delivery.hook,
    VIGIL_EVENT_ID: event.id,
    VIGIL_EVENT: event.kind,
    VIGIL_AT_MS: String(event.atMs),
    VIGIL_SOURCE: event.source,
    VIGIL_STATE_VERSION: String(event.stateVersion),
    VIGIL_DETAIL: event.detail,
    VIGIL_DELIVERED_BY: delivery.deliveredBy,
  };
  if (event.seq !== undefined) env.VIGIL_SEQ = String(event.seq);
  if (event.node !== undefined) env.VIGIL_NODE = event.node;
  if (event.resource !== undefined) env.VIGIL_RESOURCE = event.resource;
  if (event.fromNode !== undefined) env.VIGIL_FROM_NODE = event.fromNode;
  if (event.role !== undefined) env.VIGIL_ROLE = event.role;
  if (event.check !== undefined) env.VIGIL_CHECK = event.check;
  return env;
}

export function eventJson(delivery: HookDelivery): string {
  return `${JSON.stringify({ hook: delivery.hook, deliveredBy: delivery.deliveredBy, ...delivery.event })}\n`;
}

/**
 * Runs deliveries for real: an executable as a child process in its own group (killed with
 * everything it forked at the timeout; exit 0 is success), a webhook as a POST of the JSON
 * (any 2xx is success) carrying the event id as Idempotency-Key.
 */
export function realHookDelivery(processes: ProcessRunner): DeliverHook {
  return async (delivery) => {
    const { target } = delivery;
    if ("run" in target) {
      const outcome = await processes.run({
        file: target.run,
        args: target.args ?? [],
        env: eventEnvironment(delivery),
        stdin: eventJson(delivery),
        timeoutMs: delivery.timeoutMs,
        killGraceMs: 1000,
      });
      if (outcome.spawnError !== undefined)
        return { ok: false, reason: `could not run ${target.run}: ${outcome.spawnError.message}` };
      if (outcome.timedOut)
        return {
          ok: false,
          reason: `${target.run} did not finish within ${delivery.timeoutMs} ms`,
        };
      if (outcome.exitCode === 0) return { ok: true };
      const said = outcome.stderrTail.trim().split("\n").at(-1)?.slice(0, 300) ?? "";
      const how =
        outcome.exitCode === null
          ? `killed by ${outcome.exitSignal}`
          : `exit code ${outcome.exitCode}`;
      return { ok: false, reason: `${target.run}: ${how}${said === "" ? "" : `: ${said}`}` };
    }
    try {
      const response = await fetch(target.webhook, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": delivery.event.id },
        body: eventJson(delivery),
        signal: AbortSignal.timeout(delivery.timeoutMs),
        redirect: "error",
      });
      await response.body?.cancel();
      return response.ok
        ? { ok: true }
        : { ok: false, reason: `${target.webhook} answered ${response.status}` };
    } catch (error) {
      const name = (error as Error).name;
      return {
        ok: false,
        reason:
          name === "TimeoutError"
            ? `${target.webhook} did not answer within ${delivery.timeoutMs} ms`
            : `${target.webhook}: ${(error as Error).message}`,
      };
    }
  };
}
