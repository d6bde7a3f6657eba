import { ReplayGuard } from "../wire/replay-guard.js";

const ID_MODULUS = 2 ** 32;
const HALF_ID_RANGE = 2 ** 31;

/**
 * Which messages of each sender's run were already handed up. Raft's messages travel on every
 * link at once, so most arrive twice; the second copy is dropped here, before it is parsed and
 * before Raft answers it a second time (on every link again).
 *
 * Message ids are u32 and wrap; each is widened to a 53-bit id next to the highest seen (as RTP
 * extends its sequence numbers), so the window keeps working across the wrap.
 */
export class DeliveredMessages {
  private readonly window = new ReplayGuard();
  private readonly highest = new Map<number, { incarnation: number; id: number }>();

  /** True when this message of this run was delivered already. */
  has(senderId: number, incarnation: number, messageId: number): boolean {
    const id = this.widen(senderId, incarnation, messageId);
    return id !== null && this.window.check(senderId, incarnation, id) === "replayed";
  }

  delivered(senderId: number, incarnation: number, messageId: number): void {
    const id = this.widen(senderId, incarnation, messageId);
    if (id === null || this.window.commit(senderId, incarnation, id) !== "ok") return;
    const top = this.highest.get(senderId);
    if (top === undefined || top.incarnation !== incarnation || id > top.id)
      this.highest.set(senderId, { incarnation, id });
  }

  /** Null for an id that makes no sense next to what was seen (an older run, or far behind). */
  private widen(senderId: number, incarnation: number, messageId: number): number | null {
    const top = this.highest.get(senderId);
    if (top === undefined || incarnation > top.incarnation) return messageId;
    if (incarnation < top.incarnation) return null;
    const delta =
      ((messageId - (top.id % ID_MODULUS) + HALF_ID_RANGE + ID_MODULUS) % ID_MODULUS) -
      HALF_ID_RANGE;
    const id = top.id + delta;
    return id >= 0 ? id : null;
  }
}
