import { z } from "zod";
import { entryNameSchema } from "../resource-model/named-section.js";
import { canonicalJson, isJsonObject, type JsonObject } from "./json.js";
import {
  actorSchema,
  attributeKeySchema,
  attributeValueSchema,
  epochMsSchema,
  fenceAttemptsSchema,
  lockDelayMsSchema,
  lockKeySchema,
  nodeNameSchema,
  resourceNameSchema,
  runSeqSchema,
  sessionIdSchema,
  sessionNameSchema,
  sessionTtlMsSchema,
  versionSchema,
} from "./names.js";
import { NOTIFY_OUTCOMES, NOTIFY_PHASES, notifyRoundSchema } from "./notify-rounds.js";
import { scorePollSchema } from "./score-polls.js";
import {
  type ChangeScope,
  FENCE_REQUEST_REASON_MAX_CHARS,
  SESSION_CHECKS_MAX,
  type SessionEndReason,
} from "./types.js";

/** Bounds one log entry: a configuration far larger than this is a mistake, not a cluster. */
export const CONFIG_TEXT_MAX_CHARS = 1_048_576;

/**
 * Fields every command carries. `atMs` is the proposer's clock, taken before proposing: the
 * state machine never reads a clock, so every node records the same time. `expectedVersion`
 * is the state version the change was based on (compare-and-set); absent means "whatever it is
 * now".
 */
const common = {
  by: actorSchema,
  atMs: epochMsSchema,
  expectedVersion: versionSchema.optional(),
};

/**
 * Kept as the same object that was parsed from the payload (not a copy zod builds), so that keys
 * such as "__proto__" stay plain data.
 */
const configDocumentSchema = z.custom<JsonObject>(isJsonObject, {
  message: "expected the configuration document to be a JSON object (a mapping)",
});

export const configApplyCommand = z.strictObject({
  type: z.literal("config_apply"),
  text: z
    .string()
    .max(
      CONFIG_TEXT_MAX_CHARS,
      `expected configuration text of at most ${CONFIG_TEXT_MAX_CHARS} characters`,
    ),
  document: configDocumentSchema,
  ...common,
  // Replacing the whole configuration blind would silently undo someone else's edit.
  expectedVersion: versionSchema,
});

const nodeAttributeSet = z.strictObject({
  type: z.literal("node_attribute_set"),
  node: nodeNameSchema,
  key: attributeKeySchema,
  value: attributeValueSchema,
  ...common,
});

const nodeAttributeUnset = z.strictObject({
  type: z.literal("node_attribute_unset"),
  node: nodeNameSchema,
  key: attributeKeySchema,
  ...common,
});

/**
 * A cluster property (Pacemaker's crm_config nvpairs) set (value) or removed (null): what agents
 * keep cluster-wide with `crm_attribute --type crm_config`, e.g. redis's last primary.
 */
export const clusterPropertyCommand = z.strictObject({
  type: z.literal("cluster_property"),
  name: attributeKeySchema,
  value: attributeValueSchema.nullable(),
  ...common,
});

export const nodeStandbyCommand = z.strictObject({
  type: z.literal("node_standby"),
  node: nodeNameSchema,
  standby: z.boolean(),
  ...common,
});

export const maintenanceCommand = z.strictObject({
  type: z.literal("maintenance"),
  on: z.boolean(),
  ...common,
});

const failCountIncrement = z.strictObject({
  type: z.literal("fail_count_increment"),
  resource: resourceNameSchema,
  node: nodeNameSchema,
  /** A failed start: the resource may not run on that node again until the count is reset. */
  fatal: z.boolean().optional(),
  ...common,
});

export const failCountResetCommand = z.strictObject({
  type: z.literal("fail_count_reset"),
  resource: resourceNameSchema,
  /** Absent: reset the resource's fail counts on every node. */
  node: nodeNameSchema.optional(),
  ...common,
});

