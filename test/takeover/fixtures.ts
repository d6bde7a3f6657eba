import assert from "node:assert/strict";
import type { NodeConfig } from "../../src/config/schema.js";
import type { PolicyInput, RunRole } from "../../src/policy/types.js";
import type { ResourceModel } from "../../src/resource-model/types.js";
import { applyCommand } from "../../src/state/apply.js";
import { type Command, encodeCommand } from "../../src/state/commands.js";
import type { JsonObject } from "../../src/state/json.js";
import { initialState } from "../../src/state/serialize.js";
import type { ClusterState } from "../../src/state/types.js";
import { committedModel, policyInputOf } from "../../src/takeover/cluster-view.js";
import { decideLeaderStep, type LeaderStep } from "../../src/takeover/leader-step.js";

export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const NODE_NAMES = ["node1", "node2", "node3"] as const;
export const LEADER = "policy@node1";

/** Minimal node entries of the cluster configuration: no links are needed to place resources. */
export function nodeConfigs(...names: string[]): NodeConfig[] {
  return names.map((name, i) => ({ id: i + 1, name, votes: 1, witness: false, links: {} }));
}

export const NODES: NodeConfig[] = nodeConfigs(...NODE_NAMES);

type CommandBody = Command extends infer C
  ? C extends Command
    ? Omit<C, "by" | "atMs"> & { by?: string; atMs?: number }
    : never
  : never;

/** Applies commands in order; every one must be accepted. `by`/`atMs` default to test values. */
export function commit(
  state: ClusterState,
  ...commands: Array<CommandBody | ((state: ClusterState) => CommandBody)>
): ClusterState {
  let next = state;
  for (const item of commands) {
    const body = typeof item === "function" ? item(next) : item;
    const command = { by: "test", atMs: T0, ...body } as Command;
    const applied = applyCommand(next, encodeCommand(command));
    assert.ok(
      applied.result.ok,
      `${command.type} refused: ${JSON.stringify(applied.result)} (${encodeCommand(command)})`,
    );
    next = applied.state;
  }
  return next;
}

/** A config_apply of `document` (the resources/constraints sections) on top of `state`. */
export function applyDocument(state: ClusterState, document: JsonObject): ClusterState {
  return commit(state, (s) => ({
    type: "config_apply",
    text: JSON.stringify(document),
    document,
    expectedVersion: s.version,
  }));
}

/** The node's run `incarnation` probes the configuration in force and finds `found` running. */
export function probe(
  state: ClusterState,
  node: string,
  found: Array<{ resource: string; role: RunRole }> = [],
  incarnation = 1,
): ClusterState {
  return commit(state, (s) => ({
    type: "node_probed",
    node,
    incarnation,
    configVersion: s.config.version,
    active: found,
  }));
}

/** The configuration applied and every node's run 1 probed with nothing running. */
export function configured(
  document: JsonObject,
  probedBy: readonly string[] = NODE_NAMES,
): ClusterState {
  let state = applyDocument(initialState(), document);
  for (const node of probedBy) state = probe(state, node);
  return state;
}

/** The node's run 1 reports `active` (null: stopped) for `resource`. */
export function report(
  state: ClusterState,
  resource: string,
  node: string,
  active: RunRole | null,
  options: { stopFailed?: boolean; incarnation?: number } = {},
): ClusterState {
  return commit(state, {
    type: "resource_report",
    resource,
    node,
    incarnation: options.incarnation ?? 1,
    active,
    ...(options.stopFailed === undefined ? {} : { stopFailed: options.stopFailed }),
  });
}

/**
 * The node's run 1 publishes its promotion score for clone `clone` (what its monitor said;
 * "none": it gave none; null: withdrawn).
 */
export function promotionScore(
  state: ClusterState,
  clone: string,
  node: string,
  value: string | null,
): ClusterState {
  return commit(state, {
    type: "node_transient_attribute",
    node,
    incarnation: 1,
    key: `promotion-score-${clone}`,
    value,
  });
}

/** The node's run 1 publishes its copy's replication offset for clone `clone`. */
export function replicationOffset(
  state: ClusterState,
  clone: string,
  node: string,
  value: string,
): ClusterState {
  return commit(state, {
    type: "node_transient_attribute",
    node,
    incarnation: 1,
    key: `replication-offset-${clone}`,
    value,
  });
}

/**
 * The node answers its clone's score poll under way with `score` (its copy's fresh monitor), and
 * `offset` where its clone reads replication offsets.
 */
