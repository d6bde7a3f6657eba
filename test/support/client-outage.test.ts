import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clientOutage, type Probe } from "./takeover-lab.js";

const ok = (sentMs: number, doneMs: number, answer: string): Probe => ({
  sentMs,
  doneMs,
  ok: true,
  answer,
});
const failed = (sentMs: number, doneMs: number): Probe => ({
  sentMs,
  doneMs,
  ok: false,
  answer: "timeout",
});

describe("the client's view of a takeover", () => {
  test("the outage is the longest gap between answers, by when they arrived", () => {
    const outage = clientOutage(
      [ok(0, 1, "h1"), failed(5, 505), ok(600, 601, "h2"), ok(610, 611, "h2")],
      100,
    );
    assert.equal(outage.outageMs, 600);
    assert.equal(outage.before, "h1");
    assert.deepEqual(outage.answeredBy, ["h2"]);
  });

  test("an answer the old owner was slow to send does not read as the service moving back", () => {
    // Asked at 14 ms, accepted by h2 before it handed over, answered at 900 ms: after h1's first.
    const outage = clientOutage(
      [ok(0, 2, "h2"), ok(14, 900, "h2"), ok(800, 850, "h1"), ok(820, 905, "h1")],
      10,
    );
    assert.deepEqual(outage.answeredBy, ["h2", "h1"]);
  });

  test("a service that really moves back is seen to", () => {
    const outage = clientOutage([ok(0, 2, "h2"), ok(800, 850, "h1"), ok(900, 910, "h2")], 10);
    assert.deepEqual(outage.answeredBy, ["h1", "h2"]);
  });
});
