/**
 * Promotion score polls, the leader's side. Pure. A promotable clone with no copy promoted (nor
 * told to be) whose promotion the engine wants is promoted only from scores read after that
 * moment: its committed scores may be older than what its copies hold (a score whose commit did
 * not get through while the cluster had no quorum; a replica that kept receiving the primary's
 * last writes after its monitor ran), and promoting the copy that looked best an instant ago can
 * lose writes another replica has. So the leader first polls (state/score-polls.ts):
 *
 *   begin    every online node running a copy of the clone (unpromoted) is asked; the engine's
 *            promotes of the clone wait.
 *   answers  each node monitors its copy again and commits the score it read (score_answer); the
 *            engine, run on each new state, weighs those fresh scores.
 *   complete every recipient answered, or is offline, or no longer runs its copy; or the
 *            deadline (the monitor's timeout and a margin) passed. The promotes go ahead.
 *   end      the instruction to promote a copy removes the poll in the same entry (and a copy
 *            found promoted ends it too); the next loss of the primary begins a new one.
 *
 * Everything a step needs is in the committed state, so a new leader goes on where the last one
 * left off.
 *
 * A copy out of reach is waited for too: a node the cluster cannot hear, whose lease has not
 * surely ended, may still run its copy, and when that copy's last committed score is above the
 * one of the copy the engine would promote, the promote waits until the node is back (it is then
 * asked like any other) or its lease has surely ended (its copy stopped with it). Promoting the
 * copy at hand instead would drop the writes only the other holds: a primary that lost its lease
 * for a moment and came back empty, beside a replica cut off by a lossy link (seed 40010973).
 */

import { parseCloneInstanceKey } from "../policy/naming.js";
import {
  comparePromotionRanks,
  formatPromotionRank,
  type PromotionRank,
  promotionRank,
} from "../policy/promotion.js";
import type { Action, PolicyInput } from "../policy/types.js";
import {
  DEFAULT_OPERATION_TIMEOUT_MS,
  recurringMonitor,
} from "../resource-model/parse-operations.js";
import type { Clone } from "../resource-model/types.js";
import { formatInstant } from "../state/history.js";
import { ownValue } from "../state/records.js";
import type { ScorePoll } from "../state/score-polls.js";
import type { ClusterState } from "../state/types.js";

/** How long past the monitor's timeout a recipient is waited for (its answer must commit too). */
export const SCORE_POLL_MARGIN_MS = 2_000;

export interface ScorePollDecision {
  /** A poll to begin or (null) end: committed alone, before anything else. */
  poll?: { clone: string; poll: ScorePoll | null };
  /** Whether an action waits: a promote of a polled clone, or one past a copy out of reach. */
  holds(action: Action): boolean;
  /** The earliest deadline of a poll waiting for answers (the leader looks again then). */
  nextDeadlineAtMs?: number;
  /** Each clone whose promotion waits for a poll, and for whom (status shows it). */
  waiting: Array<{ resource: string; reason: string }>;
}

export interface ScorePollView {
  state: ClusterState;
  input: PolicyInput;
  /** The engine's actions that wait for nothing else. */
  ready: readonly Action[];
  online: ReadonlySet<string>;
  /** Nodes offline to the cluster whose copies may still run: their lease has not surely ended. */
  outOfReach: readonly string[];
  atMs: number;
}

