import { type Command, type CommandOf, commandScope, parseCommand } from "./commands.js";
import { appendHistory, describeChangesSince, summarizeCommand } from "./history.js";
import { ownValue, withEntry, withoutEntry } from "./records.js";
import type { ClusterState, CommandResult, FailCount, NodeState } from "./types.js";

export interface Applied {
  state: ClusterState;
  result: CommandResult;
}

/**
 * Applies one committed payload. Pure and total: the same state and payload give the same
 * outcome on every node, and a payload that is malformed or refused leaves the state as it was
 * (the entry is committed regardless, so refusing must be as deterministic as applying). The
 * input state is never modified.
 */
export function applyCommand(state: ClusterState, payload: string): Applied {
  const parsed = parseCommand(payload);
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
    history: appendHistory(state.history, {
      version,
      summary: summarizeCommand(command, state),
      by: command.by,
      atMs: command.atMs,
      scope,
    }),
  };
  return { state: next, result: { ok: true, version } };
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
    case "fail_count_increment":
      return incrementFailCount(state, command);
    case "fail_count_reset":
      return resetFailCount(state, command);
    case "placement_set":
      return {
        ...state,
        placement:
          command.nodes.length === 0
            ? withoutEntry(state.placement, command.resource)
            : withEntry(state.placement, command.resource, [...command.nodes]),
      };
  }
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
    count: (previous?.count ?? 0) + 1,
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

function resetFailCount(
  state: ClusterState,
  command: CommandOf<"fail_count_reset">,
): ClusterState | string {
  const byNode = ownValue(state.failCounts, command.resource);
  if (byNode === undefined) return `no fail counts are recorded for ${command.resource}`;
  if (command.node === undefined) {
    return { ...state, failCounts: withoutEntry(state.failCounts, command.resource) };
  }
  if (ownValue(byNode, command.node) === undefined) {
    return `no fail count is recorded for ${command.resource} on ${command.node}`;
  }
  const remaining = withoutEntry(byNode, command.node);
  return {
    ...state,
    failCounts:
      Object.keys(remaining).length === 0
        ? withoutEntry(state.failCounts, command.resource)
        : withEntry(state.failCounts, command.resource, remaining),
  };
}
