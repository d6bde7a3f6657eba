import { type HeartbeatInput, Membership } from "../../src/membership/membership.js";
import type { DetectorSettings, MembershipTiming } from "../../src/membership/timing.js";
import type { MembershipEvent } from "../../src/membership/types.js";
import type { Echo } from "../../src/wire/message.js";

/** The default profile: keepalive 100, warntime 400, deadtime 900, initdead 10 000. */
export const TIMING: MembershipTiming = {
  keepalive_ms: 100,
  warntime_ms: 400,
  deadtime_ms: 900,
  initdead_ms: 10_000,
};

export const PHI: DetectorSettings = {
  type: "phi",
  phi_threshold: 8,
  phi_warn: 3,
  window_size: 200,
  min_std_ms: 50,
  acceptable_pause_ms: 200,
};

export const LOCAL_ID = 1;
export const LINKS = ["ring0", "ring1"] as const;

/** Local node 1 (alpha) and peers 2 (bravo), 3 (charlie)... all on ring0 and ring1. */
export function newMembership(
  options: {
    peers?: number;
    timing?: MembershipTiming;
    detector?: DetectorSettings;
    startedAtMs?: number;
  } = {},
): Membership {
  const names = ["alpha", "bravo", "charlie", "delta", "echo"];
  const count = 1 + (options.peers ?? 1);
  return new Membership({
    localNodeId: LOCAL_ID,
    nodes: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      name: names[i] ?? `node${i + 1}`,
      links: [...LINKS],
    })),
    timing: options.timing ?? TIMING,
    detector: options.detector ?? { type: "fixed" },
    startedAtMs: options.startedAtMs ?? 0,
  });
}

/** A remote agent as far as its heartbeats go: sequence numbers and per-link counters. */
export class FakePeer {
  private seq = 0;
  private readonly linkSeq = new Map<string, number>();

  constructor(
    readonly nodeId: number,
    public incarnation: number,
  ) {}

  heartbeat(link: string, nowMs: number, echoes: Echo[] = []): HeartbeatInput {
    this.seq++;
    const linkSeq = (this.linkSeq.get(link) ?? 0) + 1;
    this.linkSeq.set(link, linkSeq);
    return {
      nodeId: this.nodeId,
      link,
      incarnation: this.incarnation,
      seq: this.seq,
      sentAtUs: Math.round(nowMs * 1000),
      payload: { linkSeq, keepaliveMs: 100, echoes },
    };
  }

  /** Skips one heartbeat on `link` (sent but lost on the way). */
  lose(link: string): void {
    this.seq++;
    this.linkSeq.set(link, (this.linkSeq.get(link) ?? 0) + 1);
  }

  restart(incarnation: number): void {
    this.incarnation = incarnation;
    this.seq = 0;
    this.linkSeq.clear();
  }
}

/**
 * Runs the membership like the agent does, on virtual time: every keepalive, deliver the
 * heartbeats `beats(t)` names, then tick. Returns every event with the time it was emitted.
 */
export function run(
  membership: Membership,
  fromMs: number,
  toMs: number,
  beats: (nowMs: number) => HeartbeatInput[],
  stepMs = TIMING.keepalive_ms,
): MembershipEvent[] {
  const events: MembershipEvent[] = [];
  for (let nowMs = fromMs; nowMs <= toMs; nowMs += stepMs) {
    for (const hb of beats(nowMs)) events.push(...membership.onHeartbeat(nowMs, hb));
    events.push(...membership.tick(nowMs));
  }
  return events;
}

export function types(events: readonly MembershipEvent[]): string[] {
  return events.map((event) =>
    "link" in event
      ? `${event.type}:${event.nodeId}:${event.link}`
      : `${event.type}:${"nodeId" in event ? event.nodeId : ""}`,
  );
}
