import { formatTime, h } from "../dom.js";

/** How many entries the timeline shows. */
const SHOWN = 60;

/**
 * The cluster's events, newest first: what the answering node's membership saw (its recent
 * events), the replicated state's changes (who did what), fences and incidents.
 */
export function timelineView(model) {
  const status = model.status;
  const seenBy = status.node.name;
  const entries = [
    ...status.recentEvents.map((event) => ({
      atMs: event.atMs,
      kind: event.type,
      text: describeMembershipEvent(event, seenBy),
      severity: ["node_dead", "link_down", "local_stall"].includes(event.type)
        ? "bad"
        : event.type === "heartbeat_late"
          ? "warn"
          : "good",
    })),
    ...(model.state?.history ?? []).map((change) => ({
      atMs: change.atMs,
      kind: "change",
      text: `${change.summary} (by ${change.by}, version ${change.version})`,
      severity: "info",
    })),
    ...(status.resources?.fenceHistory ?? []).map((fence) => ({
      atMs: fence.atMs,
      kind: "fence",
      text: `${fence.node} fenced (${fence.action}): ${fence.ok ? "done" : "failed"}`,
      severity: fence.ok ? "warn" : "bad",
    })),
    ...(status.resources?.incidents ?? []).map((incident) => ({
      atMs: incident.atMs,
      kind: "incident",
      text: `${incident.resource} running on ${incident.nodes.join(" and ")}`,
      severity: "bad",
    })),
  ]
    .sort((a, b) => b.atMs - a.atMs)
    .slice(0, SHOWN);
  const key = JSON.stringify(entries);
  const build = () =>
    entries.length === 0
      ? h("p", { class: "empty" }, "Nothing has happened yet.")
      : h(
          "ol",
          { class: "timeline" },
          entries.map((entry) =>
            h(
              "li",
              { class: entry.severity, "data-kind": entry.kind },
              h("time", {}, formatTime(entry.atMs)),
              h("span", { class: "kind" }, entry.kind.replaceAll("_", " ")),
              h("span", {}, entry.text),
            ),
          ),
        );
  return { key, build };
}

function describeMembershipEvent(event, seenBy) {
  const by = ` (seen by ${seenBy})`;
  switch (event.type) {
    case "node_up":
      return `${event.name} is up, incarnation ${event.incarnation}${by}`;
    case "node_dead":
      return `${event.name} is dead: ${event.reason}, silent ${Math.round(event.silentMs)} ms${by}`;
    case "node_left":
      return `${event.name} left the cluster${by}`;
    case "link_up":
      return `link ${event.link} to ${event.name} is up${by}`;
    case "link_down":
      return `link ${event.link} to ${event.name} is down, silent ${Math.round(event.silentMs)} ms${by}`;
    case "heartbeat_late":
      return `late heartbeat from ${event.name} on ${event.link}${by}`;
    case "local_stall":
      return `${seenBy} was stalled for ${Math.round(event.stalledMs)} ms`;
    default:
      return `${event.type}${by}`;
  }
}
