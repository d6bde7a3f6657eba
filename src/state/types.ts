import type { JsonObject } from "./json.js";
import type { NotificationEvent } from "./notification-events.js";
import type { NotifyRound } from "./notify-rounds.js";
import type { ScorePoll } from "./score-polls.js";

/** How many changes the history keeps: enough to explain a refused compare-and-set. */
export const HISTORY_LIMIT = 50;

/**
 * Whether a change is to the configuration an operator edits (the config document, node
 * attributes, standby, maintenance) or to what the cluster records at run time (fail counts,
 * placement). An operator's edit only conflicts with configuration changes, so a resource
 * failing while someone edits the file does not get the edit refused.
 */
export type ChangeScope = "configuration" | "runtime";

export interface AppliedConfig {
  /** The state version at which this document was applied; 0 before the first apply. */
  version: number;
  /** The resources/constraints section as parsed JSON; its schema is checked elsewhere. */
  document: JsonObject;
  /** The YAML exactly as applied, for `vigil config show`. */
  text: string;
  appliedAtMs: number;
  appliedBy: string;
}

export interface NodeState {
  attributes: Record<string, string>;
  standby: boolean;
}

export interface FailCount {
  count: number;
  lastFailureAtMs: number;
}

export type ActiveRole = "started" | "promoted" | "unpromoted";

/**
 * One resource on one node. `target` is the leader's instruction (absent: none yet, e.g. right
 * after a probe found it running), `active` what the node reported after its last operation or
 * probe (absent: stopped). A cell exists while the resource may be running there: only the
 * node's own report that it stopped (or its release, or its next run's probe) removes it, so a
 * start still in flight always counts. That is what keeps two copies from ever running.
 * `stopFailed`: a stop failed or timed out, so whether it still runs is unknown; nothing moves it
 * until an operator cleans it up (or fencing settles it).
 */
export interface ResourceCell {
  target?: ActiveRole | "stopped";
  active?: ActiveRole;
  stopFailed?: boolean;
}

/**
 * An agent run that has probed its node (for the configuration in force): reports from other runs (older incarnations) are
 * refused, and the leader places nothing on a node whose current run has not probed yet.
 * `shuttingDown`: the agent is stopping gracefully and wants its resources moved away first.
 */
export interface AgentRecord {
  incarnation: number;
  /** The configuration version whose resources it has probed: a new resource is probed first. */
  probedConfigVersion: number;
  shuttingDown: boolean;
  /**
   * Attributes this run set for itself (e.g. a replica's promotion score from its monitor):
   * they last as long as the run, like Pacemaker's transient attributes, and override the
   * node's configured attributes of the same name.
   */
  attributes?: Record<string, string>;
  /** The `seq` of this run's last applied probe: its reports older than that are refused. */
  probeSeq?: number;
  /** Per resource, the `seq` of this run's last applied report of it (since its last probe). */
  reportSeqs?: Record<string, number>;
  /**
   * Per attribute, the `seq` of this run's last applied write of it (kept after the attribute is
   * removed): a write the run made earlier that commits later is refused.
   */
  attributeSeqs?: Record<string, number>;
  /**
   * A resource failed here with `on_fail: fence`: this run is to be fenced, and counts as lost
   * until it is (the fence's record releases the node, and this record with it).
   */
  fenceRequested?: { resource: string; reason: string };
}

/** Pacemaker's cli-prefer / cli-ban / target-role, set with `vigil resource move|ban|stop`. */
export interface OperatorOverride {
  prefer?: string;
  bans?: string[];
  stopped?: boolean;
}

export const FENCE_HISTORY_LIMIT = 20;
/** A fence request's reason: one line, what failed and how, as the node's log says it. */
export const FENCE_REQUEST_REASON_MAX_CHARS = 300;

/**
 * At most this many agent runs are kept per fence (a few levels of a few devices, a split reboot
 * asking each device twice); the first ones, which say why the earlier levels failed.
 */
export const FENCE_ATTEMPTS_LIMIT = 32;
/** One line each (src/fencing/agent-output.ts keeps agents' words to 300 characters). */
export const FENCE_ATTEMPT_DETAIL_MAX_CHARS = 400;

