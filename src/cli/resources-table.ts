import type { ResourcesReply } from "../control/coordination-routes.js";
import { describeDeviceEvent } from "../fencing/device-health.js";
import { attemptLine } from "../fencing/fence-report.js";
import type { FenceEvent, OperatorOverride } from "../state/types.js";
import { renderFenceDevices } from "./fence-devices-table.js";
import { byKey } from "./resource-view.js";
import { renderTable } from "./table.js";

export type { ResourcesReply };

const MAX_ACTIONS_SHOWN = 5;
const RECENT_EVENTS_SHOWN = 5;

/**
 * The "Resources" section of `vigil status`: one row per placement key and node with the
 * leader's target, the node's report and a failed stop; then the operators' moves, bans and
 * stops; then, on the leader, what cannot run, what waits and what is still to do, and elsewhere
 * which node that is (`leaderNode`: its name, null when there is none, undefined when unknown).
 */
export function renderResources(
  reply: ResourcesReply,
  operator: Readonly<Record<string, OperatorOverride>>,
  localNode: string,
  leaderNode?: string | null,
): string[] {
  const lines: string[] = [];
  const rows: string[][] = [["RESOURCE", "NODE", "TARGET", "ACTIVE", "NOTE"]];
  const busy = new Set(reply.local.filter((copy) => copy.busy).map((copy) => copy.resource));
  for (const key of Object.keys(reply.state).sort(byKey)) {
    const byNode = reply.state[key] ?? {};
    Object.keys(byNode)
      .sort()
      .forEach((node, index) => {
        const cell = byNode[node]!;
        const notes: string[] = [];
        if (cell.stopFailed === true) notes.push("STOP FAILED (vigil resource cleanup)");
        else if (cell.target !== undefined && cell.target !== (cell.active ?? "stopped")) {
          notes.push(inFlight(cell.target, cell.active));
        }
        if (node === localNode && busy.has(key)) notes.push("operation in flight");
        rows.push([
          index === 0 ? key : "",
          node,
          cell.target ?? "-",
          cell.active ?? "stopped",
          notes.join(", "),
        ]);
      });
  }
  if (rows.length === 1) lines.push("Resources: none running");
  else lines.push("Resources:", ...renderTable(rows));

  const overrides = Object.keys(operator)
    .sort()
    .map((resource) => {
      const override = operator[resource]!;
      const parts: string[] = [];
      if (override.prefer !== undefined) parts.push(`moved to ${override.prefer}`);
      if (override.bans !== undefined && override.bans.length > 0) {
        parts.push(`banned from ${override.bans.join(", ")}`);
      }
      if (override.stopped === true) parts.push("stopped by operator");
      return parts.length === 0 ? null : `${resource} ${parts.join(", ")}`;
    })
    .filter((text) => text !== null);
  if (overrides.length > 0) lines.push(`Operator overrides: ${overrides.join(" · ")}`);

  if (reply.fenceDevices !== undefined) lines.push(...renderFenceDevices(reply.fenceDevices));
  lines.push(...renderRecentEvents(reply));

  const leader = reply.leader;
  if (leader === null) {
    const elsewhere = placementElsewhere(localNode, leaderNode);
    if (elsewhere !== null) lines.push(elsewhere);
  } else {
    const { unplaceable, blocked, waitingForLease, pendingActions } = leader;
    const waiting = leader.waiting ?? [];
    for (const { resource, reason } of unplaceable) {
      lines.push(`Unplaceable: ${resource}: ${reason}`);
    }
    for (const { resource, reason } of blocked) lines.push(`Blocked: ${resource}: ${reason}`);
    for (const { resource, reason } of waiting) lines.push(`Waiting: ${resource} ${reason}`);
    if (waitingForLease.length > 0) {
      lines.push(
        `Waiting for the lease of ${waitingForLease.join(", ")} to end before moving their resources`,
      );
    }
    if (pendingActions.length > 0) {
      const shown = pendingActions.slice(0, MAX_ACTIONS_SHOWN).join(", ");
      const more =
        pendingActions.length > MAX_ACTIONS_SHOWN
          ? `, and ${pendingActions.length - MAX_ACTIONS_SHOWN} more`
          : "";
      lines.push(`Pending actions (${pendingActions.length}): ${shown}${more}`);
    }
    if (
      unplaceable.length +
        blocked.length +
        waiting.length +
        waitingForLease.length +
        pendingActions.length ===
      0
    ) {
      lines.push("Placement (this node leads): settled, nothing to do");
    }
  }
  return lines;
}

/**
 * Only the leader decides placement, so only it can say what cannot run, what is blocked and
 * what is still to do: a follower names it, so the operator knows where to ask.
 */
function placementElsewhere(
  localNode: string,
  leaderNode: string | null | undefined,
): string | null {
  if (leaderNode === undefined) return null;
  if (leaderNode === null)
    return "Placement: no leader now, so nothing is placed; what cannot run or waits is known once one is elected";
  if (leaderNode === localNode)
    return "Placement (this node leads): not computed yet; ask again in a moment";
  return `Placement is decided by the leader, ${leaderNode}: what cannot run, what waits and what is still to do are shown by \`vigil status\` on ${leaderNode}`;
}

/** What a cell whose report differs from its instruction is doing. */
function inFlight(target: string, active: string | undefined): string {
  if (target === "stopped") return "stopping";
  if (target === "promoted") return "promoting";
  if (active === "promoted") return "demoting";
  return "starting";
}

/**
 * The latest fences and incidents, oldest first: what happened to the cluster lately. A fence
 * shows each of its agent runs on a line of its own, so that a level that failed before another
 * fenced the node is seen.
 */
function renderRecentEvents(reply: ResourcesReply): string[] {
  const events = [
    ...(reply.fenceHistory ?? []).map((fence) => ({
      atMs: fence.atMs,
      text: describeFence(fence),
      details: (fence.attempts ?? []).map(attemptLine),
    })),
    ...(reply.fenceDeviceEvents ?? []).map((event) => ({
      atMs: event.atMs,
      text: describeDeviceEvent(event),
      details: [] as string[],
    })),
    ...(reply.incidents ?? []).map((incident) => ({
      atMs: incident.atMs,
      text: `INCIDENT: ${incident.resource} ran on ${incident.nodes.join(" and ")} at once (extra copies stopped)`,
      details: [] as string[],
    })),
  ]
    .sort((a, b) => a.atMs - b.atMs)
    .slice(-RECENT_EVENTS_SHOWN);
  if (events.length === 0) return [];
  return [
    "Recent events:",
    ...events.flatMap((event) => [
      `  ${new Date(event.atMs).toISOString()}  ${event.text}`,
      ...event.details.map((detail) => `      ${detail}`),
    ]),
  ];
}

function describeFence(fence: FenceEvent): string {
  if (fence.action === "confirm") return `${fence.node} confirmed down by ${fence.by}`;
  const outcome = fence.ok ? "fenced" : "FENCING FAILED";
  const headline = `${fence.node} ${outcome} (${fence.action}, ${fence.devices.join(", ") || "no device"}) by ${fence.by}`;
  // Records with their agent runs show them below; older ones carry the reason in their detail.
  return fence.ok || (fence.attempts ?? []).length > 0 ? headline : `${headline}: ${fence.detail}`;
}
