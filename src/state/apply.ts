import {
  type Command,
  type CommandOf,
  commandScope,
  type ParsedCommand,
  parseCommand,
} from "./commands.js";
import { countFence } from "./fence-counts.js";
import { appendHistory, describeChangesSince, summarizeCommand } from "./history.js";
import { markDelivered, recordLiveness, recordNotifications } from "./notifications.js";
import { recordNotified, setNotifyRound } from "./notify-rounds.js";
import { ownValue, withEntry, withoutEntry } from "./records.js";
import { groupMembers, keysNamedBy, keysOfChangedDefinitions } from "./resource-keys.js";
import { endPollsPromoted, recordScoreAnswer, setScorePoll } from "./score-polls.js";
import { acquireLock, createSession, destroySession, releaseLock } from "./sessions.js";
import { staleAttributeWrite, withTransientAttribute } from "./transient-attributes.js";
import {
  type AgentRecord,
  type ClusterState,
  type CommandResult,
  type FailCount,
  FENCE_HISTORY_LIMIT,
  type FenceEvent,
  INCIDENT_LIMIT,
  type Incident,
  type NodeState,
  type OperatorOverride,
  type ResourceCell,
} from "./types.js";

export interface Applied {
  state: ClusterState;
  result: CommandResult;
}

/**
 * Applies one committed payload. Pure and total: the same state and payload give the same
 * outcome on every node, and a payload that is malformed or refused leaves the state as it was
 * (the entry is committed regardless, so refusing must be as deterministic as applying). The
 * input state is never modified, nor the parsed command. `parse` reads the payload: parseCommand,
 * or a memo of it (the simulator's nodes apply the same payloads).
 */
export function applyCommand(
  state: ClusterState,
  payload: string,
  parse: (payload: string) => ParsedCommand = parseCommand,
): Applied {
  const parsed = parse(payload);
  if (!parsed.ok) return refuse(state, parsed.error);
  const command = parsed.command;

  const conflict = checkExpectedVersion(state, command);
  if (conflict !== null) return refuse(state, conflict);

  const changed = change(state, command);
  if (typeof changed === "string") return refuse(state, changed);

  const version = state.version + 1;
  const scope = commandScope(command);
  const next: ClusterState = {
    ...changed,
    version,
    configurationVersion: scope === "configuration" ? version : state.configurationVersion,
    // A hook's or a notification's progress is bookkeeping: it would push the changes operators
    // read out of history.
    history:
      command.type === "hook_delivered" || command.type === "notify_done"
        ? state.history
        : appendHistory(state.history, {
            version,
            summary: summarizeCommand(command, state),
            by: command.by,
            atMs: command.atMs,
            scope,
          }),
  };
  const noted =
    command.type === "hook_delivered" ? next : recordNotifications(state, next, command);
  return { state: noted, result: { ok: true, version } };
}

function refuse(state: ClusterState, error: string): Applied {
  return { state, result: { ok: false, error } };
}

/**
 * Compare-and-set on the version. A configuration change conflicts only with configuration
 * changes made after the version it was based on; a runtime change (placement computed from
 * what the cluster looked like) conflicts with any change.
 */
function checkExpectedVersion(state: ClusterState, command: Command): string | null {
  const basedOn = command.expectedVersion;
  if (basedOn === undefined) return null;
  const what = commandScope(command) === "configuration" ? "config" : "cluster state";
  if (basedOn > state.version) {
    return `${what} is at version ${state.version}, but your change was based on version ${basedOn}, which does not exist yet`;
  }
  const configurationOnly = commandScope(command) === "configuration";
  const lastRelevantVersion = configurationOnly ? state.configurationVersion : state.version;
  if (lastRelevantVersion <= basedOn) return null;
  const changes = describeChangesSince(
    state.history,
    basedOn,
    (entry) => !configurationOnly || entry.scope === "configuration",
    state.version,
  );
  const retry = configurationOnly ? "; review with `vigil config show` and apply again" : "";
  return `${what} is at version ${state.version}, your change was based on version ${basedOn}; changed in between: ${changes}${retry}`;
}

