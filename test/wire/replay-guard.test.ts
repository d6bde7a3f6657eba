import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  REPLAY_WINDOW_SEQS,
  ReplayGuard,
  type ReplayVerdict,
} from "../../src/wire/replay-guard.js";

const SENDER = 2;
const INCARNATION = 1_700_000_000_000;

/**
 * The specification, written the slow and obvious way: remember every seq ever accepted.
 * ok: a newer incarnation, or an unseen seq no more than WINDOW-1 below the highest accepted.
 */
class ReferenceGuard {
  private readonly senders = new Map<
    number,
    { incarnation: number; highestSeq: number; accepted: Set<number> }
  >();

  offer(senderId: number, incarnation: number, seq: number): ReplayVerdict {
    const state = this.senders.get(senderId);
    if (state === undefined || incarnation > state.incarnation) {
      this.senders.set(senderId, { incarnation, highestSeq: seq, accepted: new Set([seq]) });
      return "ok";
    }
    if (incarnation < state.incarnation) return "stale_incarnation";
    if (seq <= state.highestSeq - REPLAY_WINDOW_SEQS) return "stale_sequence";
    if (state.accepted.has(seq)) return "replayed";
    state.accepted.add(seq);
    state.highestSeq = Math.max(state.highestSeq, seq);
    return "ok";
  }
}

interface Offer {
  senderId: number;
  incarnation: number;
  seq: number;
}

/** Offers that wander around the window's edges: small steps, big jumps, and repeats. */
const arbOffers: fc.Arbitrary<Offer[]> = fc
  .array(
    fc.record({
      senderId: fc.integer({ min: 1, max: 3 }),
      incarnationStep: fc.oneof(
        { weight: 20, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
      ),
      seqStep: fc.oneof(
        { weight: 10, arbitrary: fc.integer({ min: -5, max: 5 }) },
        { weight: 3, arbitrary: fc.integer({ min: -1100, max: 1100 }) },
        { weight: 1, arbitrary: fc.integer({ min: -5000, max: 5000 }) },
      ),
    }),
    { maxLength: 600 },
  )
  .map((steps) => {
    const cursor = new Map<number, { incarnation: number; seq: number }>();
    return steps.map(({ senderId, incarnationStep, seqStep }) => {
      const at = cursor.get(senderId) ?? { incarnation: 5, seq: 1 };
      // A restart (newer incarnation) begins again near seq 1, over slots the old one used.
      const next = {
        incarnation: Math.max(0, at.incarnation + incarnationStep),
        seq: incarnationStep > 0 ? Math.abs(seqStep) % 8 : Math.max(0, at.seq + seqStep),
      };
      cursor.set(senderId, next);
      return { senderId, ...next };
    });
  });

test("the guard answers exactly as the remember-everything reference does", () => {
  fc.assert(
    fc.property(arbOffers, (offers) => {
      const guard = new ReplayGuard();
      const reference = new ReferenceGuard();
      for (const [index, { senderId, incarnation, seq }] of offers.entries()) {
        const expected = reference.offer(senderId, incarnation, seq);
        const checked = guard.check(senderId, incarnation, seq);
        assert.equal(
          checked,
          expected,
          `offer ${index}: check(${senderId}, ${incarnation}, ${seq})`,
        );
        // check() must not have recorded anything: commit sees the same state.
        assert.equal(guard.commit(senderId, incarnation, seq), expected, `offer ${index}: commit`);
      }
    }),
    { numRuns: 300 },
  );
});

test("every sequence number is accepted at most once, whatever the interleaving and duplicates", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 2000 }), (seqs) => {
      const guard = new ReplayGuard();
      const accepted = new Set<number>();
      for (const seq of seqs) {
        if (guard.commit(SENDER, INCARNATION, seq) === "ok") {
          assert.ok(!accepted.has(seq), `seq ${seq} accepted twice`);
          accepted.add(seq);
        }
      }
    }),
    { numRuns: 200 },
  );
});

/**
 * Frames of one sender spread over links with different delays: each seq arrives late by up to
 * maxLag positions. Everything within the window must be accepted once, in any order, and a
 * second copy of any of them refused.
 */