/** One agent run of a fence operation: which level and device, what it was asked, how it went. */
export interface FenceAttemptRecord {
  /** 1 for the first level. */
  level: number;
  device: string;
  action: "reboot" | "off" | "on";
  ok: boolean;
  durationMs: number;
  /** Why it failed ("no answer within 20000 ms", "exit code 1: ..."), or what it said. */
  detail: string;
}

/** A fence operation's outcome, or an operator's confirmation that a node is down. */
export interface FenceEvent {
  node: string;
  ok: boolean;
  action: "reboot" | "off" | "confirm";
  /** The devices of the level that succeeded (or were tried, when it failed). */
  devices: string[];
  detail: string;
  /** Every agent run, in order: a later level's success does not hide an earlier one's failure. */
  attempts?: FenceAttemptRecord[];
  by: string;
  atMs: number;
}

/**
 * A node's fences since the cluster began, by result (fence-counts.ts). Kept beside the bounded
 * history so that every node can report the same ever-growing counts, whoever ran the fences.
 */
export interface FenceCount {
  /** Fence operations that succeeded. */
  success: number;
  /** Fence operations that failed: every level tried, none worked. */
  failure: number;
  /** Operators' confirmations that the node is off (`vigil fence confirm`). */
  confirmed: number;
}

export const INCIDENT_LIMIT = 20;

/**
 * Something the cluster found wrong and set right, kept for operators (`vigil status`). Recorded
 * by the state machine itself as it applies the report that shows it, so exactly once.
 */
export interface Incident {
  /** A placement key reported running on more than one node: a healed split brain, say. */
  kind: "multiply_active";
  resource: string;
  nodes: string[];
  /** The revealing command's proposer and clock. */
  by: string;
  atMs: number;
}

export interface HistoryEntry {
  version: number;
  summary: string;
  by: string;
  atMs: number;
  scope: ChangeScope;
}

/** A cluster-wide hook's event, numbered in the order the cluster recorded it. */
export interface QueuedNotification extends NotificationEvent {
  seq: number;
}

/**
 * What the cluster-wide hooks (`where: cluster`) still have to receive. Kept in the replicated
 * state so a new leader carries on where the old one's committed progress ended: every event
 * is delivered at least once, in order, and its id lets a receiver drop a repeat.
 */
export interface ClusterNotifications {
  /** The next event's number. */
  nextSeq: number;
  /** Events some hook has not yet been told of, oldest first. */
  events: QueuedNotification[];
  /** Hook name → the last seq it was told of (or skipped, or dropped). */
  delivered: Record<string, number>;
  /** Hook name → events dropped because its queue was full. */
  dropped: Record<string, number>;
  /** Placement key → the node it last ran on (a start elsewhere is a move). */
  lastActive: Record<string, string>;
  /** Node → up or dead, as the leader last recorded it. */
  liveness: Record<string, "up" | "dead">;
}

/** Sessions at once in the cluster: each is a TTL clock on its node's agent. */
export const SESSIONS_MAX = 1024;
/** Lock keys at once, held or waiting out their lock-delay. */
export const LOCKS_MAX = 4096;
/** Locks one session may hold: an application elects a few leaders, not thousands. */
export const LOCKS_PER_SESSION_MAX = 64;
/** Checks one session may be bound to. */
export const SESSION_CHECKS_MAX = 8;
/** Ended sessions remembered (why each ended), oldest first: what `vigil session list` shows. */
export const SESSION_ENDS_LIMIT = 32;

/**
 * Why a session ended: its client destroyed it, its heartbeats stopped for its TTL, its node
 * died (the leader's membership view), or one of its checks failed on its node.
 */
export type SessionEndReason = "client" | "ttl" | "node_dead" | "check_failing";

/**
 * An application's session (Consul's model): opened through its node's agent, which keeps its
 * TTL clock, and bound to that node's health and to the named checks there. Locks are held by
 * sessions; a session's end releases them after its lock-delay.
 */