/** The state after the command, before versioning; or why the command is refused. */
function change(state: ClusterState, command: Command): ClusterState | string {
  switch (command.type) {
    case "config_apply":
      return {
        ...state,
        failCounts: keysOfChangedDefinitions(
          state.config.document,
          command.document,
          Object.keys(state.failCounts),
        ).reduce((counts, key) => withoutEntry(counts, key), state.failCounts),
        config: {
          version: state.version + 1,
          document: command.document,
          text: command.text,
          appliedAtMs: command.atMs,
          appliedBy: command.by,
        },
      };
    case "node_attribute_set": {
      const node = nodeOf(state, command.node);
      return withNode(state, command.node, {
        ...node,
        attributes: withEntry(node.attributes, command.key, command.value),
      });
    }
    case "node_attribute_unset": {
      const node = nodeOf(state, command.node);
      if (ownValue(node.attributes, command.key) === undefined) {
        return `node ${command.node} has no attribute ${command.key}`;
      }
      return withNode(state, command.node, {
        ...node,
        attributes: withoutEntry(node.attributes, command.key),
      });
    }
    case "node_standby":
      return withNode(state, command.node, {
        ...nodeOf(state, command.node),
        standby: command.standby,
      });
    case "maintenance":
      return { ...state, maintenance: command.on };
    case "cluster_property":
      return withClusterProperty(state, command);
    case "fail_count_increment":
      return incrementFailCount(state, command);
    case "fail_count_reset":
      return resetFailCount(state, command);
    case "resource_targets":
      return withTargets(state, command.changes);
    case "resource_report":
      return withIncidents(state, applyReport(state, command), [command.resource], command);
    case "node_probed":
      return withIncidents(
        state,
        applyProbe(state, command),
        command.active.map((found) => found.resource),
        command,
      );
    case "node_released":
      return releaseNode(state, command.node);
    case "node_fenced": {
      const event: FenceEvent = {
        node: command.node,
        ok: command.ok,
        action: command.action,
        devices: [...command.devices],
        detail: command.detail,
        ...(command.attempts === undefined
          ? {}
          : { attempts: command.attempts.map((attempt) => ({ ...attempt })) }),
        by: command.by,
        atMs: command.atMs,
      };
      const history = [...state.fenceHistory, event].slice(-FENCE_HISTORY_LIMIT);
      // A record committed late (resent through an election) must not release a run that
      // probed after the fence began: that run came back after it, and runs its resources.
      const agent = ownValue(state.agents, command.node);
      const cameBack =
        command.run !== undefined &&
        agent !== undefined &&
        (command.run === null || agent.incarnation > command.run);
      const next = command.ok && !cameBack ? releaseNode(state, command.node) : state;
      return { ...next, fenceHistory: history, fenceCounts: countFence(state.fenceCounts, event) };
    }
    case "node_shutdown": {
      const agent = ownValue(state.agents, command.node);
      if (agent?.incarnation !== command.incarnation) {
        return `node ${command.node} run ${command.incarnation} has not probed its resources; nothing to move away`;
      }
      const leaving: AgentRecord = { ...agent, shuttingDown: true };
      return { ...state, agents: withEntry(state.agents, command.node, leaving) };
    }
    case "node_fence_request": {
      const agent = ownValue(state.agents, command.node);
      if (agent?.incarnation !== command.incarnation) {
        return `fence request from node ${command.node} run ${command.incarnation}, which is not the run that probed (${agent?.incarnation ?? "none"})`;
      }
      const requested: AgentRecord = {
        ...agent,
        fenceRequested: { resource: command.resource, reason: command.reason },
      };
      return { ...state, agents: withEntry(state.agents, command.node, requested) };
    }
    case "node_transient_attribute": {
      const agent = ownValue(state.agents, command.node);
      if (agent?.incarnation !== command.incarnation) {
        return `attribute from node ${command.node} run ${command.incarnation}, which is not the run that probed (${agent?.incarnation ?? "none"})`;
      }
      const stale = staleAttributeWrite(agent, command.key, command.seq);
      if (stale !== null) return `${stale}; node ${command.node} writes what it holds now`;
      const next = withTransientAttribute(agent, command.key, command.value, command.seq);
      return { ...state, agents: withEntry(state.agents, command.node, next) };
    }
    case "hook_delivered":
      return markDelivered(state, command.hook, command.seq);
    case "node_liveness":
      return recordLiveness(state, command.node, command.liveness);
    case "resource_move":
      return withOverride(state, command.resource, (o) => ({ ...o, prefer: command.node }));
    case "resource_ban":
      return withOverride(state, command.resource, (o) => ({
        ...o,
        bans: [...new Set([...(o.bans ?? []), command.node])].sort(),
      }));
    case "resource_clear": {
      const override = ownValue(state.operator, command.resource);
      if (override?.prefer === undefined && override?.bans === undefined) {
        return `${command.resource} has no move or ban to clear`;
      }
      const { prefer: _p, bans: _b, ...rest } = override;
      return withOverride(state, command.resource, () => rest);
    }
    case "resource_role":
      return withOverride(state, command.resource, (o) =>
        command.stopped ? { ...o, stopped: true } : withoutKey(o, "stopped"),
      );
    case "session_create":
      return createSession(state, command);
    case "session_destroy":
      return destroySession(state, command);
    case "lock_acquire":
      return acquireLock(state, command);
    case "lock_release":
      return releaseLock(state, command);
    case "notify_round": {
      const round = command.round;
      const wasActing = ownValue(state.notifyRounds ?? {}, command.clone)?.phase === "acting";
      if (round === null || round.phase !== "acting" || wasActing) {
        return setNotifyRound(state, command.clone, round);
      }
      // Acting: its instructions go with it, in one entry, so that they are given exactly once
      // (what later changes a cell, a report or a probe, is never undone by the round).
      return withTargets(setNotifyRound(state, command.clone, round), round.actions);
    }
    case "notify_done":
      return recordNotified(state, command);
    case "score_poll":
      return setScorePoll(state, command.clone, command.poll);
    case "score_answer":
      return recordScoreAnswer(state, command);
  }
}

