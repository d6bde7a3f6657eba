/**
 * Pacemaker's clone notifications, the leader's side. Pure. For a clone with `notify: true`, the
 * engine's actions on its copies go through a round (state/notify-rounds.ts), one at a time per
 * clone, in Pacemaker's order (demote, stop, start, promote):
 *
 *   pre     every node with an active copy runs `notify` (type pre) and records it; a node that
 *           is offline, or has not answered by the deadline, is not waited for.
 *   acting  the operation's targets, instructed with this phase (in the same entry), are
 *           carried out as any other.
 *   post    each action ended (done, failed, or its node lost): every node with an active copy
 *           now runs `notify` (type post); then the round ends and the next may begin.
 *
 * Everything a step needs is in the committed state, so a new leader goes on where the last one
 * left off; while a round is under way no other action on the clone's copies is instructed.
 */

import { parseCloneInstanceKey } from "../policy/naming.js";
import type { Action, PolicyInput, PolicyOutput, RunRole } from "../policy/types.js";
import { DEFAULT_OPERATION_TIMEOUT_MS } from "../resource-model/parse-operations.js";
import type { Clone } from "../resource-model/types.js";
import {
  NOTIFY_LIST_NAMES,
  type NotifyLists,
  type NotifyOperation,
  type NotifyRound,
} from "../state/notify-rounds.js";
import type { ClusterState, ResourceCell } from "../state/types.js";

/** How long past the notify timeout a recipient is waited for (its report must commit too). */
export const NOTIFY_DEADLINE_MARGIN_MS = 5_000;

type Target = RunRole | "stopped";

export interface NotifyDecision {
  /** A round to begin, advance or end (null): committed alone, before anything else. */
  round?: { clone: string; round: NotifyRound | null };
  /** Whether the engine's action waits for a round: its clone notifies. */
  holds(action: Action): boolean;
  /** The earliest deadline of a round waiting for recipients (the leader looks again then). */
  nextDeadlineAtMs?: number;
}

export interface NotifyView {
  state: ClusterState;
  input: PolicyInput;
  policy: PolicyOutput;
  ready: readonly Action[];
  online: ReadonlySet<string>;
  atMs: number;
  targetOf(action: Action): Target;
}

export function decideNotifications(view: NotifyView): NotifyDecision {
  const { state } = view;
  const clones = notifyingClones(view.input);
  const cloneOfKey = (key: string): string | undefined =>
    clones.find((clone) => parseCloneInstanceKey(clone.id, key) !== undefined)?.id;
  const holds = (action: Action) => cloneOfKey(action.resource) !== undefined;
  let nextDeadlineAtMs: number | undefined;
  // A clone no longer notifying (or gone) ends its round: its actions are the engine's again.
  for (const clone of Object.keys(state.notifyRounds ?? {}).sort()) {
    if (!clones.some((c) => c.id === clone)) {
      return { round: { clone, round: null }, holds };
    }
  }
  for (const clone of clones) {
    const round = state.notifyRounds?.[clone.id];
    if (round === undefined) {
      const begun = beginRound(view, clone);
      if (begun !== undefined) return { round: { clone: clone.id, round: begun }, holds };
      continue;
    }
    if (round.phase === "acting") {
      if (round.actions.every((action) => settled(view, action))) {
        return { round: { clone: clone.id, round: nextPhase(view, clone, round) }, holds };
      }
      continue;
    }
    if (round.phase === "pre" && !stillPlanned(view.policy, round)) {
      // The engine no longer wants it (a node lost meanwhile): Pacemaker too drops a transition
      // whose pre-notifications went out; the next round tells the copies what happens instead.
      return { round: { clone: clone.id, round: null }, holds };
    }
    const answered = round.recipients.every(
      (node) => round.notified[node] !== undefined || !view.online.has(node),
    );
    if (answered || view.atMs >= round.deadlineAtMs) {
      return {
        round: { clone: clone.id, round: nextPhase(view, clone, round) },
        holds,
      };
    }
    nextDeadlineAtMs = Math.min(nextDeadlineAtMs ?? round.deadlineAtMs, round.deadlineAtMs);
  }
  return {
    holds,
    ...(nextDeadlineAtMs === undefined ? {} : { nextDeadlineAtMs }),
  };
}

