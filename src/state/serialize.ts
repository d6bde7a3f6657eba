import { z } from "zod";
import { HOOK_QUEUE_MAX, NOTIFICATION_KINDS } from "../resource-model/hooks-schema.js";
import { SESSION_END_REASONS } from "./commands.js";
import { fenceCountsOf } from "./fence-counts.js";
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
import { notifyRoundsSchema } from "./notify-rounds.js";
import { scorePollsSchema } from "./score-polls.js";
import {
  type ClusterState,
  FENCE_HISTORY_LIMIT,
  FENCE_REQUEST_REASON_MAX_CHARS,
  HISTORY_LIMIT,
  INCIDENT_LIMIT,
  LOCKS_MAX,
  SESSION_CHECKS_MAX,
  SESSION_ENDS_LIMIT,
  SESSIONS_MAX,
} from "./types.js";

/** Names the snapshot format, so a future layout can be told apart and converted. */
const FORMAT = "vigil.cluster-state";
const FORMAT_VERSION = 2;

export function initialState(): ClusterState {
  return {
    version: 0,
    configurationVersion: 0,
    config: { version: 0, document: {}, text: "", appliedAtMs: 0, appliedBy: "" },
    nodes: {},
    maintenance: false,
    failCounts: {},
    resources: {},
    agents: {},
    operator: {},
    fenceHistory: [],
    fenceCounts: {},
    incidents: [],
    history: [],
  };
}

/** Snapshot data: canonical JSON, so equal states are equal bytes on every node. */
export function serializeState(state: ClusterState): string {
  return canonicalJson({ format: FORMAT, formatVersion: FORMAT_VERSION, state });
}

const roleSchema = z.enum(["started", "promoted", "unpromoted"]);

const stateSchema = z.strictObject({
  version: versionSchema,
  configurationVersion: versionSchema,
  config: z.strictObject({
    version: versionSchema,
    // The parsed object itself, not a copy zod builds: see commands.ts.
    document: z.custom<JsonObject>(isJsonObject, { message: "expected a JSON object" }),
    text: z.string(),
    appliedAtMs: epochMsSchema,
    // Empty before the first apply.
    appliedBy: z.union([z.literal(""), actorSchema]),
  }),
  nodes: z.record(
    nodeNameSchema,
    z.strictObject({
      attributes: z.record(attributeKeySchema, attributeValueSchema),
      standby: z.boolean(),
    }),
  ),
  maintenance: z.boolean(),
  failCounts: z.record(
    resourceNameSchema,
    z.record(
      nodeNameSchema,
      z.strictObject({ count: z.number().int().min(1), lastFailureAtMs: epochMsSchema }),
    ),
  ),
  resources: z.record(
    resourceNameSchema,
    z.record(
      nodeNameSchema,
      z.strictObject({
        target: z.union([roleSchema, z.literal("stopped")]).optional(),
        active: roleSchema.optional(),
        stopFailed: z.boolean().optional(),
      }),
    ),
  ),
  agents: z.record(
    nodeNameSchema,
    z.strictObject({
      incarnation: z.number().int().min(0),
      probedConfigVersion: versionSchema,
      shuttingDown: z.boolean(),
      attributes: z.record(attributeKeySchema, attributeValueSchema).optional(),
      probeSeq: runSeqSchema.optional(),
      reportSeqs: z.record(resourceNameSchema, runSeqSchema).optional(),
      attributeSeqs: z.record(attributeKeySchema, runSeqSchema).optional(),
      fenceRequested: z
        .strictObject({
          resource: resourceNameSchema,
          reason: z.string().max(FENCE_REQUEST_REASON_MAX_CHARS),
        })
        .optional(),
    }),
  ),
  operator: z.record(
    resourceNameSchema,
    z.strictObject({
      prefer: nodeNameSchema.optional(),
      bans: z.array(nodeNameSchema).optional(),
      stopped: z.boolean().optional(),
    }),
  ),
  fenceHistory: z
    .array(
      z.strictObject({
        node: nodeNameSchema,
        ok: z.boolean(),
        action: z.enum(["reboot", "off", "confirm"]),
        devices: z.array(z.string()),
        detail: z.string(),
        attempts: fenceAttemptsSchema.optional(),
        by: actorSchema,
        atMs: epochMsSchema,
      }),
    )
    .max(FENCE_HISTORY_LIMIT)
    .default([]),
  // Absent from snapshots written before the counts were kept: restoreState derives them.
  fenceCounts: z
    .record(
      nodeNameSchema,
      z.strictObject({
        success: z.number().int().min(0),
        failure: z.number().int().min(0),
        confirmed: z.number().int().min(0),
      }),
    )
    .optional(),
  incidents: z
    .array(
      z.strictObject({
        kind: z.literal("multiply_active"),
        resource: resourceNameSchema,
        nodes: z.array(nodeNameSchema).min(2),
        by: actorSchema,
        atMs: epochMsSchema,
      }),
    )
    .max(INCIDENT_LIMIT)
    .default([]),
  history: z
    .array(
      z.strictObject({
        version: versionSchema.min(1),
        summary: z.string(),
        by: actorSchema,
        atMs: epochMsSchema,
        scope: z.enum(["configuration", "runtime"]),
      }),
    )
    .max(HISTORY_LIMIT),
  notifyRounds: notifyRoundsSchema.optional(),
  scorePolls: scorePollsSchema.optional(),
  notifications: z
    .strictObject({
      nextSeq: z.number().int().min(1),
      events: z
        .array(
          z.strictObject({
            seq: z.number().int().min(1),
            id: z.string(),
            kind: z.enum(NOTIFICATION_KINDS),
            atMs: epochMsSchema,
            node: nodeNameSchema.optional(),
            resource: resourceNameSchema.optional(),
            fromNode: nodeNameSchema.optional(),
            role: roleSchema.optional(),
            source: z.string(),
            stateVersion: versionSchema,
            detail: z.string(),
          }),
        )
        // Every hook's queue is bounded; a few hooks' queues together, no more.
        .max(HOOK_QUEUE_MAX * 16),
      delivered: z.record(z.string(), z.number().int().min(0)),
      dropped: z.record(z.string(), z.number().int().min(0)),
      lastActive: z.record(resourceNameSchema, nodeNameSchema),
      liveness: z.record(nodeNameSchema, z.enum(["up", "dead"])),
    })
    .optional(),
  sessions: z
    .record(
      sessionIdSchema,
      z.strictObject({
        name: sessionNameSchema,
        node: nodeNameSchema,
        ttlMs: sessionTtlMsSchema,
        lockDelayMs: lockDelayMsSchema,
        checks: z.array(z.string()).max(SESSION_CHECKS_MAX),
        createdAtMs: epochMsSchema,
      }),
    )
    .refine((sessions) => Object.keys(sessions).length <= SESSIONS_MAX, "too many sessions")
    .optional(),
  locks: z
    .record(
      lockKeySchema,
      z.union([
        z.strictObject({ session: sessionIdSchema, acquiredAtMs: epochMsSchema }),
        z.strictObject({
          freeAtMs: epochMsSchema,
          lastSession: sessionIdSchema,
          reason: z.enum(SESSION_END_REASONS),
          delayMs: lockDelayMsSchema.optional(),
        }),
      ]),
    )
    .refine((locks) => Object.keys(locks).length <= LOCKS_MAX, "too many locks")
    .optional(),
  sessionEnds: z
    .array(
      z.strictObject({
        session: sessionIdSchema,
        name: sessionNameSchema,
        node: nodeNameSchema,
        reason: z.enum(SESSION_END_REASONS),
        atMs: epochMsSchema,
      }),
    )
    .max(SESSION_ENDS_LIMIT)
    .optional(),
  sessionCounts: z
    .strictObject({
      ended: z.partialRecord(z.enum(SESSION_END_REASONS), z.number().int().min(0)),
      locksAcquired: z.number().int().min(0),
      locksReleased: z.number().int().min(0),
      locksReleasedByEnd: z.number().int().min(0),
    })
    .optional(),
  // Absent from snapshots written before agents could set them, and while there are none.
  clusterProperties: z.record(attributeKeySchema, attributeValueSchema).optional(),
});