/** The leader's instructions, each a cell's target; one to promote ends its clone's poll. */
function withTargets(
  state: ClusterState,
  changes: ReadonlyArray<{
    resource: string;
    node: string;
    target: NonNullable<ResourceCell["target"]>;
  }>,
): ClusterState {
  const instructed = changes.reduce(
    (next, change) =>
      withCell(next, change.resource, change.node, (cell) => ({ ...cell, target: change.target })),
    state,
  );
  return endPollsPromoted(instructed, changes);
}

/** Marks a failed start: the node is banned for the resource until the count is reset. */
export const FATAL_FAIL_COUNT = 1_000_000;

function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _, ...rest } = value;
  return rest;
}

/** Nothing the node ran runs any more: its cells and its run's record go. */
function releaseNode(state: ClusterState, node: string): ClusterState {
  return { ...withoutNodeCells(state, node), agents: withoutEntry(state.agents, node) };
}

function withCell(
  state: ClusterState,
  resource: string,
  node: string,
  update: (cell: ResourceCell) => ResourceCell,
): ClusterState {
  const byNode = ownValue(state.resources, resource) ?? {};
  const cell = update(ownValue(byNode, node) ?? {});
  const empty = Object.keys(cell).length === 0;
  const nextByNode = empty ? withoutEntry(byNode, node) : withEntry(byNode, node, cell);
  return {
    ...state,
    resources:
      Object.keys(nextByNode).length === 0
        ? withoutEntry(state.resources, resource)
        : withEntry(state.resources, resource, nextByNode),
  };
}

function withoutNodeCells(state: ClusterState, node: string): ClusterState {
  let next = state;
  for (const resource of Object.keys(state.resources)) {
    next = withCell(next, resource, node, () => ({}));
  }
  return next;
}

function applyReport(
  state: ClusterState,
  command: CommandOf<"resource_report">,
): ClusterState | string {
  const agent = ownValue(state.agents, command.node);
  if (agent?.incarnation !== command.incarnation) {
    return `report from node ${command.node} run ${command.incarnation}, which is not the run that probed (${agent?.incarnation ?? "none"})`;
  }
  const stale = staleReport(agent, command.resource, command.seq);
  if (stale !== null) return `${stale}; node ${command.node} reports again from what runs now`;
  const reported = withCell(state, command.resource, command.node, (cell) => {
    if (command.stopFailed === true) {
      return { ...cell, active: command.active ?? "started", stopFailed: true };
    }
    const { active: _a, stopFailed: _s, ...rest } = cell;
    if (command.active !== null) return { ...rest, active: command.active };
    // Given back (a notifying clone's copy stopped for recovery): the leader starts it again.
    if (command.release === true) return {};
    // Stopped as told, or stopped on its own with no instruction: nothing runs there any more.
    if (rest.target === undefined || rest.target === "stopped") return {};
    // A primary that stopped untold (failed, lease lost) is a primary no more: like Pacemaker,
    // it starts again unpromoted and the leader chooses the primary afresh by promotion score.
    // Promoted again at once, a copy that lost its data would make its replicas copy the loss.
    if (rest.target === "promoted") return { ...rest, target: "unpromoted" };
    return rest;
  });
  if (command.seq === undefined) return reported;
  const seqs = withEntry(agent.reportSeqs ?? {}, command.resource, command.seq);
  const next: AgentRecord = { ...agent, reportSeqs: seqs };
  return { ...reported, agents: withEntry(reported.agents, command.node, next) };
}

