/**
 * Membership: which peers are alive, decided from heartbeats on every link. Pure: time comes in
 * as `nowMs` (the agent's monotonic clock, ms), events go out as return values.
 *
 * Node states (one per peer; the local node is not tracked):
 *
 *                        heartbeat: node_up
 *     unknown ─────────────────────────────────────────────► up ◄─┐ newer incarnation:
 *        │                                                 │  ▲ └──┘ node_dead(restarted),
 *        │ initdead_ms expires:                            │  │      node_up
 *        │ node_dead(never_seen)      last link down:      │  │
 *        ▼                            node_dead(timeout)   │  │ heartbeat: node_up
 *      dead ◄──────────────────────────────────────────────┘  │ (same incarnation: resumed,
 *        └────────────────────────────────────────────────────┘  e.g. SIGCONT; newer: restarted)
 *
 *     any state ── Leave with incarnation ≥ known: node_left ──► left
 *     left ── heartbeat of a newer incarnation: node_up ──► up   (same incarnation: ignored)
 *
 * Link states (one per peer and link; a node is up while any of its links is up or late):
 *
 *     down ── heartbeat: link_up ──► up ── silence past the late threshold: heartbeat_late ──► late
 *       ▲                            ▲ ◄────────────── heartbeat (no event) ────────────────── │
 *       └──── silence past the down threshold: link_down (from up or late) ───────────────────┘
 *
 * Only heartbeats raise a link; only tick() lowers one. A heartbeat that arrives after a
 * deadline but before the tick that would act on it wins: the agent's timer deciding a little
 * late must not turn into a death.
 *
 * The caller must call tick() at least every keepalive_ms (the agent's heartbeat timer does) and
 * at nextTickAtMs(). A much longer gap between calls means this process was not running: see
 * noticeStall.
 */
import type { Echo, HeartbeatPayload } from "../wire/message.js";
import { createDetector } from "./create-detector.js";
import { MembershipConfigError } from "./errors.js";
import { LinkTracker } from "./link-tracker.js";
import type { DetectorSettings, MembershipTiming } from "./timing.js";
import type { DeadReason, LinkState, MembershipEvent, NodeState, NodeStatus } from "./types.js";

export interface MembershipOptions {
  localNodeId: number;
  /** All nodes, the local one included; links = names of the links that node is attached to. */
  nodes: ReadonlyArray<{ id: number; name: string; links: readonly string[] }>;
  timing: MembershipTiming;
  detector: DetectorSettings;
  /** When this agent started: initdead_ms counts from here. */
  startedAtMs: number;
}

export interface HeartbeatInput {
  nodeId: number;
  link: string;
  incarnation: number;
  seq: number;
  sentAtUs: number;
  payload: HeartbeatPayload;
}

export interface LeaveInput {
  nodeId: number;
  incarnation: number;
}

interface LinkRecord {
  readonly name: string;
  readonly tracker: LinkTracker;
  /** The state last announced by an event: transitions are judged against it. */
  reported: LinkState;
}

interface PeerRecord {
  readonly id: number;
  readonly name: string;
  state: NodeState;
  incarnation: number | null;
  /** Moved later by local stalls, so that time we were not running does not count. */
  neverSeenDeadlineMs: number;
  /** Only the links both this peer and the local node are attached to, in config order. */
  readonly links: readonly LinkRecord[];
  readonly linkByName: ReadonlyMap<string, LinkRecord>;
}

export class Membership {
  private readonly peers: readonly PeerRecord[];
  private readonly peerById: ReadonlyMap<number, PeerRecord>;
  private readonly startedAtMs: number;
  private readonly stallAfterMs: number;
  /** Last time any entry point ran: the reference for stall detection. */
  private lastActivityMs: number;