const roleSchema = z.enum(["started", "promoted", "unpromoted"]);
const incarnationSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The leader's instructions: each node runs its resources in the role given, or stops them. */
const resourceTargets = z.strictObject({
  type: z.literal("resource_targets"),
  changes: z
    .array(
      z.strictObject({
        resource: resourceNameSchema,
        node: nodeNameSchema,
        target: z.union([roleSchema, z.literal("stopped")]),
      }),
    )
    .min(1, "expected at least one change")
    .max(1024, "expected at most 1024 changes"),
  ...common,
  // Decided from one view of the cluster: if anything changed since, decide again.
  expectedVersion: versionSchema,
});

/** A node tells what runs after an operation: active in a role, or stopped (null). */
const resourceReport = z.strictObject({
  type: z.literal("resource_report"),
  resource: resourceNameSchema,
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  active: roleSchema.nullable(),
  stopFailed: z.boolean().optional(),
  /**
   * With `active: null`: the node stopped the copy itself to recover from a failure and gives
   * its instruction back, so that the leader decides the start again (through the clone's
   * notification round), instead of the node restarting it in place untold.
   */
  release: z.boolean().optional(),
  /** Refused when older than the run's last probe or its last applied report of this resource. */
  seq: runSeqSchema.optional(),
  ...common,
});

/** The leader begins, advances or (null) ends a clone's notification round (notify-rounds.ts). */
const notifyRoundCommand = z.strictObject({
  type: z.literal("notify_round"),
  clone: resourceNameSchema,
  round: notifyRoundSchema.nullable(),
  ...common,
  // Decided from one view of the cluster, like resource_targets.
  expectedVersion: versionSchema,
});

/** A node's copy was told of a round's phase (or had nothing running to tell: skipped). */
const notifyDoneCommand = z.strictObject({
  type: z.literal("notify_done"),
  clone: resourceNameSchema,
  round: versionSchema.min(1),
  phase: z.enum(NOTIFY_PHASES),
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  outcome: z.enum(NOTIFY_OUTCOMES),
  ...common,
});

/** The leader begins or (null) ends a promotable clone's score poll (score-polls.ts). */
const scorePollCommand = z.strictObject({
  type: z.literal("score_poll"),
  clone: resourceNameSchema,
  poll: scorePollSchema.nullable(),
  ...common,
  // Decided from one view of the cluster, like resource_targets.
  expectedVersion: versionSchema,
});

/** A node's copy was monitored after the poll began: its score (or `none`) is its answer. */
const scoreAnswerCommand = z.strictObject({
  type: z.literal("score_answer"),
  clone: resourceNameSchema,
  poll: versionSchema.min(1),
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  score: attributeValueSchema,
  /** For a clone whose replication offsets are read: the offset read with it (or `none`). */
  offset: attributeValueSchema.optional(),
  /**
   * Taken when the answer was read: an attribute the run wrote after that (a stopped copy's
   * withdrawn score) is newer than the answer, and keeps its value.
   */
  seq: runSeqSchema.optional(),
  ...common,
});

/**
 * An agent run's probe against configuration `configVersion`. From a new run: everything it
 * found running (the rest is stopped). From the run already recorded: the resources it had not
 * probed yet, found running.
 */
const nodeProbed = z.strictObject({
  type: z.literal("node_probed"),
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  configVersion: versionSchema,
  active: z
    .array(z.strictObject({ resource: resourceNameSchema, role: roleSchema }))
    .max(4096, "expected at most 4096 resources"),
  /** Every report of the run older than this probe is refused from now on. */
  seq: runSeqSchema.optional(),
  ...common,
});

/** The leader knows the node's lease has ended (or it was fenced): nothing runs there. */
const nodeReleased = z.strictObject({
  type: z.literal("node_released"),
  node: nodeNameSchema,
  ...common,
});

/**
 * A fence operation ended (or an operator confirmed the node is down). Success releases the node
 * like node_released: whatever it ran no longer runs.
 */
