import type { AgentStatus } from "../control/status-reply.js";
import { describeMembershipEvent } from "../membership/describe-event.js";
import type { ClusterState } from "../state/types.js";

export type Observation = {
  name: string;
  running: boolean;
  paused: boolean;
  status: AgentStatus | null;
  /** The replicated record of what runs where, as this node has it. */
  resources?: ClusterState["resources"] | null;
};

const COLOURS = { up: 32, late: 33, dead: 31, left: 36, unknown: 90, down: 31 } as const;

/**
 * The demo screen: one row per node showing how it sees every other node (state, and per link
 * state and round-trip time), then the latest events from every node's point of view.
 */
export function renderDemo(
  observations: Observation[],
  options: { colour: boolean; header: string },
): string {
  const paint = (text: string, key: keyof typeof COLOURS) =>
    options.colour ? `\x1b[${COLOURS[key]}m${text}\x1b[0m` : text;
  const names = observations.map((o) => o.name);
  const width = 26;
  const lines = [
    options.header,
    "",
    `${"sees →".padEnd(10)}${names.map((n) => n.padEnd(width)).join("")}`,
  ];
  for (const observer of observations) {
    const cells = names.map((peerName) => {
      if (peerName === observer.name) {
        const leads = observer.status?.coordination?.role === "leader";
        const self = observer.paused
          ? "paused"
          : observer.running
            ? leads
              ? "running, leader"
              : "running"
            : "killed";
        return paint(
          `(${self})`.padEnd(width),
          observer.running && !observer.paused ? "up" : "dead",
        );
      }
      const peer = observer.status?.nodes.find((node) => node.name === peerName);
      if (!observer.running || peer === undefined) return "".padEnd(width);
      const links = peer.links
        .map(
          (link) =>
            `${link.state === "up" ? "+" : link.state === "late" ? "~" : "-"}${link.rttMs === null ? "" : link.rttMs.toFixed(1)}`,
        )
        .join(" ");
      return paint(`${peer.state} ${links}`.padEnd(width), peer.state);
    });
    lines.push(`${observer.name.padEnd(10)}${cells.join("")}`);
  }
  lines.push(
    "",
    "links: + up, ~ late, - down, then RTT in ms",
    "",
    ...describeResources(observations),
  );
  lines.push("", "Latest events (as each node saw them):");
  for (const { observer, event } of latestEvents(observations, 10)) {
    lines.push(
      `  ${clockTime(event.atMs)}  ${observer.padEnd(8)} ${describeMembershipEvent(event)}`,
    );
  }
  return lines.join("\n");
}

/** Where each resource runs, as the leader (or else any running node) has it. */
function describeResources(observations: Observation[]): string[] {
  const leader = observations.find((o) => o.status?.coordination?.role === "leader");
  const source = (leader ?? observations.find((o) => o.resources))?.resources;
  if (!source) return ["Resources: (no node to ask)"];
  const keys = Object.keys(source).sort();
  if (keys.length === 0) return ["Resources: none running"];
  return keys.map((key) => {
    const cells = Object.entries(source[key] ?? {}).map(([node, cell]) => {
      if (cell.stopFailed) return `${node} (STOP FAILED)`;
      if (cell.active !== undefined && cell.target === "stopped") return `${node} (stopping)`;
      if (cell.active === undefined) return `${node} (starting)`;
      return cell.active === "promoted" ? `${node} (promoted)` : node;
    });
    return `Resource ${key} runs on: ${cells.join(", ")}`;
  });
}

function latestEvents(observations: Observation[], limit: number) {
  return observations
    .flatMap((o) => (o.status?.recentEvents ?? []).map((event) => ({ observer: o.name, event })))
    .sort((a, b) => a.event.atMs - b.event.atMs)
    .slice(-limit);
}

function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 23);
}
