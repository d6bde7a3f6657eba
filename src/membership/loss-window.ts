/**
 * Heartbeat loss over the last `capacity` expected heartbeats of one peer on one link, derived
 * from the sender's per-link counter (payload.linkSeq): every counter value between the first one
 * seen and the highest one seen was sent, so each one not received was lost.
 *
 * A value below the highest but inside the window fills its hole (reordering, not loss); a value
 * older than the window or already seen is ignored. A jump forward by more than the window marks
 * the whole window lost, which is true: the last `capacity` heartbeats sent never arrived.
 */
export class LossWindow {
  /** 1 = received, indexed by linkSeq modulo capacity; covers highest−capacity+1 .. highest. */
  private readonly received: Uint8Array;
  private firstSeq: number | null = null;
  private highestSeq = 0;
  private receivedCount = 0;

  constructor(
    readonly capacity: number,
    /** Below this many expected heartbeats one loss is too large a share to mean anything. */
    readonly minExpected: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`loss window: capacity must be a positive integer, got ${capacity}`);
    }
    this.received = new Uint8Array(capacity);
  }

  record(linkSeq: number): void {
    if (!Number.isSafeInteger(linkSeq) || linkSeq < 0) return;
    if (this.firstSeq === null) {
      this.firstSeq = linkSeq;
      this.highestSeq = linkSeq;
      this.mark(linkSeq);
      return;
    }
    if (linkSeq > this.highestSeq) {
      this.advanceTo(linkSeq);
      this.mark(linkSeq);
      return;
    }
    const inWindow = linkSeq > this.highestSeq - this.capacity && linkSeq >= this.firstSeq;
    if (inWindow) this.mark(linkSeq); // reordered: fills its hole; a duplicate changes nothing
  }

  /** Heartbeats the window expected so far (at most capacity). */
  expected(): number {
    if (this.firstSeq === null) return 0;
    return Math.min(this.capacity, this.highestSeq - this.firstSeq + 1);
  }

  /** Share lost, 0..1, or null until minExpected heartbeats were expected. */
  ratio(): number | null {
    const expected = this.expected();
    if (expected < this.minExpected) return null;
    return (expected - this.receivedCount) / expected;
  }

  reset(): void {
    this.received.fill(0);
    this.firstSeq = null;
    this.highestSeq = 0;
    this.receivedCount = 0;
  }

  private advanceTo(linkSeq: number): void {
    if (linkSeq - this.highestSeq >= this.capacity) {
      this.received.fill(0);
      this.receivedCount = 0;
    } else {
      // Each new slot reuses the slot of the value that just left the window.
      for (let seq = this.highestSeq + 1; seq <= linkSeq; seq++) {
        const slot = seq % this.capacity;
        if (this.received[slot] === 1) this.receivedCount--;
        this.received[slot] = 0;
      }
    }
    this.highestSeq = linkSeq;
  }

  private mark(linkSeq: number): void {
    const slot = linkSeq % this.capacity;
    if (this.received[slot] === 0) {
      this.received[slot] = 1;
      this.receivedCount++;
    }
  }
}
