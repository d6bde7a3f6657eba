import { MessageType } from "./message.js";

/**
 * How many of this run's newest heartbeats are remembered. A peer echoes the newest heartbeat
 * of ours it heard on a link, which at one heartbeat per link per keepalive is seconds old at
 * most while the link is up; 256 covers more than 12 s with two links at a 100 ms keepalive.
 */
export const SENT_HEARTBEATS_REMEMBERED = 256;

/**
 * The sequence number and send time of this run's newest heartbeats. An echo naming one of them
 * exactly was written after this run began, which a frame captured earlier cannot do: that is
 * how a restarted node tells a peer's fresh frame from a replay (see ReplayGuard).
 */
export class SentHeartbeats {
  private readonly seqs = new Float64Array(SENT_HEARTBEATS_REMEMBERED).fill(-1);
  private readonly sentAtUs = new Float64Array(SENT_HEARTBEATS_REMEMBERED);

  record(type: MessageType, seq: number, sentAtUs: number): void {
    if (type !== MessageType.Heartbeat) return;
    const slot = seq % SENT_HEARTBEATS_REMEMBERED;
    this.seqs[slot] = seq;
    this.sentAtUs[slot] = sentAtUs;
  }

  includes(seq: number, sentAtUs: number): boolean {
    const slot = seq % SENT_HEARTBEATS_REMEMBERED;
    return this.seqs[slot] === seq && this.sentAtUs[slot] === sentAtUs;
  }
}