test("reordering within the window is accepted once; duplicates are refused as replayed", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 0, max: REPLAY_WINDOW_SEQS - 1 }),
      fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })),
      (count, maxLag, jitter) => {
        const arrival = Array.from({ length: count }, (_, index) => ({
          seq: index + 1,
          at: index + 1 + jitter.next().value * maxLag,
        })).sort((a, b) => a.at - b.at);
        const guard = new ReplayGuard();
        for (const { seq } of arrival) {
          assert.equal(guard.commit(SENDER, INCARNATION, seq), "ok", `seq ${seq}`);
        }
        // Second copies: those still in the window are replays, older ones have slid out.
        for (let seq = 1; seq <= count; seq++) {
          const expected = count - seq < REPLAY_WINDOW_SEQS ? "replayed" : "stale_sequence";
          assert.equal(guard.commit(SENDER, INCARNATION, seq), expected, `copy of ${seq}`);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test("three links, each in order, merged in a random order: accepted exactly as the reference", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4000 }), fc.infiniteStream(fc.nat()), (count, picks) => {
      // The sender puts seq n on link n % 3; the receiver drains whichever link it likes.
      const links: number[][] = [[], [], []];
      for (let seq = 1; seq <= count; seq++) links[seq % 3]!.push(seq);
      const guard = new ReplayGuard();
      const reference = new ReferenceGuard();
      let acceptedCount = 0;
      for (let delivered = 0; delivered < count; delivered++) {
        const nonEmpty = links.filter((queue) => queue.length > 0);
        const link = nonEmpty[picks.next().value % nonEmpty.length]!;
        const seq = link.shift()!;
        const verdict = guard.commit(SENDER, INCARNATION, seq);
        assert.equal(verdict, reference.offer(SENDER, INCARNATION, seq), `seq ${seq}`);
        assert.notEqual(verdict, "replayed", "no seq is sent twice");
        if (verdict === "ok") acceptedCount++;
      }
      assert.ok(acceptedCount >= 1);
    }),
    { numRuns: 100 },
  );
});

test("the window edge: WINDOW-1 behind is accepted, WINDOW behind is stale", () => {
  const guard = new ReplayGuard();
  const top = 5000;
  assert.equal(guard.commit(SENDER, INCARNATION, top), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, top - REPLAY_WINDOW_SEQS + 1), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, top - REPLAY_WINDOW_SEQS), "stale_sequence");
  assert.equal(guard.commit(SENDER, INCARNATION, top - REPLAY_WINDOW_SEQS + 1), "ok");
  assert.equal(guard.commit(SENDER, INCARNATION, top - REPLAY_WINDOW_SEQS + 1), "replayed");
  // Sliding by one pushes that seq out of the window: now it is stale, not replayed.
  assert.equal(guard.commit(SENDER, INCARNATION, top + 1), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, top - REPLAY_WINDOW_SEQS + 1), "stale_sequence");
  // The slot of `top` is reused by top + WINDOW: free for the new seq, and `top` is now stale.
  assert.equal(guard.commit(SENDER, INCARNATION, top + REPLAY_WINDOW_SEQS), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, top + 1), "replayed");
  assert.equal(guard.check(SENDER, INCARNATION, top), "stale_sequence");
});

test("a jump of more than a window forgets everything below it", () => {
  const guard = new ReplayGuard();
  for (let seq = 1; seq <= 10; seq++) assert.equal(guard.commit(SENDER, INCARNATION, seq), "ok");
  assert.equal(guard.commit(SENDER, INCARNATION, 10 + 5 * REPLAY_WINDOW_SEQS), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, 10), "stale_sequence");
  // Seqs inside the new window were never seen, even those whose slots held old seqs.
  for (let back = 1; back < REPLAY_WINDOW_SEQS; back++) {
    assert.equal(guard.check(SENDER, INCARNATION, 10 + 5 * REPLAY_WINDOW_SEQS - back), "ok");
  }
});

test("a newer incarnation resets the window; an older one is refused from then on", () => {
  const guard = new ReplayGuard();
  assert.equal(guard.commit(SENDER, INCARNATION, 900), "ok");
  assert.equal(guard.commit(SENDER, INCARNATION + 1, 1), "ok", "restart begins at seq 1 again");
  assert.equal(guard.commit(SENDER, INCARNATION + 1, 1), "replayed");
  assert.equal(guard.check(SENDER, INCARNATION + 1, 900), "ok", "old seqs are not carried over");
  assert.equal(guard.commit(SENDER, INCARNATION + 2, 950), "ok");
  assert.equal(
    guard.check(SENDER, INCARNATION + 2, 900),
    "ok",
    "900 was seen, but not in this run",
  );
  assert.equal(guard.commit(SENDER, INCARNATION, 901), "stale_incarnation");
  assert.equal(guard.commit(SENDER, INCARNATION - 1, 1), "stale_incarnation");
});

test("senders are tracked independently", () => {
  const guard = new ReplayGuard();
  assert.equal(guard.commit(2, INCARNATION, 7), "ok");
  assert.equal(guard.commit(3, INCARNATION - 5, 7), "ok", "node 2's incarnation is not node 3's");
  assert.equal(guard.commit(3, INCARNATION - 5, 8), "ok");
  assert.equal(guard.commit(2, INCARNATION, 7), "replayed");
  assert.equal(guard.commit(3, INCARNATION - 5, 7), "replayed");
  assert.equal(guard.commit(3, INCARNATION - 6, 9), "stale_incarnation");
});

