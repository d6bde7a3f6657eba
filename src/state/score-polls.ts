/**
 * Promotion score polls as replicated state. A promotable clone whose primary is gone is
 * promoted from its copies' scores (their replication offsets, say), and a score in the state
 * may be older than what its copy's last monitor read: a commit that did not get through while
 * the cluster had no quorum, or a monitor that ran after the primary's last writes. Before such
 * a promotion the leader polls (takeover/score-poll.ts): every node running a copy monitors it
 * again and answers with the score it reads, which becomes its attribute in the same entry.
 */
import { z } from "zod";
import { replicationOffsetAttribute } from "../resource-model/replication-offset.js";
import { nodeNameSchema, resourceNameSchema, versionSchema } from "./names.js";
import { ownValue, withEntry, withoutEntry } from "./records.js";
import { staleAttributeWrite, withTransientAttribute } from "./transient-attributes.js";
import type { ClusterState } from "./types.js";

export const scorePollSchema = z.strictObject({
  /** The state version that began the poll: what nodes answer it by. */
  id: versionSchema.min(1),
  /** The nodes asked: those running a copy of the clone, online, as the poll began. */
  recipients: z.array(nodeNameSchema).min(1).max(256),
  /** The recipients that answered, sorted. */
  answered: z.array(nodeNameSchema).max(256),
  /**
   * When recipients that have not answered stop being waited for (the leader's clock: the
   * monitor's timeout and a margin after the poll began).
   */
  deadlineAtMs: z.number().int().min(0),
});

export type ScorePoll = z.output<typeof scorePollSchema>;

/** Clone id → its poll; absent while none is under way or kept. */
export const scorePollsSchema = z.record(resourceNameSchema, scorePollSchema);

/** The attribute a copy's promotion score is kept in (policy/promotion.ts reads it). */
export function promotionScoreAttribute(clone: string): string {
  return `promotion-score-${clone}`;
}

/** The leader begins or (null) ends a clone's poll. */
export function setScorePoll(
  state: ClusterState,
  clone: string,
  poll: ScorePoll | null,
): ClusterState {
  const polls = state.scorePolls ?? {};
  const next = poll === null ? withoutEntry(polls, clone) : withEntry(polls, clone, poll);
  if (Object.keys(next).length > 0) return { ...state, scorePolls: next };
  const { scorePolls: _, ...rest } = state;
  return rest;
}

/** A copy told to promote ends its clone's poll, in the same entry: it has done its work. */
export function endPollsPromoted(
  state: ClusterState,
  changes: ReadonlyArray<{ resource: string; target: string }>,
): ClusterState {
  let next = state;
  for (const clone of Object.keys(state.scorePolls ?? {})) {
    const promotes = changes.some(
      (change) => change.target === "promoted" && change.resource.startsWith(`${clone}:`),
    );
    if (promotes) next = setScorePoll(next, clone, null);
  }
  return next;
}

/**
 * A node answers a poll with the score its copy's monitor read after it saw the poll (and the
 * replication offset read with it, for a clone that reads them): they become its attributes,
 * and it counts as answered. Refused unless the poll still asks it.
 */
export function recordScoreAnswer(
  state: ClusterState,
  answer: {
    clone: string;
    poll: number;
    node: string;
    incarnation: number;
    score: string;
    offset?: string;
    seq?: number;
  },
): ClusterState | string {
  const agent = ownValue(state.agents, answer.node);
  if (agent?.incarnation !== answer.incarnation) {
    return `score from node ${answer.node} run ${answer.incarnation}, which is not the run that probed (${agent?.incarnation ?? "none"})`;
  }
  const poll = ownValue(state.scorePolls ?? {}, answer.clone);
  if (poll === undefined || poll.id !== answer.poll) {
    return `clone ${answer.clone} has no score poll ${answer.poll} under way`;
  }
  if (!poll.recipients.includes(answer.node)) {
    return `node ${answer.node} is not asked in score poll ${answer.poll} of clone ${answer.clone}`;
  }
  // A value the run changed after reading this answer (a stopped copy withdraws both) stays.
  let updated = agent;
  const values: [string, string | undefined][] = [
    [promotionScoreAttribute(answer.clone), answer.score],
    [replicationOffsetAttribute(answer.clone), answer.offset],
  ];
  for (const [key, value] of values) {
    if (value === undefined || staleAttributeWrite(updated, key, answer.seq) !== null) continue;
    updated = withTransientAttribute(updated, key, value, answer.seq);
  }
  const answered = [...new Set([...poll.answered, answer.node])].sort();
  return setScorePoll(
    { ...state, agents: withEntry(state.agents, answer.node, updated) },
    answer.clone,
    { ...poll, answered },
  );
}