function notifyingClones(input: PolicyInput): Clone[] {
  return Object.values(input.model.clones)
    .filter((clone) => clone.notify === true)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * The next round of a clone with nothing under way: the ready actions of the first operation in
 * Pacemaker's order that has some. Without any copy to tell, it begins acting at once.
 */
function beginRound(view: NotifyView, clone: Clone): NotifyRound | undefined {
  const ofClone = view.ready.filter(
    (action) => parseCloneInstanceKey(clone.id, action.resource) !== undefined,
  );
  const operation = ORDER.find((op) => ofClone.some((action) => action.op === op));
  if (operation === undefined) return undefined;
  const actions = ofClone
    .filter((action) => action.op === operation)
    .sort(byResourceThenNode)
    .map((action) => ({
      resource: action.resource,
      node: action.node,
      target: view.targetOf(action),
      failures: view.state.failCounts[action.resource]?.[action.node]?.count ?? 0,
    }));
  const round: NotifyRound = {
    id: view.state.version + 1,
    operation,
    phase: "pre",
    actions,
    lists: notifyLists({
      clone,
      state: view.state,
      planned: view.policy.actions.filter(
        (action) => parseCloneInstanceKey(clone.id, action.resource) !== undefined,
      ),
      nodes: view.input.nodes.map((node) => node.name),
    }),
    recipients: [],
    notified: {},
    deadlineAtMs: 0,
  };
  return withRecipients(view, clone, round, "pre") ?? acting(round);
}

/** pre → acting → post → ended; a phase with no copy to tell is passed over. */
function nextPhase(view: NotifyView, clone: Clone, round: NotifyRound): NotifyRound | null {
  if (round.phase === "pre") return acting(round);
  if (round.phase === "post") return null;
  return withRecipients(view, clone, round, "post") ?? null;
}

function acting(round: NotifyRound): NotifyRound {
  return { ...round, phase: "acting", recipients: [], notified: {}, deadlineAtMs: 0 };
}

/** The round in `phase`, told to every online node with an active copy; undefined if none. */
function withRecipients(
  view: NotifyView,
  clone: Clone,
  round: NotifyRound,
  phase: "pre" | "post",
): NotifyRound | undefined {
  const recipients = activeCopies(view.state, clone.id)
    .map((copy) => copy.node)
    .filter((node) => view.online.has(node));
  if (recipients.length === 0) return undefined;
  const primitive = view.input.model.primitives[clone.of];
  const timeoutMs = primitive?.operations.notify?.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  return {
    ...round,
    phase,
    recipients: [...new Set(recipients)].sort(),
    notified: {},
    deadlineAtMs: view.atMs + timeoutMs + NOTIFY_DEADLINE_MARGIN_MS,
  };
}

/** Demote before stop, start before promote: Pacemaker's order within a transition. */
const ORDER: readonly NotifyOperation[] = ["demote", "stop", "start", "promote"];

/** Every action of the round is still one the engine plans. */
function stillPlanned(policy: PolicyOutput, round: NotifyRound): boolean {
  return round.actions.every((planned) =>
    policy.actions.some(
      (action) =>
        action.op === round.operation &&
        action.resource === planned.resource &&
        action.node === planned.node,
    ),
  );
}

/**
 * The action ended: its node reports the role it was told (or its stop: the cell is gone), a
 * failure was counted there since the round began, its stop failed, or its node is lost (nothing
 * will report). A cell told to stop that reports nothing active may still run (its node is
 * stopping it: ResourceCell), and ending the round then had the engine plan the same stop again
 * and again, a round every few entries, until the stop ended.
 */
function settled(view: NotifyView, action: NotifyRound["actions"][number]): boolean {
  if (!view.online.has(action.node)) return true;
  const failures = view.state.failCounts[action.resource]?.[action.node]?.count ?? 0;
  if (failures !== action.failures) return true;
  const cell: ResourceCell | undefined = view.state.resources[action.resource]?.[action.node];
  // Given with the acting round; changed since by a report, a probe or a release: it ended.
  if (cell?.stopFailed === true || cell?.target !== action.target) return true;
  if (action.target === "stopped") return false;
  if (action.target === "promoted") return cell?.active === "promoted";
  return cell?.active === "started" || cell?.active === "unpromoted";
}

interface Copy {
  resource: string;
  node: string;
  active: NonNullable<ResourceCell["active"]>;
}

/** The clone's copies that run (as their nodes last reported), by copy key. */
function activeCopies(state: ClusterState, cloneId: string): Copy[] {
  const copies: Copy[] = [];
  for (const [resource, byNode] of Object.entries(state.resources)) {
    if (parseCloneInstanceKey(cloneId, resource) === undefined) continue;
    for (const [node, cell] of Object.entries(byNode)) {
      if (cell.active !== undefined) copies.push({ resource, node, active: cell.active });
    }
  }
  return copies.sort(byResourceThenNode);
}

/**
 * Pacemaker's notify lists for a clone as a round begins: the copies each of the transition's
 * operations acts on (`planned`: the engine's actions on the clone), the copies active, inactive,
 * promoted and unpromoted now, and all copies and nodes. A copy is named by its key (`db:1`);
 * `_resource` and `_uname` lists pair up by position. `master`/`slave` are the older spellings
 * of `promoted`/`unpromoted`, sent too as Pacemaker 2.1 does.
 */
export function notifyLists(input: {
  clone: Clone;
  state: ClusterState;
  planned: readonly Action[];
  nodes: readonly string[];
}): NotifyLists {
  const { clone, state } = input;
  const active = activeCopies(state, clone.id);
  const pairs = (copies: ReadonlyArray<{ resource: string; node: string }>) => ({
    resource: copies.map((copy) => copy.resource),
    uname: copies.map((copy) => copy.node),
  });
  const ofOp = (op: NotifyOperation) =>
    pairs(
      input.planned
        .filter((action) => action.op === op)
        .map((action) => ({ resource: action.resource, node: action.node }))
        .sort(byResourceThenNode),
    );
  const allKeys = Array.from({ length: clone.max }, (_, index) => `${clone.id}:${index}`);
  const activeKeys = new Set(active.map((copy) => copy.resource));
  const promoted = pairs(active.filter((copy) => copy.active === "promoted"));
  const unpromoted = pairs(active.filter((copy) => copy.active === "unpromoted"));
  const lists = {
    start: ofOp("start"),
    stop: ofOp("stop"),
    promote: ofOp("promote"),
    demote: ofOp("demote"),
    active: pairs(active),
    inactive: { resource: allKeys.filter((key) => !activeKeys.has(key)), uname: [] },
    master: promoted,
    slave: unpromoted,
    promoted,
    unpromoted,
    all: { resource: allKeys, uname: [...new Set(input.nodes)].sort() },
  } satisfies NotifyLists;
  return lists;
}

/**
 * What a copy's agent is told for one phase of a round: OCF_RESKEY_CRM_meta_notify_type and
 * _operation, and each list, space-separated, as Pacemaker passes them.
 */
export function notifyEnvironment(
  round: NotifyRound,
  type: "pre" | "post",
): Record<string, string> {
  const environment: Record<string, string> = {
    OCF_RESKEY_CRM_meta_notify_type: type,
    OCF_RESKEY_CRM_meta_notify_operation: round.operation,
  };
  for (const name of NOTIFY_LIST_NAMES) {
    environment[`OCF_RESKEY_CRM_meta_notify_${name}_resource`] =
      round.lists[name].resource.join(" ");
    environment[`OCF_RESKEY_CRM_meta_notify_${name}_uname`] = round.lists[name].uname.join(" ");
  }
  return environment;
}

function byResourceThenNode(
  a: { resource: string; node: string },
  b: { resource: string; node: string },
): number {
  if (a.resource !== b.resource) return a.resource < b.resource ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}