test("check never records: a checked but uncommitted seq stays acceptable", () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check(SENDER, INCARNATION, 3), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, 3), "ok");
  assert.equal(guard.commit(SENDER, INCARNATION, 5), "ok");
  assert.equal(guard.check(SENDER, INCARNATION, 3), "ok");
  assert.equal(guard.check(SENDER, INCARNATION + 1, 1), "ok");
  assert.equal(
    guard.commit(SENDER, INCARNATION, 3),
    "ok",
    "the newer incarnation was only checked",
  );
});

test("arguments outside the wire format's ranges are a caller's bug", () => {
  const guard = new ReplayGuard();
  assert.throws(() => guard.check(0, INCARNATION, 1), /senderId must be a node id/);
  assert.throws(() => guard.check(SENDER, -1, 1), /incarnation must be a safe u64/);
  assert.throws(() => guard.commit(SENDER, INCARNATION, 2 ** 53), /seq must be a safe u64/);
});

/** What an earlier run of the receiver accepted from SENDER before it restarted. */
const carriedOver = (incarnation: number) =>
  ({ kind: "known", bySender: new Map([[SENDER, incarnation]]) }) as const;

test("after a restart: an older run than the one accepted before is stale, a newer one is ok", () => {
  const guard = new ReplayGuard(carriedOver(INCARNATION));
  assert.equal(guard.commit(SENDER, INCARNATION - 1, 500), "stale_incarnation");
  assert.equal(guard.check(3, INCARNATION - 1, 500), "ok", "another sender is not concerned");
  assert.equal(guard.commit(SENDER, INCARNATION + 1, 1), "ok", "a run this node never heard");
  assert.equal(guard.commit(SENDER, INCARNATION, 900), "stale_incarnation");
});

test("after a restart: the run accepted before is unproven until a frame proves fresh", () => {
  const guard = new ReplayGuard(carriedOver(INCARNATION));
  // Captured before the restart or not, nothing tells these apart: none is taken.
  for (const seq of [1, 400, 401, 10_000]) {
    assert.equal(guard.commit(SENDER, INCARNATION, seq), "unproven_fresh", `seq ${seq}`);
  }
  assert.equal(guard.commit(SENDER, INCARNATION, 10_001, true), "ok", "proven: taken up");
  assert.equal(guard.commit(SENDER, INCARNATION, 10_001, true), "replayed");
  assert.equal(guard.commit(SENDER, INCARNATION, 10_002), "ok");
  // Below the proven frame anything may be a capture, even inside the window and with a proof:
  // the window above it must not start over.
  assert.equal(guard.commit(SENDER, INCARNATION, 10_000), "unproven_fresh");
  assert.equal(guard.commit(SENDER, INCARNATION, 9_999, true), "unproven_fresh");
  assert.equal(guard.commit(SENDER, INCARNATION, 10_002, true), "replayed");
  assert.equal(guard.commit(SENDER, INCARNATION - 1, 1, true), "stale_incarnation");
});

test("after a restart on a damaged record: every sender's first run must prove fresh", () => {
  const guard = new ReplayGuard({ kind: "unknown" });
  assert.equal(guard.commit(SENDER, 1, 5), "unproven_fresh");
  assert.equal(guard.commit(3, INCARNATION, 5), "unproven_fresh");
  assert.equal(guard.commit(SENDER, 1, 6, true), "ok");
  assert.equal(guard.commit(SENDER, 1, 7), "ok");
  assert.equal(guard.commit(SENDER, 2, 1), "ok", "a restart after that is simply newer");
  assert.equal(guard.commit(SENDER, 1, 8, true), "stale_incarnation");
});

test("after a restart: no replayed seq is ever taken, whatever is proven when", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean()), { maxLength: 500 }),
      (offers) => {
        const guard = new ReplayGuard(carriedOver(INCARNATION));
        const accepted = new Set<number>();
        let floor: number | null = null;
        for (const [seq, proven] of offers) {
          if (guard.commit(SENDER, INCARNATION, seq, proven) !== "ok") continue;
          assert.ok(!accepted.has(seq), `seq ${seq} accepted twice`);
          if (floor === null) {
            assert.ok(proven, `seq ${seq} was taken up without a proof`);
            floor = seq;
          }
          assert.ok(seq >= floor, `seq ${seq} below the proven ${floor}`);
          accepted.add(seq);
        }
      },
    ),
    { numRuns: 200 },
  );
});
