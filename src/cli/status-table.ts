import type { TwoNodeStatus } from "../consensus/types.js";
import type { AgentStatus } from "../control/status-reply.js";
import { renderTable } from "./table.js";

/** Renders `vigil status` for a person: the cluster, then one row per peer and link. */
export function renderStatus(status: AgentStatus): string {
  const { cluster, node, timing, detector } = status;
  const lines: string[] = [];
  lines.push(
    `Cluster ${cluster.name} (id ${cluster.id}) · node ${node.name} (id ${node.id}) · incarnation ${node.incarnation} · up ${duration(status.nowMs - node.startedAtMs)}`,
  );
  const detectorText =
    detector.type === "phi"
      ? `phi-accrual (threshold ${detector.phi_threshold}, warn ${detector.phi_warn})`
      : "fixed deadtime";
  lines.push(
    `Detector ${detectorText} · profile ${timing.profile} · keepalive ${timing.keepalive_ms} ms · warntime ${timing.warntime_ms} ms · deadtime ${timing.deadtime_ms} ms · initdead ${timing.initdead_ms} ms`,
  );
  const c = status.coordination;
  if (c !== null) {
    const leaderName = leaderNameOf(status);
    const leader =
      leaderName === null
        ? "none"
        : c.leaderId === node.id
          ? `${leaderName} (this node)`
          : leaderName;
    const lease =
      c.leaseUntilMs !== null && c.leaseUntilMs > status.nowMs
        ? `held for ${duration(c.leaseUntilMs - status.nowMs)}`
        : "not held";
    lines.push(
      `Coordination: ${c.role} · term ${c.term} · leader ${leader} · votes ${c.votesPresent}/${c.votesNeeded} needed${c.votesPresent >= c.votesNeeded ? "" : " (NO QUORUM)"} · commit ${c.commitIndex} · applied ${c.appliedIndex} · lease ${lease}${c.waitingForAll ? ` · ${waitingLine(c.waitingFor)}` : ""}`,
    );
    if (c.twoNode !== undefined) lines.push(twoNodeLine(c.twoNode, status));
    lines.push(
      `Cluster state: version ${c.stateVersion} · configuration version ${c.configurationVersion}`,
    );
  }
  lines.push("");

  const rows: string[][] = [
    ["NODE", "ID", "STATE", "INCARNATION", "LINK", "LINK STATE", "RTT", "LOSS", "LAST HEARD"],
  ];
  for (const peer of status.nodes) {
    const peerCells = [
      peer.name,
      String(peer.id),
      peer.state,
      peer.incarnation === null ? "-" : String(peer.incarnation),
    ];
    if (peer.links.length === 0)
      rows.push([...peerCells, "-", "-", "-", "-", ago(status.nowMs, peer.lastHeardMs)]);
    peer.links.forEach((link, index) => {
      rows.push([
        ...(index === 0 ? peerCells : ["", "", "", ""]),
        link.link,
        link.state,
        link.rttMs === null ? "-" : `${link.rttMs.toFixed(2)} ms`,
        link.lossRatio === null ? "-" : `${(link.lossRatio * 100).toFixed(1)}%`,
        ago(status.nowMs, link.lastHeardMs),
      ]);
    });
  }
  lines.push(...renderTable(rows));
  lines.push("");

  const linkRows: string[][] = [
    ["LINK", "TYPE", "SENT", "RECEIVED", "SEND ERRORS", "FRAMING ERRORS"],
  ];
  for (const link of status.links) {
    const c = link.counters;
    linkRows.push([
      link.name,
      link.kind,
      String(c.framesSent),
      String(c.framesReceived),
      String(c.sendErrors),
      String(c.framingErrors),
    ]);
  }
  lines.push(...renderTable(linkRows));

  const rejects = Object.entries(status.rejects).filter(([, count]) => count > 0);
  lines.push("");
  lines.push(
    `Rejected frames: ${rejects.length === 0 ? "none" : rejects.map(([reason, count]) => `${reason} ${count}`).join(", ")}`,
  );
  return lines.join("\n");
}

/** The Raft leader's node name as this agent knows it; null without a leader (or coordination). */
function waitingLine(waitingFor: readonly string[] | undefined): string {
  if (waitingFor === undefined) return "waiting for every node to be seen once (wait_for_all)";
  return `waiting for ${waitingFor.join(", ")} to be seen once (wait_for_all; \`vigil quorum unblock\` if lost for good)`;
}

export function leaderNameOf(status: AgentStatus): string | null {
  const leaderId = status.coordination?.leaderId ?? null;
  if (leaderId === null) return null;
  if (leaderId === status.node.id) return status.node.name;
  return status.nodes.find((peer) => peer.id === leaderId)?.name ?? `node ${leaderId}`;
}

function ago(nowMs: number, thenMs: number | null): string {
  return thenMs === null ? "never" : `${duration(nowMs - thenMs)} ago`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${Math.floor(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/** Two-node mode (src/consensus/two-node.ts): whether this node could go on alone, and does. */
function twoNodeLine(twoNode: TwoNodeStatus, status: AgentStatus): string {
  const nameOf = (id: number) => status.nodes.find((peer) => peer.id === id)?.name ?? `node ${id}`;
  const standIns = twoNode.standIns.map(nameOf);
  const alone =
    standIns.length > 0 ? ` · going on alone: ${standIns.join(", ")} is fenced or left` : "";
  const readiness = twoNode.caughtUp
    ? "caught up (may fence its peer and go on alone)"
    : "NOT caught up since start (waits for its peer; will not go on alone)";
  return `Two-node mode: ${readiness}${alone}`;
}
