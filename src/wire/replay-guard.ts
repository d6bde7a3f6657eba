import { isNodeId, isSafeU64, requireField } from "./ints.js";
import type { RejectReason } from "./message.js";

/**
 * How far behind the newest sequence number a frame may arrive and still be accepted. Frames
 * of one sender travel on several links with different delays, so they interleave; 1024 frames
 * is tens of seconds of lag between the fastest and slowest link at any sane keepalive.
 */
export const REPLAY_WINDOW_SEQS = 1024;
const WORD_BITS = 32;
const WINDOW_WORDS = REPLAY_WINDOW_SEQS / WORD_BITS;

export type ReplayRejection = Extract<
  RejectReason,
  "replayed" | "stale_sequence" | "stale_incarnation" | "unproven_fresh"
>;
export type ReplayVerdict = "ok" | ReplayRejection;

/**
 * What earlier runs of this node accepted, read from its state directory at start: per sender,
 * the highest incarnation accepted. `unknown` when that record was damaged: then any sender may
 * have been heard before.
 */
export type CarriedOverIncarnations =
  | { readonly kind: "known"; readonly bySender: ReadonlyMap<number, number> }
  | { readonly kind: "unknown" };

export const NOTHING_CARRIED_OVER: CarriedOverIncarnations = { kind: "known", bySender: new Map() };

interface SenderWindow {
  incarnation: number;
  /** The highest sequence number accepted from this incarnation. */
  highestSeq: number;
  /**
   * Seqs below this are refused as unproven: this run took up the incarnation from the frame
   * that proved it fresh, and everything sent before that frame may be a capture.
   */
  floorSeq: number;
  /**
   * Bit (seq mod REPLAY_WINDOW_SEQS) is set when that seq was accepted; only seqs in
   * highestSeq - REPLAY_WINDOW_SEQS + 1 .. highestSeq are represented (a sliding bitmap in the
   * manner of RFC 6479, but cleared bit by bit so the window is exactly REPLAY_WINDOW_SEQS).
   */
  seen: Uint32Array;
}

/**
 * Per-sender anti-replay state. Every sequence number of an incarnation is accepted at most
 * once, in any order within the window; a newer incarnation (the sender restarted) starts a
 * fresh window, and an older one is refused for good.
 *
 * The window lives in memory, so across a restart of this node it is carried over coarsely:
 * an incarnation below the one an earlier run accepted is refused, and frames of that very
 * incarnation are `unproven_fresh` until one proves that it was sent after this run began
 * (the caller judges that: a heartbeat echoing a heartbeat of this run). From that frame on the
 * incarnation is taken up, and every seq below it stays refused, since it may have been
 * captured before the restart.
 *
 * Callers check before and commit only after the frame proved authentic: otherwise a forged
 * header could move a sender's window and lock out its real frames. Memory is one small entry
 * per sender that ever sent an authentic frame, so it is bounded by the cluster's node list.
 */
export class ReplayGuard {
  private readonly senders = new Map<number, SenderWindow>();

  constructor(private readonly carriedOver: CarriedOverIncarnations = NOTHING_CARRIED_OVER) {}

  /** What commit would answer for an unproven frame, without recording anything. */
  check(senderId: number, incarnation: number, seq: number): ReplayVerdict {
    requireArguments(senderId, incarnation, seq);
    const window = this.senders.get(senderId);
    if (window === undefined) return this.checkFirst(senderId, incarnation);
    if (incarnation > window.incarnation) return "ok";
    if (incarnation < window.incarnation) return "stale_incarnation";
    if (seq < window.floorSeq) return "unproven_fresh";
    if (seq > window.highestSeq) return "ok";
    if (window.highestSeq - seq >= REPLAY_WINDOW_SEQS) return "stale_sequence";
    return isSeen(window.seen, seq) ? "replayed" : "ok";
  }

  /**
   * Records the frame when check() says "ok", or when it says "unproven_fresh" of a sender's
   * first frame in this run that the caller found `provenFresh`; otherwise leaves the state
   * alone and answers as check() did. A seq below the one that took the incarnation up stays
   * refused, proof or not: the window above it must not start over.
   */
  commit(senderId: number, incarnation: number, seq: number, provenFresh = false): ReplayVerdict {
    const verdict = this.check(senderId, incarnation, seq);
    let window = this.senders.get(senderId);
    const takesUp = verdict === "unproven_fresh" && provenFresh && window === undefined;
    if (verdict !== "ok" && !takesUp) return verdict;
    if (window === undefined) {
      window = {
        incarnation,
        highestSeq: seq,
        floorSeq: takesUp ? seq : 0,
        seen: new Uint32Array(WINDOW_WORDS),
      };
      this.senders.set(senderId, window);
    } else if (incarnation > window.incarnation) {
      window.incarnation = incarnation;
      window.highestSeq = seq;
      window.floorSeq = 0;
      window.seen.fill(0);
    } else if (seq > window.highestSeq) {
      slideTo(window, seq);
    }
    markSeen(window.seen, seq);
    return "ok";
  }

  /** The first frame this run has from `senderId`: judged by what earlier runs accepted. */
  private checkFirst(senderId: number, incarnation: number): ReplayVerdict {
    if (this.carriedOver.kind === "unknown") return "unproven_fresh";
    const accepted = this.carriedOver.bySender.get(senderId);
    if (accepted === undefined || incarnation > accepted) return "ok";
    return incarnation < accepted ? "stale_incarnation" : "unproven_fresh";
  }
}

function requireArguments(senderId: number, incarnation: number, seq: number): void {
  requireField(isNodeId(senderId), "senderId", senderId, "a node id 1..65535");
  requireField(isSafeU64(incarnation), "incarnation", incarnation, "a safe u64");
  requireField(isSafeU64(seq), "seq", seq, "a safe u64");
}

/** Moves the window's top to newHighestSeq, forgetting the seqs that fall out of it. */
function slideTo(window: SenderWindow, newHighestSeq: number): void {
  const advance = newHighestSeq - window.highestSeq;
  if (advance >= REPLAY_WINDOW_SEQS) {
    window.seen.fill(0);
  } else {
    // The slots of the entering seqs held seqs that are now below the window. At most
    // REPLAY_WINDOW_SEQS - 1 iterations, and one for the usual in-order frame.
    for (let seq = window.highestSeq + 1; seq <= newHighestSeq; seq++) clearSeen(window.seen, seq);
  }
  window.highestSeq = newHighestSeq;
}

function slotOf(seq: number): number {
  return seq % REPLAY_WINDOW_SEQS;
}

function isSeen(seen: Uint32Array, seq: number): boolean {
  const slot = slotOf(seq);
  return ((seen[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
}

function markSeen(seen: Uint32Array, seq: number): void {
  const slot = slotOf(seq);
  const word = slot >>> 5;
  seen[word] = seen[word]! | (1 << (slot & 31));
}

function clearSeen(seen: Uint32Array, seq: number): void {
  const slot = slotOf(seq);
  const word = slot >>> 5;
  seen[word] = seen[word]! & ~(1 << (slot & 31));
}
