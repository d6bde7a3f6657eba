import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createDetector } from "../../src/membership/create-detector.js";
import { LinkTracker } from "../../src/membership/link-tracker.js";
import { LossWindow } from "../../src/membership/loss-window.js";
import type { Echo } from "../../src/wire/message.js";
import { TIMING } from "./harness.js";

function newTracker(): LinkTracker {
  return new LinkTracker({
    peerId: 2,
    localNodeId: 1,
    detector: createDetector({ type: "fixed" }, TIMING),
    maxRttMs: TIMING.deadtime_ms,
  });
}

function hb(linkSeq: number, echoes: Echo[] = [], incarnation = 7, seq = linkSeq) {
  return {
    incarnation,
    seq,
    sentAtUs: 5_000_000 + seq * 100_000,
    payload: { linkSeq, keepaliveMs: 100, echoes },
  };
}

describe("RTT from echoes", () => {
  test("rtt = now − our send time − the peer's hold time, smoothed with gain 1/8", () => {
    const tracker = newTracker();
    assert.equal(tracker.rttMs(), null);
    // We sent seq 10 at 1000 ms; the peer held it 5 ms; its heartbeat reaches us at 1012 ms.
    tracker.onHeartbeat(1012, hb(1, [{ peerId: 1, seq: 10, sentAtUs: 1_000_000, heldUs: 5000 }]));
    assert.equal(tracker.rttMs(), 7);
    tracker.onHeartbeat(1115, hb(2, [{ peerId: 1, seq: 11, sentAtUs: 1_100_000, heldUs: 3000 }]));
    assert.equal(tracker.rttMs(), 7 + (12 - 7) / 8);
  });

  test("ignores echoes for other nodes, repeats, negative and absurd samples", () => {
    const tracker = newTracker();
    tracker.onHeartbeat(1010, hb(1, [{ peerId: 3, seq: 10, sentAtUs: 1_000_000, heldUs: 0 }]));
    assert.equal(tracker.rttMs(), null);
    tracker.onHeartbeat(1010, hb(2, [{ peerId: 1, seq: 10, sentAtUs: 1_000_000, heldUs: 2000 }]));
    assert.equal(tracker.rttMs(), 8);
    // The same message echoed again (the peer heard nothing newer from us): no second sample.
    tracker.onHeartbeat(1110, hb(3, [{ peerId: 1, seq: 10, sentAtUs: 1_000_000, heldUs: 2000 }]));
    assert.equal(tracker.rttMs(), 8);
    // Held longer than the round trip: a broken echo, negative RTT.
    tracker.onHeartbeat(1210, hb(4, [{ peerId: 1, seq: 11, sentAtUs: 1_200_000, heldUs: 50_000 }]));
    assert.equal(tracker.rttMs(), 8);
    // Longer than the deadtime: cannot belong to a link that is up.
    tracker.onHeartbeat(3000, hb(5, [{ peerId: 1, seq: 12, sentAtUs: 1_000_000, heldUs: 0 }]));
    assert.equal(tracker.rttMs(), 8);
  });

  test("echoes back the peer's newest message with how long we held it", () => {
    const tracker = newTracker();
    assert.equal(tracker.echo(0), null);
    tracker.onHeartbeat(1000, hb(1, [], 7, 42));
    assert.deepEqual(tracker.echo(1003.2), {
      peerId: 2,
      seq: 42,
      sentAtUs: 5_000_000 + 42 * 100_000,
      heldUs: 3200,
    });
    tracker.onHeartbeat(1001, hb(2, [], 7, 41)); // reordered older message: keep echoing 42
    assert.equal(tracker.echo(1002)?.seq, 42);
    tracker.beginIncarnation(8);
    assert.equal(tracker.echo(1002), null, "a new instance gets no echo of the old one");
  });
});

describe("loss ratio from linkSeq gaps", () => {
  test("about 20% when every 5th heartbeat is missing", () => {
    const tracker = newTracker();
    let nowMs = 0;
    for (let linkSeq = 1; linkSeq <= 300; linkSeq++) {
      nowMs += 100;
      if (linkSeq % 5 !== 0) tracker.onHeartbeat(nowMs, hb(linkSeq));
    }
    const ratio = tracker.lossRatio();
    assert.ok(ratio !== null && Math.abs(ratio - 0.2) <= 0.01, `ratio ${ratio}`);
  });

  test("null until enough heartbeats were expected, then exact", () => {
    const window = new LossWindow(100, 10);
    for (let linkSeq = 51; linkSeq <= 59; linkSeq++) window.record(linkSeq);
    assert.equal(window.ratio(), null, "9 expected");
    window.record(61); // 60 lost
    assert.equal(window.expected(), 11);
    assert.equal(window.ratio(), 1 / 11);
  });

  test("reordering fills holes instead of counting loss; duplicates change nothing", () => {
    const window = new LossWindow(100, 10);
    for (const linkSeq of [1, 2, 4, 3, 5, 6, 8, 9, 7, 10, 10, 10, 11, 12]) window.record(linkSeq);
    assert.equal(window.ratio(), 0);
  });

  test("the window slides: old losses age out and a long jump loses the whole window", () => {
    const window = new LossWindow(100, 10);
    for (let linkSeq = 1; linkSeq <= 50; linkSeq++) if (linkSeq % 2 === 0) window.record(linkSeq);
    for (let linkSeq = 51; linkSeq <= 150; linkSeq++) window.record(linkSeq);
    assert.equal(window.ratio(), 0);
    window.record(1000);
    assert.equal(window.ratio(), 0.99);
    window.record(5); // far older than the window: ignored
    assert.equal(window.ratio(), 0.99);
  });

  test("a new incarnation starts the accounting again", () => {
    const tracker = newTracker();
    for (let linkSeq = 1; linkSeq <= 40; linkSeq += 2)
      tracker.onHeartbeat(linkSeq * 100, hb(linkSeq));
    assert.ok((tracker.lossRatio() ?? 0) > 0.4);
    for (let linkSeq = 1; linkSeq <= 20; linkSeq++) {
      tracker.onHeartbeat(10_000 + linkSeq * 100, hb(linkSeq, [], 8));
    }
    assert.equal(tracker.lossRatio(), 0);
  });
});