  constructor(options: MembershipOptions) {
    const { localNodeId, nodes, timing, detector, startedAtMs } = options;
    checkTiming(timing);
    if (!Number.isFinite(startedAtMs)) {
      throw new MembershipConfigError(
        `membership: startedAtMs must be a finite time in ms, got ${startedAtMs}`,
      );
    }
    const seen = new Set<number>();
    for (const node of nodes) {
      if (seen.has(node.id)) {
        throw new MembershipConfigError(
          `membership: node id ${node.id} is used twice (${node.name}); give every node a unique id`,
        );
      }
      seen.add(node.id);
    }
    const local = nodes.find((node) => node.id === localNodeId);
    if (local === undefined) {
      throw new MembershipConfigError(
        `membership: local node id ${localNodeId} is not among the configured nodes ` +
          `(${nodes.map((node) => node.id).join(", ")}); check the node name the agent runs as`,
      );
    }
    const localLinks = new Set(local.links);
    const maxRttMs = timing.deadtime_ms;
    this.peers = nodes
      .filter((node) => node.id !== localNodeId)
      .sort((a, b) => a.id - b.id)
      .map((node) => {
        const links = [...new Set(node.links)]
          .filter((name) => localLinks.has(name))
          .map(
            (name): LinkRecord => ({
              name,
              reported: "down",
              tracker: new LinkTracker({
                peerId: node.id,
                localNodeId,
                detector: createDetector(detector, timing),
                maxRttMs,
              }),
            }),
          );
        return {
          id: node.id,
          name: node.name,
          state: "unknown",
          incarnation: null,
          neverSeenDeadlineMs: startedAtMs + timing.initdead_ms,
          links,
          linkByName: new Map(links.map((link) => [link.name, link])),
        };
      });
    this.peerById = new Map(this.peers.map((peer) => [peer.id, peer]));
    this.startedAtMs = startedAtMs;
    // Half the deadtime: a gap that long is far beyond any scheduling hiccup (the caller ticks
    // every keepalive) and already large enough to eat most of a peer's deadtime. At least three
    // keepalives, so that a short deadtime does not read an ordinary GC pause as a stall.
    this.stallAfterMs = Math.max(timing.deadtime_ms / 2, 3 * timing.keepalive_ms);
    this.lastActivityMs = startedAtMs;
  }

  onHeartbeat(nowMs: number, hb: HeartbeatInput): MembershipEvent[] {
    const events: MembershipEvent[] = [];
    this.noticeStall(nowMs, events);
    const peer = this.peerById.get(hb.nodeId);
    const link = peer?.linkByName.get(hb.link);
    // Unknown node, ourselves, or a link we do not share with it: the wire layer filters these;
    // staying safe costs nothing and keeps every map bounded by the config.
    if (peer === undefined || link === undefined) return events;
    const previousIncarnation = peer.incarnation;
    if (previousIncarnation !== null) {
      if (hb.incarnation < previousIncarnation) return events;
      if (hb.incarnation === previousIncarnation && peer.state === "left") return events;
    }
    const restarted = previousIncarnation !== null && hb.incarnation > previousIncarnation;
    if (restarted && peer.state === "up") {
      // A new instance: whatever the old one held (addresses, locks, resources) is gone.
      events.push(this.deadEvent(peer, nowMs, "restarted"));
    }
    peer.incarnation = hb.incarnation;
    for (const other of peer.links) other.tracker.beginIncarnation(hb.incarnation);
    link.tracker.onHeartbeat(nowMs, hb);
    if (peer.state !== "up" || restarted) {
      peer.state = "up";
      events.push({
        type: "node_up",
        atMs: nowMs,
        nodeId: peer.id,
        name: peer.name,
        incarnation: hb.incarnation,
        previousIncarnation,
      });
    }
    if (link.reported === "down") {
      events.push({
        type: "link_up",
        atMs: nowMs,
        nodeId: peer.id,
        name: peer.name,
        link: link.name,
      });
    }
    link.reported = "up";
    return events;
  }

