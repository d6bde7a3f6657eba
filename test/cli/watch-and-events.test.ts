import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatEventLine, PrintedEvents } from "../../src/cli/event-lines.js";
import { parseIntervalMs } from "../../src/cli/refresh.js";
import { plainFrame, terminalFrame } from "../../src/cli/watch-frame.js";
import type { ClusterEvent } from "../../src/control/cluster-events.js";

const frame = {
  body: "Node alpha\nbeta up",
  atMs: Date.UTC(2026, 11, 6, 16, 0, 0),
  intervalMs: 1000,
  failed: false,
};

const event = (id: string): ClusterEvent => ({
  id,
  source: "alpha",
  atMs: Date.UTC(2026, 11, 6, 16, 0, 0, 250),
  kind: "node_dead",
  text: "beta DEAD (silence, silent 3000 ms)",
  stateVersion: 12,
});

describe("vigil status --watch's frames", () => {
  test("a terminal: drawn over the last frame, every line's rest and what is below cleared", () => {
    const text = terminalFrame(frame);
    assert.ok(text.startsWith("\x1b[H"), "starts at the top left");
    assert.ok(!text.includes("\x1b[2J"), "no full-screen clear (it flickers)");
    assert.ok(
      text.includes("2026-12-06T16:00:00.000Z  every 1000 ms  (Ctrl-C to stop)\x1b[K\n"),
      JSON.stringify(text),
    );
    assert.ok(text.endsWith("beta up\x1b[K\n\x1b[J"), JSON.stringify(text));
  });

  test("a pipe: dated snapshots one after the other, without escape codes", () => {
    const text = plainFrame(frame) + plainFrame({ ...frame, body: "cannot reach", failed: true });
    assert.ok(!text.includes("\x1b"));
    assert.equal(
      text,
      "--- 2026-12-06T16:00:00.000Z  every 1000 ms\nNode alpha\nbeta up\n\n" +
        "--- 2026-12-06T16:00:00.000Z  no status (retrying every 1000 ms)\ncannot reach\n\n",
    );
  });

  test("--interval-ms: whole milliseconds from 100 to an hour, else named", () => {
    assert.equal(parseIntervalMs(undefined), 1000);
    assert.equal(parseIntervalMs("250"), 250);
    assert.equal(parseIntervalMs("3600000"), 3_600_000);
    // 99999999999 once passed and overflowed Node's timer to 1 ms: a hot loop against the agent.
    for (const bad of ["99", "1.5", "soon", "", "3600001", "99999999999", "1e400"])
      assert.throws(
        () => parseIntervalMs(bad),
        /--interval-ms takes a whole number of milliseconds/,
      );
  });
});

describe("vigil events' lines", () => {
  test("when, the order, who saw it, the kind, what happened", () => {
    assert.equal(
      formatEventLine(event("alpha/7/1")),
      "2026-12-06T16:00:00.250Z  v12  alpha  node_dead  beta DEAD (silence, silent 3000 ms)",
    );
  });

  test("an event sent again is printed once", () => {
    const printed = new PrintedEvents(10);
    assert.deepEqual(
      printed.fresh([event("v1"), event("v2")]).map((e) => e.id),
      ["v1", "v2"],
    );
    assert.deepEqual(
      printed.fresh([event("v1"), event("v2"), event("v3")]).map((e) => e.id),
      ["v3"],
    );
  });

  test("what is remembered is bounded, the oldest forgotten first", () => {
    const printed = new PrintedEvents(2);
    printed.fresh([event("v1"), event("v2"), event("v3")]);
    assert.deepEqual(
      printed.fresh([event("v1"), event("v3")]).map((e) => e.id),
      ["v1"],
    );
  });
});