/**
 * Why a run's report is older than what the state already has from that run (its last probe,
 * or a later report of the same resource), or null. Reports travel as forwards that are resent
 * until answered: one sent before a lease gap can commit after the run has stopped the
 * resource and probed again, and would then say it runs.
 */
function staleReport(agent: AgentRecord, resource: string, seq: number | undefined): string | null {
  if (seq === undefined) return null;
  if (agent.probeSeq !== undefined && seq < agent.probeSeq)
    return `report ${seq} of ${resource} is older than the run's probe ${agent.probeSeq}`;
  const last = agent.reportSeqs !== undefined ? ownValue(agent.reportSeqs, resource) : undefined;
  if (last !== undefined && seq <= last)
    return `report ${seq} of ${resource} is not newer than report ${last}`;
  return null;
}

/**
 * A new run starts from what it found: its old instructions and reports are void. The same run
 * probing again (after a configuration change) adds what it found to what it already reported.
 */
/**
 * A report or probe that shows a placement key running on a second node (each key is one
 * instance: a primitive, or one copy of a clone) is an incident: recorded once, as it appears.
 * The policy engine then stops the copies that do not belong.
 */
function withIncidents(
  before: ClusterState,
  after: ClusterState | string,
  resources: readonly string[],
  command: { by: string; atMs: number },
): ClusterState | string {
  if (typeof after === "string") return after;
  const found: Incident[] = [];
  for (const resource of new Set(resources)) {
    const nowActive = activeNodes(after, resource);
    if (nowActive.length < 2 || activeNodes(before, resource).length >= 2) continue;
    found.push({
      kind: "multiply_active",
      resource,
      nodes: nowActive,
      by: command.by,
      atMs: command.atMs,
    });
  }
  if (found.length === 0) return after;
  return { ...after, incidents: [...after.incidents, ...found].slice(-INCIDENT_LIMIT) };
}

function activeNodes(state: ClusterState, resource: string): string[] {
  const byNode = ownValue(state.resources, resource) ?? {};
  return Object.keys(byNode)
    .filter((node) => byNode[node]!.active !== undefined)
    .sort();
}

function applyProbe(state: ClusterState, command: CommandOf<"node_probed">): ClusterState | string {
  if (command.configVersion !== state.config.version) {
    return `node ${command.node} probed against configuration version ${command.configVersion}, but version ${state.config.version} is in force; it probes again`;
  }
  const previous = ownValue(state.agents, command.node);
  const sameRun = previous?.incarnation === command.incarnation;
  if (sameRun && command.seq !== undefined && previous.probeSeq !== undefined) {
    if (command.seq <= previous.probeSeq)
      return `probe ${command.seq} of node ${command.node} is not newer than its probe ${previous.probeSeq}`;
  }
  let next = sameRun ? state : withoutNodeCells(state, command.node);
  // Reports this run made after the probe that committed before it are newer than what the
  // probe found: they stand.
  const newerReports = Object.entries(sameRun ? (previous.reportSeqs ?? {}) : {}).filter(
    ([, seq]) => command.seq !== undefined && seq > command.seq,
  );
  const reportedSince = new Set(newerReports.map(([resource]) => resource));
  for (const found of command.active) {
    if (reportedSince.has(found.resource)) continue;
    next = withCell(next, found.resource, command.node, (cell) => ({
      ...cell,
      active: found.role,
    }));
  }
  const agent: AgentRecord = {
    incarnation: command.incarnation,
    probedConfigVersion: command.configVersion,
    shuttingDown: sameRun ? previous.shuttingDown : false,
    ...(sameRun && previous.attributes !== undefined ? { attributes: previous.attributes } : {}),
    ...(sameRun && previous.attributeSeqs !== undefined
      ? { attributeSeqs: previous.attributeSeqs }
      : {}),
    ...(sameRun && previous.fenceRequested !== undefined
      ? { fenceRequested: previous.fenceRequested }
      : {}),
    ...(command.seq !== undefined ? { probeSeq: command.seq } : {}),
    ...(newerReports.length > 0 ? { reportSeqs: Object.fromEntries(newerReports) } : {}),
  };
  return { ...next, agents: withEntry(state.agents, command.node, agent) };
}

