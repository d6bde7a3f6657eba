import type { Command } from "./commands.js";
import { describeDiffSize, diffLines } from "./config-diff.js";
import { ownValue } from "./records.js";
import {
  type ClusterState,
  HISTORY_LIMIT,
  type HistoryEntry,
  type SessionEndReason,
} from "./types.js";

/** How many in-between changes a refusal lists before summarising the rest as a count. */
const CONFLICTS_LISTED = 10;

const INSTRUCTION_VERB = {
  started: "start",
  unpromoted: "run unpromoted",
  promoted: "promote",
  stopped: "stop",
} as const;

/** One line saying what a command did, worded against the state it was applied to. */
export function summarizeCommand(command: Command, before: ClusterState): string {
  switch (command.type) {
    case "config_apply":
      return `config apply (${describeDiffSize(diffLines(before.config.text, command.text))})`;
    case "node_attribute_set":
      return `node ${command.node} attribute ${command.key}=${command.value}`;
    case "node_attribute_unset":
      return `node ${command.node} attribute ${command.key} removed`;
    case "cluster_property":
      return command.value === null
        ? `cluster property ${command.name} removed`
        : `cluster property ${command.name}=${command.value}`;
    case "node_standby":
      return `node ${command.node} ${command.standby ? "standby" : "standby off"}`;
    case "maintenance":
      return `maintenance ${command.on ? "on" : "off"}`;
    case "fail_count_increment":
      if (command.fatal)
        return `${command.resource} failed to start on ${command.node}: banned there`;
      return `fail count ${command.resource} on ${command.node} now ${failCountOf(before, command.resource, command.node) + 1}`;
    case "fail_count_reset":
      return command.node === undefined
        ? `fail counts ${command.resource} reset on all nodes`
        : `fail count ${command.resource} on ${command.node} reset`;
    case "resource_targets":
      return `placement: ${command.changes
        .map((c) => `${INSTRUCTION_VERB[c.target]} ${c.resource}@${c.node}`)
        .join(", ")}`;
    case "resource_report":
      return `${command.resource} on ${command.node} ${command.stopFailed ? "stop failed" : (command.active ?? "stopped")}`;
    case "node_probed":
      return `node ${command.node} probed: ${command.active.length === 0 ? "nothing running" : command.active.map((a) => `${a.resource} ${a.role}`).join(", ")}`;
    case "node_released":
      return `node ${command.node} released (lease over): its resources may run elsewhere`;
    case "node_transient_attribute":
      return command.value === null
        ? `node ${command.node} transient attribute ${command.key} removed`
        : `node ${command.node} transient attribute ${command.key}=${command.value}`;
    case "node_fenced":
      if (command.action === "confirm") return `node ${command.node} confirmed down by hand`;
      return command.ok
        ? `node ${command.node} fenced (${command.action} by ${command.devices.join(", ")})`
        : `fencing node ${command.node} FAILED: ${command.detail}`;
    case "node_shutdown":
      return `node ${command.node} shutting down`;
    case "notify_round":
      return command.round === null
        ? `notifications of clone ${command.clone} done`
        : `notify clone ${command.clone}: ${command.round.phase} ${command.round.operation} ${command.round.actions.map((a) => `${a.resource}@${a.node}`).join(", ")}`;
    case "score_poll":
      return command.poll === null
        ? `score poll of clone ${command.clone} done`
        : `clone ${command.clone}: its copies on ${command.poll.recipients.join(", ")} asked for their promotion scores`;
    case "score_answer":
      return `${command.clone} on ${command.node} scored ${command.score}${command.offset === undefined ? "" : `, offset ${command.offset}`} (poll ${command.poll})`;
    case "notify_done":
      return `${command.clone} on ${command.node} notified (${command.phase}, round ${command.round}): ${command.outcome}`;
    case "hook_delivered":
      return `hook ${command.hook} told of events up to ${command.seq}`;
    case "node_liveness":
      return `node ${command.node} ${command.liveness === "up" ? "up" : "dead"}`;
    case "node_fence_request":
      return `node ${command.node} to be fenced: ${command.resource} failed (on_fail fence)`;
    case "resource_move":
      return `${command.resource} moved to ${command.node}`;
    case "resource_ban":
      return `${command.resource} banned from ${command.node}`;
    case "resource_clear":
      return `${command.resource} move/ban cleared`;
    case "resource_role":
      return `${command.resource} ${command.stopped ? "stopped" : "started"} by operator`;
    case "session_create":
      return `session ${command.session} (${command.name}) opened on ${command.node}, TTL ${command.ttlMs} ms`;
    case "session_destroy":
      return `session ${command.session} ended: ${describeSessionEnd(command.reason)}`;
    case "lock_acquire":
      return `lock ${command.key} acquired by session ${command.session}`;
    case "lock_release":
      return `lock ${command.key} released by session ${command.session}`;
  }
}

/** Why a session ended, in words (the history, `vigil session list`). */
export function describeSessionEnd(reason: SessionEndReason): string {
  switch (reason) {
    case "client":
      return "destroyed by its client";
    case "ttl":
      return "its heartbeats stopped for its TTL";
    case "node_dead":
      return "its node died";
    case "check_failing":
      return "one of its checks failed";
  }
}

function failCountOf(state: ClusterState, resource: string, node: string): number {
  const byNode = ownValue(state.failCounts, resource);
  return (byNode && ownValue(byNode, node)?.count) ?? 0;
}

export function appendHistory(
  history: readonly HistoryEntry[],
  entry: HistoryEntry,
): HistoryEntry[] {
  const kept =
    history.length >= HISTORY_LIMIT ? history.slice(history.length - HISTORY_LIMIT + 1) : history;
  return [...kept, entry];
}

/** "v6 node db2 standby (by alice at 2026-11-23T12:00:00Z)" */
export function describeHistoryEntry(entry: HistoryEntry): string {
  return `v${entry.version} ${entry.summary} (by ${entry.by} at ${formatInstant(entry.atMs)})`;
}

/** ISO 8601 in UTC, to the second unless the milliseconds matter. */
export function formatInstant(atMs: number): string {
  return new Date(atMs).toISOString().replace(".000Z", "Z");
}

/**
 * Lists the changes after `basedOnVersion` that a change based on it did not see, oldest
 * first, from the history; says so when older ones have already left it.
 */
export function describeChangesSince(
  history: readonly HistoryEntry[],
  basedOnVersion: number,
  relevant: (entry: HistoryEntry) => boolean,
  currentVersion: number,
): string {
  const missed = history.filter((entry) => entry.version > basedOnVersion && relevant(entry));
  const parts = missed.slice(0, CONFLICTS_LISTED).map(describeHistoryEntry);
  if (missed.length > CONFLICTS_LISTED) parts.push(`and ${missed.length - CONFLICTS_LISTED} more`);
  const oldestKept = history[0]?.version ?? currentVersion + 1;
  if (oldestKept > basedOnVersion + 1) {
    parts.push(
      `and earlier changes since v${basedOnVersion} that the history (last ${HISTORY_LIMIT}) no longer holds`,
    );
  }
  return parts.join(", ");
}