export function decideScorePolls(view: ScorePollView): ScorePollDecision {
  const { state } = view;
  const clones = Object.values(view.input.model.clones)
    .filter((clone) => clone.promotable)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const waitingFor = new Map<string, ScorePoll>();
  const aheadOutOfReach = new Map<string, string>();
  for (const action of view.ready) {
    const clone = clones.find((c) => promotesCopyOf(c, action));
    if (clone === undefined || aheadOutOfReach.has(clone.id)) continue;
    const reason = copyAheadOutOfReach(view, clone, action.node);
    if (reason !== undefined) aheadOutOfReach.set(clone.id, reason);
  }
  const holds = (action: Action) =>
    action.op === "promote" &&
    [...waitingFor.keys(), ...aheadOutOfReach.keys()].some(
      (clone) => parseCloneInstanceKey(clone, action.resource) !== undefined,
    );
  const waiting = () => [
    ...[...waitingFor].map(([clone, poll]) => ({
      resource: clone,
      reason: `promotes no copy until its copies on ${poll.recipients.filter((node) => !poll.answered.includes(node)).join(", ")} answer the score poll (until ${formatInstant(poll.deadlineAtMs)} at the latest)`,
    })),
    ...[...aheadOutOfReach]
      .filter(([clone]) => !waitingFor.has(clone))
      .map(([clone, reason]) => ({ resource: clone, reason })),
  ];
  let nextDeadlineAtMs: number | undefined;
  for (const clone of Object.keys(state.scorePolls ?? {}).sort()) {
    if (!clones.some((c) => c.id === clone)) {
      return { poll: { clone, poll: null }, holds, waiting: [] };
    }
  }
  for (const clone of clones) {
    const poll = ownValue(state.scorePolls ?? {}, clone.id);
    const promoted = hasPromotedCopy(state, clone.id);
    if (poll !== undefined) {
      if (promoted) return { poll: { clone: clone.id, poll: null }, holds, waiting: waiting() };
      if (!isComplete(view, clone.id, poll)) {
        waitingFor.set(clone.id, poll);
        nextDeadlineAtMs = Math.min(nextDeadlineAtMs ?? poll.deadlineAtMs, poll.deadlineAtMs);
      }
      continue;
    }
    // A notification round under way goes first (its post phase, say, after the starts).
    if (promoted || ownValue(state.notifyRounds ?? {}, clone.id) !== undefined) continue;
    if (!view.ready.some((action) => promotesCopyOf(clone, action))) continue;
    const recipients = nodesRunningUnpromoted(state, clone.id).filter((node) =>
      view.online.has(node),
    );
    if (recipients.length === 0) continue;
    const begun: ScorePoll = {
      id: state.version + 1,
      recipients,
      answered: [],
      deadlineAtMs: view.atMs + monitorTimeoutMs(view.input, clone) + SCORE_POLL_MARGIN_MS,
    };
    waitingFor.set(clone.id, begun);
    return { poll: { clone: clone.id, poll: begun }, holds, waiting: waiting() };
  }
  return {
    holds,
    waiting: waiting(),
    ...(nextDeadlineAtMs === undefined ? {} : { nextDeadlineAtMs }),
  };
}

/**
 * Why promoting the clone's copy on `target` would pass over a copy out of reach that scored
 * higher when last heard, if it would.
 */
function copyAheadOutOfReach(
  view: ScorePollView,
  clone: Clone,
  target: string,
): string | undefined {
  const rankOf = (node: string) =>
    promotionRank(
      view.input.nodes.find((n) => n.name === node),
      clone,
    );
  const targetRank = rankOf(target);
  const running = nodesRunningUnpromoted(view.state, clone.id);
  const ahead = view.outOfReach
    .filter((node) => running.includes(node))
    .map((node) => ({ node, rank: rankOf(node) }))
    .filter(
      (entry): entry is { node: string; rank: PromotionRank } =>
        entry.rank !== undefined &&
        (targetRank === undefined || comparePromotionRanks(entry.rank, targetRank) > 0),
    );
  if (ahead.length === 0) return undefined;
  const list = ahead.map(({ node, rank }) => `${node} (${formatPromotionRank(rank)})`).join(", ");
  return `promotes no copy while its copies on ${list}, out of reach, may hold newer data than the one on ${target} (${formatPromotionRank(targetRank)}): until they are back or their lease has surely ended`;
}

/** Every recipient answered, is offline or no longer runs its copy; or the deadline passed. */
function isComplete(view: ScorePollView, clone: string, poll: ScorePoll): boolean {
  if (view.atMs >= poll.deadlineAtMs) return true;
  const running = new Set(nodesRunningUnpromoted(view.state, clone));
  return poll.recipients.every(
    (node) => poll.answered.includes(node) || !view.online.has(node) || !running.has(node),
  );
}

function promotesCopyOf(clone: Clone, action: Action): boolean {
  return action.op === "promote" && parseCloneInstanceKey(clone.id, action.resource) !== undefined;
}

/** A copy of the clone is promoted, or told to be, somewhere. */
function hasPromotedCopy(state: ClusterState, clone: string): boolean {
  for (const [key, byNode] of Object.entries(state.resources)) {
    if (parseCloneInstanceKey(clone, key) === undefined) continue;
    for (const cell of Object.values(byNode)) {
      if (cell.active === "promoted" || cell.target === "promoted") return true;
    }
  }
  return false;
}

/** The nodes whose copy of the clone runs unpromoted, as they last reported, sorted. */
export function nodesRunningUnpromoted(state: ClusterState, clone: string): string[] {
  const nodes = new Set<string>();
  for (const [key, byNode] of Object.entries(state.resources)) {
    if (parseCloneInstanceKey(clone, key) === undefined) continue;
    for (const [node, cell] of Object.entries(byNode)) {
      if (cell.active === "unpromoted") nodes.add(node);
    }
  }
  return [...nodes].sort();
}

function monitorTimeoutMs(input: PolicyInput, clone: Clone): number {
  const primitive = input.model.primitives[clone.of];
  if (primitive === undefined) return DEFAULT_OPERATION_TIMEOUT_MS;
  return recurringMonitor(primitive, "unpromoted")?.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
}