  onLeave(nowMs: number, leave: LeaveInput): MembershipEvent[] {
    const events: MembershipEvent[] = [];
    this.noticeStall(nowMs, events);
    const peer = this.peerById.get(leave.nodeId);
    if (peer === undefined) return events;
    const known = peer.incarnation;
    if (known !== null) {
      if (leave.incarnation < known) return events;
      // The agent sends every Leave more than once: the copies change nothing.
      if (leave.incarnation === known && peer.state === "left") return events;
      // It restarted without us hearing the new instance, which now leaves: the old one went
      // away without saying goodbye.
      if (leave.incarnation > known && peer.state === "up") {
        events.push(this.deadEvent(peer, nowMs, "restarted"));
      }
    }
    peer.incarnation = leave.incarnation;
    peer.state = "left";
    // Its links are down by its own word: link_down events would only be noise.
    for (const link of peer.links) link.reported = "down";
    events.push({
      type: "node_left",
      atMs: nowMs,
      nodeId: peer.id,
      name: peer.name,
      incarnation: leave.incarnation,
    });
    return events;
  }

  tick(nowMs: number): MembershipEvent[] {
    const events: MembershipEvent[] = [];
    this.noticeStall(nowMs, events);
    for (const peer of this.peers) {
      if (peer.state === "unknown") {
        if (nowMs > peer.neverSeenDeadlineMs) {
          peer.state = "dead";
          events.push(this.deadEvent(peer, nowMs, "never_seen"));
        }
      } else if (peer.state === "up") {
        this.judgeLinks(peer, nowMs, events);
        if (peer.links.every((link) => link.reported === "down")) {
          peer.state = "dead";
          events.push(this.deadEvent(peer, nowMs, "timeout"));
        }
      }
    }
    return events;
  }

  /**
   * The earliest time a tick may have something to do: a detector changing state or initdead
   * running out. nowMs when something is already due; +Infinity when nothing can happen
   * without a heartbeat (every peer dead, left, or not yet heard past its initdead).
   */
  nextTickAtMs(nowMs: number): number {
    let dueAtMs = Number.POSITIVE_INFINITY;
    for (const peer of this.peers) {
      if (peer.state === "unknown") {
        dueAtMs = Math.min(dueAtMs, Math.max(nowMs, peer.neverSeenDeadlineMs));
      } else if (peer.state === "up") {
        for (const link of peer.links) {
          if (link.reported === "down") continue;
          const detector = link.tracker.detector;
          const changeAtMs =
            detector.state(nowMs) === link.reported ? detector.nextChangeAtMs(nowMs) : nowMs;
          dueAtMs = Math.min(dueAtMs, Math.max(nowMs, changeAtMs));
        }
      }
    }
    return dueAtMs;
  }

  /**
   * What to echo in our next heartbeat on `link`: the last message of every live peer heard on
   * it. Peers that are down on this link get none: an echo of a message held for seconds tells
   * them nothing new and costs payload.
   */
  echoesFor(link: string, nowMs: number): Echo[] {
    const echoes: Echo[] = [];
    for (const peer of this.peers) {
      if (peer.state !== "up") continue;
      const record = peer.linkByName.get(link);
      if (record === undefined || record.reported === "down") continue;
      const echo = record.tracker.echo(nowMs);
      if (echo !== null) echoes.push(echo);
    }
    return echoes;
  }

  /**
   * Links on which `peerId` is heard now, best first: up before late, then config order. Empty
   * when the peer is not up. Coordination traffic picks its path from this.
   */
  liveLinks(peerId: number): string[] {
    const peer = this.peerById.get(peerId);
    if (peer === undefined || peer.state !== "up") return [];
    const up = peer.links.filter((link) => link.reported === "up").map((link) => link.name);
    const late = peer.links.filter((link) => link.reported === "late").map((link) => link.name);
    return [...up, ...late];
  }

