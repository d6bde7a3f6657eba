/**
 * Pacemaker's clone notifications as replicated state: the leader commits a round per clone
 * (takeover/notify-round.ts decides it), every node with an active copy carries it out and
 * records that it did. Kept in the log so that a new leader finishes a round where the old one
 * left it, and every node sees the same lists.
 */
import { z } from "zod";
import { nodeNameSchema, resourceNameSchema, versionSchema } from "./names.js";
import { ownValue, withEntry, withoutEntry } from "./records.js";
import type { ClusterState } from "./types.js";

export const NOTIFY_OPERATIONS = ["start", "stop", "promote", "demote"] as const;
export type NotifyOperation = (typeof NOTIFY_OPERATIONS)[number];

/** Pacemaker's list names: OCF_RESKEY_CRM_meta_notify_<name>_resource and _uname. */
export const NOTIFY_LIST_NAMES = [
  "start",
  "stop",
  "promote",
  "demote",
  "active",
  "inactive",
  "master",
  "slave",
  "promoted",
  "unpromoted",
  "all",
] as const;
export type NotifyListName = (typeof NOTIFY_LIST_NAMES)[number];

/**
 * `pre`: the copies told of the operation before it runs; `acting`: they all were (or could not
 * be), the operation's targets are instructed and carried out; `post`: it ended everywhere, the
 * copies active now are told.
 */
export const NOTIFY_PHASES = ["pre", "acting", "post"] as const;
export type NotifyPhase = (typeof NOTIFY_PHASES)[number];

export const NOTIFY_OUTCOMES = ["ok", "failed", "skipped"] as const;
export type NotifyOutcome = (typeof NOTIFY_OUTCOMES)[number];

const roleSchema = z.enum(["started", "promoted", "unpromoted"]);
const listSchema = z.strictObject({
  resource: z.array(resourceNameSchema).max(256),
  uname: z.array(nodeNameSchema).max(256),
});

export const notifyRoundSchema = z.strictObject({
  /** The state version that began the round: what nodes name it by. */
  id: versionSchema.min(1),
  operation: z.enum(NOTIFY_OPERATIONS),
  phase: z.enum(NOTIFY_PHASES),
  /** The copies the operation acts on and what each is told. */
  actions: z
    .array(
      z.strictObject({
        resource: resourceNameSchema,
        node: nodeNameSchema,
        target: z.union([roleSchema, z.literal("stopped")]),
        /** Its fail count there as the round began: a failure counted since ends the action. */
        failures: z.number().int().min(0),
      }),
    )
    .min(1)
    .max(256),
  /** Pacemaker's lists as the round began: the same in its pre and post notifications. */
  lists: z.strictObject(
    Object.fromEntries(NOTIFY_LIST_NAMES.map((name) => [name, listSchema])) as Record<
      NotifyListName,
      typeof listSchema
    >,
  ),
  /** The nodes whose copies are told in this phase (none while acting). */
  recipients: z.array(nodeNameSchema).max(256),
  /** How each recipient's notification ended. */
  notified: z.record(nodeNameSchema, z.enum(NOTIFY_OUTCOMES)),
  /**
   * When a phase's recipients that have not answered stop being waited for (the leader's clock:
   * the notify operation's timeout and a margin after the phase began).
   */
  deadlineAtMs: z.number().int().min(0),
});

export type NotifyRound = z.output<typeof notifyRoundSchema>;
export type NotifyLists = NotifyRound["lists"];

/** Clone id → its round under way; absent while none is. */
export const notifyRoundsSchema = z.record(resourceNameSchema, notifyRoundSchema);

/** The leader begins, advances (compare-and-set) or ends (null) a clone's round. */
export function setNotifyRound(
  state: ClusterState,
  clone: string,
  round: NotifyRound | null,
): ClusterState {
  const rounds = state.notifyRounds ?? {};
  const next = round === null ? withoutEntry(rounds, clone) : withEntry(rounds, clone, round);
  if (Object.keys(next).length > 0) return { ...state, notifyRounds: next };
  const { notifyRounds: _, ...rest } = state;
  return rest;
}

/** A node records how its copy's notification ended; refused unless the round still asks it. */
export function recordNotified(
  state: ClusterState,
  report: {
    clone: string;
    round: number;
    phase: NotifyPhase;
    node: string;
    incarnation: number;
    outcome: NotifyOutcome;
  },
): ClusterState | string {
  const agent = ownValue(state.agents, report.node);
  if (agent?.incarnation !== report.incarnation) {
    return `notification from node ${report.node} run ${report.incarnation}, which is not the run that probed (${agent?.incarnation ?? "none"})`;
  }
  const round = ownValue(state.notifyRounds ?? {}, report.clone);
  if (round === undefined || round.id !== report.round || round.phase !== report.phase) {
    return `clone ${report.clone} has no ${report.phase} notification round ${report.round} under way`;
  }
  if (!round.recipients.includes(report.node)) {
    return `node ${report.node} is not told in round ${report.round} of clone ${report.clone}`;
  }
  return setNotifyRound(state, report.clone, {
    ...round,
    notified: withEntry(round.notified, report.node, report.outcome),
  });
}