export function answerPoll(
  state: ClusterState,
  clone: string,
  node: string,
  score: string,
  offset?: string,
): ClusterState {
  const poll = state.scorePolls?.[clone];
  assert.ok(poll !== undefined, `no score poll of ${clone} under way`);
  return commit(state, {
    type: "score_answer",
    clone,
    poll: poll.id,
    node,
    incarnation: 1,
    score,
    ...(offset === undefined ? {} : { offset }),
  });
}

/** How the leader sees the cluster: which agent run is up on each node, whose lease ended. */
export interface View {
  nodes?: NodeConfig[];
  /** Node → its live agent run; absent: run 1; null: not up. */
  live?: Record<string, number | null>;
  /** Nodes whose lease has surely ended. */
  expired?: readonly string[];
  nowMs?: number;
  /** The leader's clock as it decides (its commands' atMs); T0 unless given. */
  leaderAtMs?: number;
  /** Fencing enabled; `up`: nodes whose heartbeats arrive (membership). */
  fencing?: { up: readonly string[] };
}

/** The committed model of each configuration, made once (as the agent keeps it per version). */
const models = new WeakMap<ClusterState["config"], ResourceModel>();

function modelOf(state: ClusterState, nodes: readonly NodeConfig[]): ResourceModel {
  if (nodes !== NODES) return committedModel(state, nodes).model;
  let model = models.get(state.config);
  if (model === undefined) {
    model = committedModel(state, nodes).model;
    models.set(state.config, model);
  }
  return model;
}

export function inputOf(state: ClusterState, view: View = {}): PolicyInput {
  return policyInputOf({
    state,
    nodes: view.nodes ?? NODES,
    model: modelOf(state, view.nodes ?? NODES),
    liveIncarnation: (node) => {
      const live = view.live ?? {};
      return Object.hasOwn(live, node.name) ? (live[node.name] ?? null) : 1;
    },
    nowMs: view.nowMs ?? T0,
    fencing: view.fencing !== undefined,
  });
}

export function stepOf(state: ClusterState, view: View = {}): LeaderStep {
  const expired = new Set(view.expired ?? []);
  return decideLeaderStep({
    state,
    input: inputOf(state, view),
    leaseSurelyExpired: (node) => expired.has(node),
    ...(view.fencing === undefined
      ? {}
      : { fencing: true, isUp: (node: string) => view.fencing?.up.includes(node) ?? false }),
    by: LEADER,
    atMs: view.leaderAtMs ?? T0,
  });
}

export type Change = [resource: string, node: string, target: RunRole | "stopped"];

/**
 * The instructions of a step as [resource, node, target] triples, asserting the step is at most
 * one resource_targets command based on the state's version (no commands: no instructions).
 */
export function changesOf(step: LeaderStep, state: ClusterState): Change[] {
  if (step.commands.length === 0) return [];
  assert.equal(step.commands.length, 1, `expected one command: ${JSON.stringify(step.commands)}`);
  const command = step.commands[0];
  assert.ok(
    command?.type === "resource_targets",
    `expected resource_targets: ${JSON.stringify(command)}`,
  );
  assert.equal(command.expectedVersion, state.version);
  assert.equal(command.by, LEADER);
  assert.equal(command.atMs, T0);
  return command.changes.map((c) => [c.resource, c.node, c.target]);
}

/** Sorted, so that tests do not depend on the order changes are listed in. */
export function sortedChanges(step: LeaderStep, state: ClusterState): Change[] {
  return changesOf(step, state).sort((a, b) => (a.join("@") < b.join("@") ? -1 : 1));
}

/** Commits the leader's step (whatever it is) and returns the state after it. */
export function commitStep(state: ClusterState, step: LeaderStep): ClusterState {
  return commit(state, ...step.commands);
}

/** One primitive with a harmless agent; `meta` as written in the configuration. */
export function exec(meta: JsonObject = {}): JsonObject {
  return { agent: "exec:/bin/true", meta };
}

export const WEB = { resources: { web: exec() } };

/** web instructed and reported running on `node`. */
export function webRunningOn(node: string, document = WEB): ClusterState {
  let state = configured(document);
  state = commit(state, (s) => ({
    type: "resource_targets",
    changes: [{ resource: "web", node, target: "started" }],
    expectedVersion: s.version,
  }));
  return report(state, "web", node, "started");
}
