import type { Echo, HeartbeatPayload } from "../wire/message.js";
import type { LinkDetector } from "./link-detector.js";
import { LossWindow } from "./loss-window.js";
import { RttEstimator } from "./rtt-estimator.js";

/** Loss is reported over the last 100 expected heartbeats: 10 s at the default keepalive. */
export const LOSS_WINDOW_HEARTBEATS = 100;
/** One loss in fewer than 10 expected heartbeats would read as ≥ 10%: too noisy to show. */
export const LOSS_MIN_EXPECTED = 10;

export interface HeartbeatArrival {
  incarnation: number;
  seq: number;
  sentAtUs: number;
  payload: HeartbeatPayload;
}

export interface LinkTrackerOptions {
  /** The peer this tracker listens to. */
  peerId: number;
  /** Our own node id: the echo addressed to us in the peer's heartbeat carries our RTT. */
  localNodeId: number;
  detector: LinkDetector;
  /**
   * RTT samples above this are discarded. The deadtime is the natural bound: a round trip slower
   * than the silence that declares a link down cannot belong to a link that is up.
   */
  maxRttMs: number;
}

/**
 * What we know about one peer over one link: its detector, when we last heard it, RTT and loss,
 * and what we owe it in return (the echo of its last heartbeat, so that it can measure RTT).
 */
export class LinkTracker {
  readonly peerId: number;
  readonly detector: LinkDetector;
  private readonly localNodeId: number;
  private readonly rtt: RttEstimator;
  private readonly loss = new LossWindow(LOSS_WINDOW_HEARTBEATS, LOSS_MIN_EXPECTED);
  private heardAtMs: number | null = null;
  private incarnation: number | null = null;
  /** The peer's newest message on this link, echoed back with how long we held it. */
  private toEcho: { seq: number; sentAtUs: number; receivedAtMs: number } | null = null;
  /** Our message seq behind the last RTT sample: one sample per echoed message, not per echo. */
  private lastSampledSeq: number | null = null;

  constructor(options: LinkTrackerOptions) {
    this.peerId = options.peerId;
    this.localNodeId = options.localNodeId;
    this.detector = options.detector;
    this.rtt = new RttEstimator(options.maxRttMs);
  }

  /**
   * The peer runs as `incarnation` from now on. A new instance restarts its counters, so the old
   * loss accounting and the echo of the old instance's message mean nothing to it. Membership
   * calls this on every link of a restarted peer, not only the one the news came on.
   */
  beginIncarnation(incarnation: number): void {
    if (incarnation === this.incarnation) return;
    this.incarnation = incarnation;
    this.loss.reset();
    this.toEcho = null;
  }

  onHeartbeat(nowMs: number, hb: HeartbeatArrival): void {
    this.beginIncarnation(hb.incarnation);
    this.detector.heard(nowMs);
    this.heardAtMs = this.heardAtMs === null ? nowMs : Math.max(this.heardAtMs, nowMs);
    this.loss.record(hb.payload.linkSeq);
    if (this.toEcho === null || hb.seq > this.toEcho.seq) {
      this.toEcho = { seq: hb.seq, sentAtUs: hb.sentAtUs, receivedAtMs: nowMs };
    }
    const echo = hb.payload.echoes.find((candidate) => candidate.peerId === this.localNodeId);
    if (echo !== undefined) this.sampleRtt(nowMs, echo);
  }

  /** The echo to put in our next heartbeat on this link, or null before the peer was heard. */
  echo(nowMs: number): Echo | null {
    if (this.toEcho === null) return null;
    return {
      peerId: this.peerId,
      seq: this.toEcho.seq,
      sentAtUs: this.toEcho.sentAtUs,
      heldUs: Math.max(0, Math.round((nowMs - this.toEcho.receivedAtMs) * 1000)),
    };
  }

  get lastHeardMs(): number | null {
    return this.heardAtMs;
  }

  rttMs(): number | null {
    return this.rtt.smoothedMs;
  }

  lossRatio(): number | null {
    return this.loss.ratio();
  }

  private sampleRtt(nowMs: number, echo: Echo): void {
    // The same message echoed again only adds hold time: sampling it twice would weigh it twice.
    if (echo.seq === this.lastSampledSeq) return;
    // sentAtUs is our own clock, so no cross-node clock offset enters the difference.
    const rttMs = nowMs - echo.sentAtUs / 1000 - echo.heldUs / 1000;
    if (this.rtt.sample(rttMs)) this.lastSampledSeq = echo.seq;
  }
}
