/**
 * What a leader knows about one follower's log and liveness.
 *
 * - probe: we do not know where the follower's log matches ours; send one append_entries and
 *   wait for its answer (or the next heartbeat) before sending another.
 * - replicate: the follower is in step; send new entries as soon as they exist, advancing
 *   nextIndex optimistically. A rejection falls back to probe.
 * - snapshot: the entries it needs are compacted away; an install_snapshot is on its way.
 */
export type ReplicationState = "probe" | "replicate" | "snapshot";

export class Progress {
  state: ReplicationState = "probe";
  /** The next index to send. */
  nextIndex: number;
  /** The highest index known to match the leader's log. */
  matchIndex = 0;
  /** The leader's send time of the append whose answer last set matchIndex. */
  matchAnsweredSentAtMs = Number.NEGATIVE_INFINITY;
  /** In probe: a message is outstanding, wait for its answer or the next heartbeat. */
  probeOutstanding = false;
  /** Leader's clock when it last sent this follower a snapshot. */
  snapshotSentAtMs = Number.NEGATIVE_INFINITY;
  /** Leader's clock when the latest answer from this follower arrived (check-quorum). */
  lastAnswerReceivedAtMs: number | undefined;
  /** Leader's clock when it began tracking this follower. */
  readonly trackedSinceMs: number;
  /** The newest leader send time this follower has answered (dates the leader's lease). */
  lastAnsweredSentAtMs = Number.NEGATIVE_INFINITY;
  /** The follower's clock when it sent its newest answer; echoed so it can anchor its lease. */
  lastAnswerFollowerSentAtMs: number | null = null;

  constructor(nextIndex: number, trackedSinceMs: number) {
    this.nextIndex = nextIndex;
    this.trackedSinceMs = trackedSinceMs;
  }

  /**
   * For check-quorum: until it answers, a follower counts as heard from when tracking began, so
   * a fresh leader or a newly added member gets one check-quorum window of grace.
   */
  contactAtMs(): number {
    return this.lastAnswerReceivedAtMs ?? this.trackedSinceMs;
  }

  /** Heard from it (not an answer): check-quorum's contact time only. */
  noteContact(receivedAtMs: number): void {
    this.lastAnswerReceivedAtMs = Math.max(
      this.lastAnswerReceivedAtMs ?? receivedAtMs,
      receivedAtMs,
    );
  }

  recordAnswer(receivedAtMs: number, answeredSentAtMs: number, followerSentAtMs?: number): void {
    this.lastAnswerReceivedAtMs = Math.max(
      this.lastAnswerReceivedAtMs ?? receivedAtMs,
      receivedAtMs,
    );
    this.lastAnsweredSentAtMs = Math.max(this.lastAnsweredSentAtMs, answeredSentAtMs);
    if (followerSentAtMs !== undefined && Number.isFinite(followerSentAtMs)) {
      this.lastAnswerFollowerSentAtMs = Math.max(
        this.lastAnswerFollowerSentAtMs ?? Number.NEGATIVE_INFINITY,
        followerSentAtMs,
      );
    }
  }

  /**
   * The follower's log matches ours through `matchIndex`, as of the append the leader sent at
   * `answeredSentAtMs`. False when the answer is stale.
   */
  acknowledge(matchIndex: number, answeredSentAtMs: number): boolean {
    if (matchIndex < this.matchIndex) return false;
    this.matchIndex = matchIndex;
    this.matchAnsweredSentAtMs = Math.max(this.matchAnsweredSentAtMs, answeredSentAtMs);
    this.nextIndex = Math.max(this.nextIndex, matchIndex + 1);
    this.state = "replicate";
    this.probeOutstanding = false;
    return true;
  }

  /**
   * The follower refused the append the leader sent at `answeredSentAtMs`; `hint` is the highest
   * index that may match (see RaftLog.conflictHint).
   *
   * A hint below matchIndex answering an append sent after the one that set matchIndex means the
   * follower no longer holds entries it acknowledged. A crash alone cannot do that (a torn last
   * record was never acknowledged: the answer follows the fdatasync), but damage can: a dropped
   * tail that had been written whole, or a state directory an operator moved aside to rejoin.
   * Keeping nextIndex above matchIndex would then probe past the end of its log forever, so the
   * leader believes the newer answer, backs up to it and sends the entries again. Lowering
   * matchIndex never lowers the commit index. An older answer (one overtaken on the wire) says
   * nothing about the follower's log now and keeps the floor.
   */
  reject(hint: number, answeredSentAtMs: number): void {
    this.state = "probe";
    this.probeOutstanding = false;
    if (hint < this.matchIndex && answeredSentAtMs > this.matchAnsweredSentAtMs) {
      this.matchIndex = hint;
    }
    this.nextIndex = Math.max(this.matchIndex + 1, Math.min(this.nextIndex - 1, hint + 1));
  }

  sentEntries(lastSentIndex: number): void {
    if (this.state === "replicate") this.nextIndex = Math.max(this.nextIndex, lastSentIndex + 1);
    if (this.state === "probe") this.probeOutstanding = true;
  }

  sentSnapshot(nowMs: number): void {
    this.state = "snapshot";
    this.snapshotSentAtMs = nowMs;
  }

  /** May new entries go out now, outside a heartbeat? */
  canSendEagerly(): boolean {
    return this.state === "replicate" || (this.state === "probe" && !this.probeOutstanding);
  }
}
