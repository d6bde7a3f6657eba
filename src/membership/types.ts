/** Liveness of one peer over one link, as the failure detector sees it. */
export type LinkState = "up" | "late" | "down";

/**
 * unknown: not heard since this agent started and still within initdead.
 * up: heard within the deadtime on at least one link.
 * dead: silent on every link for the deadtime (or initdead), or restarted under us.
 * left: said goodbye (graceful shutdown).
 */
export type NodeState = "unknown" | "up" | "dead" | "left";

export type DeadReason = "timeout" | "never_seen" | "restarted";

export type MembershipEvent =
  | {
      type: "node_up";
      atMs: number;
      nodeId: number;
      name: string;
      incarnation: number;
      /**
       * The incarnation we last knew this node under: null the first time we hear it; equal to
       * `incarnation` when the same instance came back after being declared dead (a pause, a
       * healed partition: it may still believe it holds what it held); lower when it restarted
       * (a new instance: whatever the old one held is gone).
       */
      previousIncarnation: number | null;
    }
  | {
      type: "node_dead";
      atMs: number;
      nodeId: number;
      name: string;
      incarnation: number | null;
      reason: DeadReason;
      silentMs: number;
    }
  | { type: "node_left"; atMs: number; nodeId: number; name: string; incarnation: number }
  | { type: "link_up"; atMs: number; nodeId: number; name: string; link: string }
  | {
      type: "link_down";
      atMs: number;
      nodeId: number;
      name: string;
      link: string;
      silentMs: number;
    }
  | {
      type: "heartbeat_late";
      atMs: number;
      nodeId: number;
      name: string;
      link: string;
      silentMs: number;
    }
  | { type: "local_stall"; atMs: number; stalledMs: number };

export type MembershipEventType = MembershipEvent["type"];

/** One peer-link row of `vigil status`. */
export interface LinkStatus {
  link: string;
  state: LinkState;
  lastHeardMs: number | null;
  /** Smoothed round-trip time from echoed heartbeats, null until the first echo. */
  rttMs: number | null;
  /** Share of heartbeats lost over the recent window, 0..1; null until enough were expected. */
  lossRatio: number | null;
  /** Detector suspicion: elapsed/deadtime for fixed, phi for phi-accrual. */
  suspicion: number;
}

export interface NodeStatus {
  id: number;
  name: string;
  state: NodeState;
  incarnation: number | null;
  lastHeardMs: number | null;
  links: LinkStatus[];
}
