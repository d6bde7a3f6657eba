import { type ReadyActions, readyActions } from "../policy/engine.js";
import type { Action, PolicyInput, PolicyOutput, RunRole } from "../policy/types.js";
import type { Command, CommandOf } from "../state/commands.js";
import type { ClusterState } from "../state/types.js";
import { confirmedPlacement } from "./cluster-view.js";
import { decideNotifications } from "./notify-round.js";
import { decideScorePolls } from "./score-poll.js";

export interface LeaderView {
  state: ClusterState;
  /** policyInputOf(state, …) as the leader sees the cluster now. */
  input: PolicyInput;
  /** Leader only: the node's lease has surely ended, so nothing it ran can still run. */
  leaseSurelyExpired(node: string): boolean;
  /**
   * Fencing is enabled: a lost node is released only by a successful fence (node_fenced), never
   * by its lease running out.
   */
  fencing?: boolean;
  /**
   * With fencing: whether the node's agent is heard at all (membership up). A node that is up
   * but not taking part yet (a new run probing) is waited for, not fenced.
   */
  isUp?(node: string): boolean;
  by: string;
  atMs: number;
  /** The policy engine's answer to `input`, when the caller has it (ReadyActionsMemo). */
  placement?: ReadyActions;
}

export interface LeaderStep {
  /** The commands to commit, in order; empty when the cluster is where it should be. */
  commands: Command[];
  policy: PolicyOutput;
  /** Nodes not taking part whose resources wait for their lease to end. */
  waitingForLease: string[];
  /** With fencing: nodes not taking part whose resources wait for them to be fenced. */
  toFence: string[];
  /** When to decide again even if nothing changes: a notification round's deadline. */
  recheckAtMs?: number;
}

/**
 * What the leader commits next, given one view of the cluster. Pure.
 *
 * 1. A node that is not taking part but still has resources recorded is released once its lease
 *    has surely ended (lease.ts): before that, its resources may still run there, and the policy
 *    engine leaves them blocked. With fencing, only a successful fence releases it (`toFence`:
 *    the caller fences, then commits node_fenced); a node whose run asked to be fenced (a
 *    resource failed there with on_fail fence) is fenced even while it is up.
 * 2. A promotable clone whose primary is gone is promoted from fresh scores: its copies are
 *    polled first (score-poll.ts), and its promotes wait for the answers.
 * 3. Otherwise the policy engine's actions that wait for nothing (`readyActions`: a start also
 *    waits for the starts it is ordered after to be reported, not just instructed) become the
 *    nodes' instructions (ResourceCell.target), all in one command. Actions that wait come
 *    later: the engine runs again on the state their predecessors' reports produce, so a start
 *    elsewhere is only ever instructed after the stop it waits for was reported.
 */
