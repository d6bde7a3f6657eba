import { z } from "zod";
import { httpUrlSchema } from "./http-url.js";
import { entryNameSchema, namedSectionReader } from "./named-section.js";

/**
 * The `hooks` section of the resource document: what to run, or where to POST, when something
 * happens in the cluster. Replicated like the resources, so every node knows every hook, and a
 * cluster-wide hook survives the loss of the node that ran it.
 */

export const NOTIFICATION_KINDS = [
  "node_up",
  "node_dead",
  "link_up",
  "link_down",
  "quorum_lost",
  "quorum_regained",
  "resource_started",
  "resource_stopped",
  "resource_promoted",
  "resource_demoted",
  "resource_failed",
  "resource_moved",
  "fence_done",
  "fence_failed",
  "incident",
  "check_passing",
  "check_failing",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What only the node that sees it can know: a cluster-wide hook is never offered these. */
export const NODE_ONLY_KINDS: ReadonlySet<NotificationKind> = new Set([
  "link_up",
  "link_down",
  "quorum_lost",
  "quorum_regained",
  "check_passing",
  "check_failing",
]);

export const HOOK_QUEUE_MAX = 4096;
export const HOOK_QUEUE_DEFAULT = 256;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

const absoluteExecutable = z
  .string()
  .regex(
    /^\/[^\0]{0,1022}$/,
    "expected the absolute path of an executable, e.g. /usr/local/bin/page-oncall",
  );

const webhookUrl = httpUrlSchema("https://alerts.example.com/vigil");

const hookSchema = z
  .strictObject({
    /** Absent: every event this hook's place can see. */
    events: z.array(z.enum(NOTIFICATION_KINDS)).min(1, "expected at least one event").optional(),
    run: absoluteExecutable.optional(),
    webhook: webhookUrl.optional(),
    /** `cluster`: once for the cluster, on the leader. `node`: on every node, for what it saw. */
    where: z.enum(["cluster", "node"]).default("cluster"),
    timeout_ms: z
      .number()
      .int("expected a whole number of milliseconds")
      .min(100, "expected at least 100 ms")
      .max(10 * MINUTE_MS, `expected at most ${10 * MINUTE_MS} ms (ten minutes)`)
      .default(10_000),
    /** The first retry's wait; each next one doubles, up to max_retry_ms. */
    retry_ms: z
      .number()
      .int("expected a whole number of milliseconds")
      .min(10, "expected at least 10 ms")
      .max(HOUR_MS, `expected at most ${HOUR_MS} ms (an hour)`)
      .default(1000),
    max_retry_ms: z
      .number()
      .int("expected a whole number of milliseconds")
      .min(10, "expected at least 10 ms")
      .max(HOUR_MS, `expected at most ${HOUR_MS} ms (an hour)`)
      .default(MINUTE_MS),
    queue_limit: z
      .number()
      .int()
      .min(1, "expected at least 1")
      .max(HOOK_QUEUE_MAX, `expected at most ${HOOK_QUEUE_MAX}`)
      .default(HOOK_QUEUE_DEFAULT),
  })
  .superRefine((hook, ctx) => {
    if ((hook.run === undefined) === (hook.webhook === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "expected exactly one of run (an executable) or webhook (a URL)",
      });
    }
    if (hook.max_retry_ms < hook.retry_ms) {
      ctx.addIssue({
        code: "custom",
        path: ["max_retry_ms"],
        message: `expected at least retry_ms (${hook.retry_ms})`,
      });
    }
    if (hook.where === "cluster") {
      hook.events?.forEach((kind, index) => {
        if (NODE_ONLY_KINDS.has(kind))
          ctx.addIssue({
            code: "custom",
            path: ["events", index],
            message: `${kind} is seen by each node on its own: give this hook where: node`,
          });
      });
    }
  });

export const hooksSchema = z.record(entryNameSchema("hook", "pager"), hookSchema);

export type HookSpec = z.output<typeof hookSchema> & { name: string };

/** keepalived's notify_master/notify_backup, per resource: run where the transition happened. */
export const TRANSITION_SCRIPT_KINDS = ["started", "stopped", "promoted", "demoted"] as const;
export type TransitionScriptKind = (typeof TRANSITION_SCRIPT_KINDS)[number];

export const transitionScriptsSchema = z.strictObject({
  started: absoluteExecutable.optional(),
  stopped: absoluteExecutable.optional(),
  promoted: absoluteExecutable.optional(),
  demoted: absoluteExecutable.optional(),
});

export type TransitionScripts = z.output<typeof transitionScriptsSchema>;

/** The hooks of an applied document, by name. */
export const hooksOf: (document: object) => readonly HookSpec[] = namedSectionReader(
  "hooks",
  hooksSchema,
);

export function hookWants(hook: HookSpec, kind: NotificationKind): boolean {
  if (hook.events !== undefined) return hook.events.includes(kind);
  return hook.where === "node" || !NODE_ONLY_KINDS.has(kind);
}