/**
 * Reads snapshot data back. Throws on anything that is not a state this code wrote: a snapshot
 * is trusted to be what the leader serialized, so a bad one is corruption to stop on, not input
 * to refuse.
 */
export function restoreState(text: string): ClusterState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `cluster state snapshot is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!isJsonObject(raw) || raw.format !== FORMAT) {
    throw new Error(`cluster state snapshot does not start with format "${FORMAT}"`);
  }
  const snapshot = upgrade(raw);
  if (snapshot.formatVersion !== FORMAT_VERSION) {
    throw new Error(
      `cluster state snapshot has format version ${String(snapshot.formatVersion)}; this vigil reads version ${FORMAT_VERSION}`,
    );
  }
  const parsed = stateSchema.safeParse(snapshot.state);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `state.${issue.path.map(String).join(".")}: ${issue.message}`,
    );
    throw new Error(`cluster state snapshot is invalid: ${problems.join("; ")}`);
  }
  const { fenceCounts, ...rest } = parsed.data;
  const state: ClusterState = {
    ...rest,
    fenceCounts: fenceCounts ?? fenceCountsOf(rest.fenceHistory),
  };
  assertConsistent(state);
  return state;
}

/** Version 1 recorded a placement list nobody acted on; version 2 tracks what runs where. */
function upgrade(raw: JsonObject): JsonObject {
  if (raw.formatVersion !== 1 || !isJsonObject(raw.state)) return raw;
  const { placement: _, ...rest } = raw.state;
  return {
    ...raw,
    formatVersion: FORMAT_VERSION,
    state: { ...rest, resources: {}, agents: {}, operator: {} },
  };
}

function assertConsistent(state: ClusterState): void {
  const problems: string[] = [];
  if (state.configurationVersion > state.version) {
    problems.push(
      `configurationVersion ${state.configurationVersion} is after version ${state.version}`,
    );
  }
  if (state.config.version > state.configurationVersion) {
    problems.push(
      `config.version ${state.config.version} is after configurationVersion ${state.configurationVersion}`,
    );
  }
  let previous = 0;
  for (const entry of state.history) {
    if (entry.version <= previous || entry.version > state.version) {
      problems.push(
        `history version ${entry.version} is out of order or after version ${state.version}`,
      );
      break;
    }
    previous = entry.version;
  }
  for (const [key, lock] of Object.entries(state.locks ?? {})) {
    if ("session" in lock && !Object.hasOwn(state.sessions ?? {}, lock.session))
      problems.push(`lock ${key} is held by session ${lock.session}, which does not exist`);
  }
  if (problems.length > 0) {
    throw new Error(`cluster state snapshot is inconsistent: ${problems.join("; ")}`);
  }
}