export const nodeFencedCommand = z.strictObject({
  type: z.literal("node_fenced"),
  node: nodeNameSchema,
  ok: z.boolean(),
  action: z.enum(["reboot", "off", "confirm"]),
  devices: z.array(z.string().min(1).max(63)).max(32),
  detail: z.string().max(1000),
  attempts: fenceAttemptsSchema.optional(),
  /**
   * The node's agent run the fencer's state knew as the fence began (null: none had probed). A
   * run that probed after that came back after the fence: its resources are not released.
   */
  run: incarnationSchema.nullable().optional(),
  ...common,
});

/** A run's transient attribute (null: remove it). */
export const nodeTransientAttributeCommand = z.strictObject({
  type: z.literal("node_transient_attribute"),
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  key: attributeKeySchema,
  value: attributeValueSchema.nullable(),
  /**
   * From the run itself (its monitors, its agents' crm_attribute): refused when not newer than
   * its last applied write of this attribute. Another node's or an operator's write has none.
   */
  seq: runSeqSchema.optional(),
  ...common,
});

/**
 * A resource failed on the node with `on_fail: fence`: the run asks to be fenced. The leader
 * then counts the node as lost (nothing of it runs elsewhere until the fence) and fences it.
 */
const nodeFenceRequest = z.strictObject({
  type: z.literal("node_fence_request"),
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  resource: resourceNameSchema,
  reason: z.string().max(FENCE_REQUEST_REASON_MAX_CHARS),
  ...common,
});

const nodeShutdown = z.strictObject({
  type: z.literal("node_shutdown"),
  node: nodeNameSchema,
  incarnation: incarnationSchema,
  ...common,
});

/** The leader told a cluster-wide hook of every event up to `seq` (or skipped them). */
const hookDelivered = z.strictObject({
  type: z.literal("hook_delivered"),
  hook: z.string().min(1).max(64),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ...common,
});

/** The leader saw a node come up or die: node_up / node_dead for the cluster-wide hooks. */
const nodeLiveness = z.strictObject({
  type: z.literal("node_liveness"),
  node: nodeNameSchema,
  liveness: z.enum(["up", "dead"]),
  ...common,
});

export const resourceMoveCommand = z.strictObject({
  type: z.literal("resource_move"),
  resource: resourceNameSchema,
  node: nodeNameSchema,
  ...common,
});

export const resourceBanCommand = z.strictObject({
  type: z.literal("resource_ban"),
  resource: resourceNameSchema,
  node: nodeNameSchema,
  ...common,
});

export const resourceClearCommand = z.strictObject({
  type: z.literal("resource_clear"),
  resource: resourceNameSchema,
  ...common,
});

export const resourceRoleCommand = z.strictObject({
  type: z.literal("resource_role"),
  resource: resourceNameSchema,
  stopped: z.boolean(),
  ...common,
});

/** An application opened a session through the agent of `node` (sessions.ts). */
export const sessionCreateCommand = z.strictObject({
  type: z.literal("session_create"),
  session: sessionIdSchema,
  name: sessionNameSchema,
  node: nodeNameSchema,
  ttlMs: sessionTtlMsSchema,
  lockDelayMs: lockDelayMsSchema,
  checks: z
    .array(entryNameSchema("check", "app-ttl"))
    .max(SESSION_CHECKS_MAX, `expected at most ${SESSION_CHECKS_MAX} checks`),
  ...common,
});

export const SESSION_END_REASONS = [
  "client",
  "ttl",
  "node_dead",
  "check_failing",
] as const satisfies readonly SessionEndReason[];

/** A session ends: its locks are released, after its lock-delay unless its client ended it. */
export const sessionDestroyCommand = z.strictObject({
  type: z.literal("session_destroy"),
  session: sessionIdSchema,
  reason: z.enum(SESSION_END_REASONS),
  ...common,
});

export const lockAcquireCommand = z.strictObject({
  type: z.literal("lock_acquire"),
  key: lockKeySchema,
  session: sessionIdSchema,
  ...common,
});

export const lockReleaseCommand = z.strictObject({
  type: z.literal("lock_release"),
  key: lockKeySchema,
  session: sessionIdSchema,
  ...common,
});