function clearStopFailed(
  state: ClusterState,
  resource: string,
  node: string | undefined,
): ClusterState {
  let next = state;
  for (const [name, cell] of Object.entries(ownValue(state.resources, resource) ?? {})) {
    if (!cell.stopFailed || (node !== undefined && name !== node)) continue;
    next = withCell(next, resource, name, (c) => withoutKey(c, "stopFailed"));
  }
  return next;
}

function withOverride(
  state: ClusterState,
  resource: string,
  update: (override: OperatorOverride) => OperatorOverride,
): ClusterState {
  const next = update(ownValue(state.operator, resource) ?? {});
  return {
    ...state,
    operator:
      Object.keys(next).length === 0
        ? withoutEntry(state.operator, resource)
        : withEntry(state.operator, resource, next),
  };
}

function withClusterProperty(
  state: ClusterState,
  command: CommandOf<"cluster_property">,
): ClusterState | string {
  const properties = state.clusterProperties ?? {};
  if (command.value !== null) {
    return {
      ...state,
      clusterProperties: withEntry(properties, command.name, command.value),
    };
  }
  if (ownValue(properties, command.name) === undefined) {
    return `no cluster property ${command.name} is set`;
  }
  const { clusterProperties: _, ...rest } = state;
  const remaining = withoutEntry(properties, command.name);
  return Object.keys(remaining).length === 0 ? rest : { ...rest, clusterProperties: remaining };
}

function nodeOf(state: ClusterState, name: string): NodeState {
  return ownValue(state.nodes, name) ?? { attributes: {}, standby: false };
}

function withNode(state: ClusterState, name: string, node: NodeState): ClusterState {
  return { ...state, nodes: withEntry(state.nodes, name, node) };
}

function incrementFailCount(
  state: ClusterState,
  command: CommandOf<"fail_count_increment">,
): ClusterState {
  const byNode = ownValue(state.failCounts, command.resource) ?? {};
  const previous = ownValue(byNode, command.node);
  const next: FailCount = {
    count:
      command.fatal === true
        ? FATAL_FAIL_COUNT
        : Math.min((previous?.count ?? 0) + 1, FATAL_FAIL_COUNT),
    lastFailureAtMs: command.atMs,
  };
  return {
    ...state,
    failCounts: withEntry(
      state.failCounts,
      command.resource,
      withEntry(byNode, command.node, next),
    ),
  };
}

/**
 * Cleanup: forgets failures, and a failed stop's "unknown" mark, so the node tries to stop it
 * again (Pacemaker's cleanup re-checks the resource the same way).
 */
function resetFailCount(
  state: ClusterState,
  command: CommandOf<"fail_count_reset">,
): ClusterState | string {
  // Fail counts are kept per primitive and per copy: a clone's name stands for its copies, a
  // group's for its members.
  const keys = keysNamedBy(
    command.resource,
    [...Object.keys(state.failCounts), ...Object.keys(state.resources)],
    state.config.document,
  );
  const cleared = keys.reduce((next, key) => clearStopFailed(next, key, command.node), state);
  const failCounts = keys.reduce(
    (counts, key) => withoutFailCounts(counts, key, command.node),
    state.failCounts,
  );
  if (cleared === state && failCounts === state.failCounts) {
    const members = groupMembers(state.config.document, command.resource);
    const what =
      members.length === 0
        ? command.resource
        : `group ${command.resource}'s members (${members.join(", ")})`;
    const countedElsewhere = keys.some((key) => ownValue(state.failCounts, key) !== undefined);
    return command.node === undefined || !countedElsewhere
      ? `no fail counts are recorded for ${what}`
      : `no fail count is recorded for ${what} on ${command.node}`;
  }
  return { ...cleared, failCounts };
}

/** The fail counts without the resource's (on one node, or all); the same object if none. */
function withoutFailCounts(
  failCounts: ClusterState["failCounts"],
  resource: string,
  node: string | undefined,
): ClusterState["failCounts"] {
  const byNode = ownValue(failCounts, resource);
  if (byNode === undefined) return failCounts;
  if (node === undefined) return withoutEntry(failCounts, resource);
  if (ownValue(byNode, node) === undefined) return failCounts;
  const remaining = withoutEntry(byNode, node);
  return Object.keys(remaining).length === 0
    ? withoutEntry(failCounts, resource)
    : withEntry(failCounts, resource, remaining);
}