  /** One row per peer (the local node excluded), ordered by id. */
  nodes(nowMs: number): NodeStatus[] {
    return this.peers.map((peer) => ({
      id: peer.id,
      name: peer.name,
      state: peer.state,
      incarnation: peer.incarnation,
      lastHeardMs: lastHeardMs(peer),
      links: peer.links.map((link) => ({
        link: link.name,
        state: link.reported,
        lastHeardMs: link.tracker.lastHeardMs,
        rttMs: link.tracker.rttMs(),
        lossRatio: link.tracker.lossRatio(),
        suspicion: link.tracker.detector.suspicion(nowMs),
      })),
    }));
  }

  /**
   * Local stall awareness (Lifeguard's "local health" idea). Every entry point runs this first.
   *
   * If this process was stopped (SIGSTOP, swapped out, VM paused), every peer looks silent for
   * the whole pause although the silence is ours: their heartbeats are waiting in our socket
   * buffers, or were sent while we could not listen. Judging peers on that time would declare
   * the whole cluster dead at once and fail over away from healthy nodes. So when the gap since
   * the last call exceeds stallAfterMs, we say so (local_stall) and give every live link a
   * fresh deadtime from now, and push initdead deadlines back by the gap. A peer that really
   * died during our stall is then found one deadtime later: a bounded delay, against the
   * unbounded damage of a false death.
   *
   * This runs in onHeartbeat too, not only in tick: after a SIGCONT the event loop may deliver
   * queued datagrams before the timers, and the first of them must not hide the stall from the
   * peers whose datagrams are not queued.
   */
  private noticeStall(nowMs: number, events: MembershipEvent[]): void {
    const gapMs = nowMs - this.lastActivityMs;
    if (gapMs > this.stallAfterMs) {
      events.push({ type: "local_stall", atMs: nowMs, stalledMs: gapMs });
      for (const peer of this.peers) {
        if (peer.state === "unknown") {
          peer.neverSeenDeadlineMs += gapMs;
        } else if (peer.state === "up") {
          for (const link of peer.links) {
            if (link.reported === "down") continue;
            link.tracker.detector.rebase(nowMs);
            link.reported = "up"; // a fresh silence ends any late episode
          }
        }
      }
    }
    if (nowMs > this.lastActivityMs) this.lastActivityMs = nowMs;
  }

  private judgeLinks(peer: PeerRecord, nowMs: number, events: MembershipEvent[]): void {
    for (const link of peer.links) {
      if (link.reported === "down") continue;
      const state = link.tracker.detector.state(nowMs);
      if (state === link.reported) continue;
      const base = { atMs: nowMs, nodeId: peer.id, name: peer.name, link: link.name };
      const silentMs = nowMs - (link.tracker.lastHeardMs ?? nowMs);
      if (state === "down") events.push({ type: "link_down", ...base, silentMs });
      else if (state === "late") events.push({ type: "heartbeat_late", ...base, silentMs });
      link.reported = state;
    }
  }

  private deadEvent(peer: PeerRecord, nowMs: number, reason: DeadReason): MembershipEvent {
    const heardMs = lastHeardMs(peer);
    return {
      type: "node_dead",
      atMs: nowMs,
      nodeId: peer.id,
      name: peer.name,
      incarnation: peer.incarnation,
      reason,
      silentMs: nowMs - (heardMs ?? this.startedAtMs),
    };
  }
}

function lastHeardMs(peer: PeerRecord): number | null {
  let latestMs: number | null = null;
  for (const link of peer.links) {
    const heardMs = link.tracker.lastHeardMs;
    if (heardMs !== null && (latestMs === null || heardMs > latestMs)) latestMs = heardMs;
  }
  return latestMs;
}

function checkTiming(timing: MembershipTiming): void {
  for (const key of ["keepalive_ms", "warntime_ms", "deadtime_ms", "initdead_ms"] as const) {
    const value = timing[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new MembershipConfigError(
        `membership: timing.${key} must be a positive number of ms, got ${value}; ` +
          "fix the timing section of the config",
      );
    }
  }
}