export const COMMAND_TYPES = [
  "config_apply",
  "node_attribute_set",
  "node_attribute_unset",
  "node_standby",
  "maintenance",
  "fail_count_increment",
  "fail_count_reset",
  "resource_targets",
  "resource_report",
  "node_probed",
  "node_released",
  "node_shutdown",
  "node_transient_attribute",
  "node_fenced",
  "node_fence_request",
  "resource_move",
  "resource_ban",
  "resource_clear",
  "resource_role",
  "hook_delivered",
  "node_liveness",
  "session_create",
  "session_destroy",
  "lock_acquire",
  "lock_release",
  "cluster_property",
  "notify_round",
  "notify_done",
  "score_poll",
  "score_answer",
] as const;

export const commandSchema = z.discriminatedUnion(
  "type",
  [
    configApplyCommand,
    nodeAttributeSet,
    nodeAttributeUnset,
    nodeStandbyCommand,
    maintenanceCommand,
    failCountIncrement,
    failCountResetCommand,
    resourceTargets,
    resourceReport,
    nodeProbed,
    nodeReleased,
    nodeShutdown,
    nodeTransientAttributeCommand,
    nodeFencedCommand,
    nodeFenceRequest,
    resourceMoveCommand,
    resourceBanCommand,
    resourceClearCommand,
    resourceRoleCommand,
    hookDelivered,
    nodeLiveness,
    sessionCreateCommand,
    sessionDestroyCommand,
    lockAcquireCommand,
    lockReleaseCommand,
    clusterPropertyCommand,
    notifyRoundCommand,
    notifyDoneCommand,
    scorePollCommand,
    scoreAnswerCommand,
  ],
  { error: () => `expected "type" to be one of ${COMMAND_TYPES.join(", ")}` },
);

export type Command = z.output<typeof commandSchema>;
export type CommandType = Command["type"];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

const RUNTIME_COMMANDS: ReadonlySet<CommandType> = new Set<CommandType>([
  "fail_count_increment",
  "fail_count_reset",
  "resource_targets",
  "resource_report",
  "node_probed",
  "node_released",
  "node_shutdown",
  "node_transient_attribute",
  "node_fenced",
  "hook_delivered",
  "node_liveness",
  "node_fence_request",
  "session_create",
  "session_destroy",
  "lock_acquire",
  "lock_release",
  // Written by agents as they run (redis on every promotion): an operator's edit of the
  // configuration is not to be refused for it.
  "cluster_property",
  "notify_round",
  "notify_done",
  "score_poll",
  "score_answer",
]);

export function commandScope(command: Command): ChangeScope {
  return RUNTIME_COMMANDS.has(command.type) ? "runtime" : "configuration";
}

/** The entry payload for a command: canonical JSON, so equal commands are equal bytes. */
export function encodeCommand(command: Command): string {
  return canonicalJson(command);
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; error: string };

/**
 * Reads an entry payload. Never throws: a committed payload that is not a valid command is
 * refused identically on every node, and a proposer can call this first to refuse early.
 */
export function parseCommand(payload: string): ParsedCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch (error) {
    return {
      ok: false,
      error: `command is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!isJsonObject(raw)) {
    return { ok: false, error: `command must be a JSON object, got ${describeJson(raw)}` };
  }
  const parsed = commandSchema.safeParse(raw);
  if (parsed.success) return { ok: true, command: parsed.data };
  const knownType = COMMAND_TYPES.find((type) => type === raw.type);
  const typeName = knownType === undefined ? "" : `${knownType} `;
  return { ok: false, error: `invalid ${typeName}command: ${describeIssues(parsed.error.issues)}` };
}

/**
 * Words a refused command (or a control request shaped like one) field by field, "field:
 * expectation", so whoever sent it sees which field to fix.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") {
        return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
      }
      const where = issue.path.map(String).join(".");
      return where === "" ? issue.message : `${where}: ${issue.message}`;
    })
    .join("; ");
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