export interface SessionRecord {
  /** The application's words for itself ("billing-worker"), for operators. */
  name: string;
  node: string;
  ttlMs: number;
  lockDelayMs: number;
  /** Checks on `node` whose failure ends the session. */
  checks: string[];
  createdAtMs: number;
}

/**
 * A named lock: held by a session since `acquiredAtMs`, or free again only at `freeAtMs` (the
 * lock-delay after its holder's session ended, so a paused holder that wakes has time to learn
 * it lost the lock before anyone else acts as its owner). `freeAtMs` is on the clock of the node
 * that ended the session; `delayMs` (the lock-delay's length; absent in states written before it
 * was recorded) lets each agent also wait it out on its own clock (sessions/session-keeper.ts).
 */
export type LockRecord =
  | { session: string; acquiredAtMs: number }
  | { freeAtMs: number; lastSession: string; reason: SessionEndReason; delayMs?: number };

export interface SessionEnd {
  session: string;
  name: string;
  node: string;
  reason: SessionEndReason;
  atMs: number;
}

/**
 * The replicated cluster state: every node holds the same value at the same log index because
 * it changes only by applying committed commands, in order, with `applyCommand`.
 */
export interface ClusterState {
  /** Increments on every successful command; refused commands leave it alone. */
  version: number;
  /** The version of the last configuration-scoped change: what operators' edits are checked against. */
  configurationVersion: number;
  config: AppliedConfig;
  /** Keyed by node name. A node appears once something has been recorded about it. */
  nodes: Record<string, NodeState>;
  maintenance: boolean;
  /** resource → node → failures since the last reset. */
  failCounts: Record<string, Record<string, FailCount>>;
  /**
   * Placement key (primitive id or clone instance "db:0") → node → what the leader asked that node
   * to run and what the node last reported running. See ResourceCell.
   */
  resources: Record<string, Record<string, ResourceCell>>;
  /** Node name → the agent run that probed its resources and may run them (see AgentRecord). */
  agents: Record<string, AgentRecord>;
  /** Resource id (as in the model) → an operator's move/ban/stop, on top of the configuration. */
  operator: Record<string, OperatorOverride>;
  /** The last FENCE_HISTORY_LIMIT fence operations and confirmations, oldest first. */
  fenceHistory: FenceEvent[];
  /** Fenced node → its fence records since the cluster began, by result; never trimmed. */
  fenceCounts: Record<string, FenceCount>;
  /** The last INCIDENT_LIMIT incidents, oldest first. */
  incidents: Incident[];
  /** The last HISTORY_LIMIT successful changes, oldest first. */
  history: HistoryEntry[];
  /** Absent until a cluster-wide hook is configured. */
  notifications?: ClusterNotifications;
  /** Clone id → its clone notification round under way (notify-rounds.ts); absent while none is. */
  notifyRounds?: Record<string, NotifyRound>;
  /** Clone id → its promotion score poll (score-polls.ts); absent while none is kept. */
  scorePolls?: Record<string, ScorePoll>;
  /** Session id → session; absent while there are none (see SessionRecord). */
  sessions?: Record<string, SessionRecord>;
  /** Lock key → holder or lock-delay; absent while there are none. */
  locks?: Record<string, LockRecord>;
  /** The last SESSION_ENDS_LIMIT sessions that ended, oldest first; absent before the first. */
  sessionEnds?: SessionEnd[];
  /** What sessions and locks did since the cluster began; never trimmed; absent before the first. */
  sessionCounts?: SessionCounts;
  /** Pacemaker's cluster properties (crm_config) agents set; absent while there are none. */
  clusterProperties?: Record<string, string>;
}

/** Counts of session and lock changes since the cluster began (GET /metrics shows them). */
export interface SessionCounts {
  /** Sessions ended, by why. */
  ended: Partial<Record<SessionEndReason, number>>;
  /** Locks taken by a session (an acquire of a lock the session holds already is not counted). */
  locksAcquired: number;
  /** Locks let go by their holder. */
  locksReleased: number;
  /** Locks released by their session's end (free after its lock-delay, or at once). */
  locksReleasedByEnd: number;
}

export type CommandResult = { ok: true; version: number } | { ok: false; error: string };