export function decideLeaderStep(view: LeaderView): LeaderStep {
  const { state, input } = view;
  const { output: placed, ready } =
    view.placement ?? readyActions(input, confirmedPlacement(state));
  const online = new Set(input.nodes.filter((node) => node.online).map((node) => node.name));
  const holding = new Set<string>(Object.keys(state.agents));
  for (const byNode of Object.values(state.resources)) {
    for (const node of Object.keys(byNode)) holding.add(node);
  }
  const waitingForLease: string[] = [];
  const toFence: string[] = [];
  const releases: Command[] = [];
  for (const node of [...holding].sort()) {
    if (online.has(node)) continue;
    const fenceRequested = view.fencing === true && fenceRequestOf(state, node) !== undefined;
    if (!hasResources(state, node) && !fenceRequested) continue;
    if (view.fencing === true) {
      if (view.isUp?.(node) === true && !fenceRequested) waitingForLease.push(node);
      else toFence.push(node);
    } else if (view.leaseSurelyExpired(node)) {
      // Compare-and-set: a node that probed again meanwhile (it is back) is not released.
      releases.push({
        type: "node_released",
        node,
        expectedVersion: state.version,
        by: view.by,
        atMs: view.atMs,
      });
    } else {
      waitingForLease.push(node);
    }
  }
  // One release per step: each is compare-and-set on the version this step was decided from.
  if (releases.length > 0) {
    return { commands: releases.slice(0, 1), policy: placed, waitingForLease, toFence };
  }
  const polls = decideScorePolls({
    state,
    input,
    ready,
    online,
    outOfReach: waitingForLease,
    atMs: view.atMs,
  });
  const policy =
    polls.waiting.length === 0
      ? placed
      : { ...placed, waiting: [...(placed.waiting ?? []), ...polls.waiting] };
  // A poll or a notification round is committed alone, compare-and-set on this step's version
  // as the instructions would be: what it holds is decided on the state after it.
  const stamped = { expectedVersion: state.version, by: view.by, atMs: view.atMs };
  if (polls.poll !== undefined) {
    const { clone, poll } = polls.poll;
    return {
      commands: [{ type: "score_poll", clone, poll, ...stamped }],
      policy,
      waitingForLease,
      toFence,
      ...(poll === null ? {} : { recheckAtMs: poll.deadlineAtMs }),
    };
  }
  const unheld = ready.filter((action) => !polls.holds(action));
  const notifications = decideNotifications({
    state,
    input,
    policy,
    ready: unheld,
    online,
    atMs: view.atMs,
    targetOf: (action) => targetOf(policy, action),
  });
  const deadlines = [notifications.nextDeadlineAtMs, polls.nextDeadlineAtMs].filter(
    (atMs): atMs is number => atMs !== undefined,
  );
  const recheck = deadlines.length === 0 ? {} : { recheckAtMs: Math.min(...deadlines) };
  if (notifications.round !== undefined) {
    const { clone, round } = notifications.round;
    return {
      commands: [{ type: "notify_round", clone, round, ...stamped }],
      policy,
      waitingForLease,
      toFence,
      ...recheck,
    };
  }
  const changes = [
    ...instructionsFor(
      state,
      policy,
      unheld.filter((action) => !notifications.holds(action)),
    ),
    ...adoptions(state, policy, online),
  ];
  const commands: Command[] =
    changes.length === 0
      ? []
      : [
          {
            type: "resource_targets",
            changes,
            expectedVersion: state.version,
            by: view.by,
            atMs: view.atMs,
          },
        ];
  return { commands, policy, waitingForLease, toFence, ...recheck };
}

/** Why the node's current run asked to be fenced (on_fail fence), if it did. */
export function fenceRequestOf(
  state: ClusterState,
  node: string,
): { resource: string; reason: string } | undefined {
  return Object.hasOwn(state.agents, node) ? state.agents[node]?.fenceRequested : undefined;
}

function hasResources(state: ClusterState, node: string): boolean {
  return Object.values(state.resources).some((byNode) => Object.hasOwn(byNode, node));
}

type Change = CommandOf<"resource_targets">["changes"][number];

function instructionsFor(
  state: ClusterState,
  policy: PolicyOutput,
  actions: readonly Action[],
): Change[] {
  const changes: Change[] = [];
  for (const action of actions) {
    const target = targetOf(policy, action);
    const cell = state.resources[action.resource]?.[action.node];
    if (cell?.target === target) continue;
    changes.push({ resource: action.resource, node: action.node, target });
  }
  return changes;
}

/**
 * Where the resource already runs as the placement wants (found by a probe, or an instruction
 * changed back before it was carried out), the instruction is set to match, so the node keeps it.
 */
function adoptions(
  state: ClusterState,
  policy: PolicyOutput,
  online: ReadonlySet<string>,
): Change[] {
  const touched = new Set(policy.actions.map((action) => `${action.resource}@${action.node}`));
  const changes: Change[] = [];
  for (const [key, placedList] of Object.entries(policy.placement)) {
    for (const placed of placedList) {
      if (!online.has(placed.node) || touched.has(`${key}@${placed.node}`)) continue;
      const cell = state.resources[key]?.[placed.node];
      if (cell === undefined || cell.target === placed.role) continue;
      changes.push({ resource: key, node: placed.node, target: placed.role });
    }
  }
  return changes;
}

/** The role the node is told to take for an action; a promotable copy starts unpromoted. */
export function targetOf(policy: PolicyOutput, action: Action): RunRole | "stopped" {
  switch (action.op) {
    case "stop":
      return "stopped";
    case "promote":
      return "promoted";
    case "demote":
      return "unpromoted";
    case "start": {
      const placed = policy.placement[action.resource]?.find((p) => p.node === action.node);
      return placed === undefined || placed.role === "started" ? "started" : "unpromoted";
    }
  }
}
