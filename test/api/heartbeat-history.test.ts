import assert from "node:assert/strict";
import { test } from "node:test";
import { HeartbeatHistory } from "../../src/api/heartbeat-history.js";
import type { LinkState, NodeStatus } from "../../src/membership/types.js";

const beta = (state: LinkState, rttMs: number | null, lossRatio: number | null): NodeStatus => ({
  id: 2,
  name: "beta",
  state: state === "down" ? "dead" : "up",
  incarnation: 1,
  lastHeardMs: 0,
  links: [{ link: "ring0", state, lastHeardMs: 0, rttMs, lossRatio, suspicion: 0 }],
});

test("one sample a bucket: the last RTT, the highest loss, the worst state seen in it", () => {
  const history = new HeartbeatHistory({ bucketMs: 1000, buckets: 10 });
  history.record(5_000, [beta("up", 0.4, 0)]);
  history.record(5_250, [beta("late", 0.6, 0.1)]);
  const current = history.record(5_900, [beta("up", 0.5, 0.05)]);
  assert.deepEqual(current, [
    {
      node: "beta",
      link: "ring0",
      sample: { atMs: 5_000, rttMs: 0.5, lossRatio: 0.1, state: "late" },
    },
  ]);
  history.record(6_100, [beta("down", null, null)]);
  assert.deepEqual(history.snapshot(), [
    {
      node: "beta",
      link: "ring0",
      samples: [
        { atMs: 5_000, rttMs: 0.5, lossRatio: 0.1, state: "late" },
        { atMs: 6_000, rttMs: null, lossRatio: null, state: "down" },
      ],
    },
  ]);
});

test("bounded: the oldest buckets go first", () => {
  const history = new HeartbeatHistory({ bucketMs: 1000, buckets: 3 });
  for (let second = 0; second < 5; second++) history.record(second * 1000, [beta("up", second, 0)]);
  const [series] = history.snapshot();
  assert.deepEqual(
    series?.samples.map((sample) => sample.atMs),
    [2_000, 3_000, 4_000],
  );
});

test("snapshots are copies: a later record does not change what was handed out", () => {
  const history = new HeartbeatHistory({ bucketMs: 1000, buckets: 3 });
  history.record(1_000, [beta("up", 1, 0)]);
  const before = history.snapshot();
  history.record(1_500, [beta("down", 2, 0.5)]);
  assert.equal(before[0]?.samples[0]?.state, "up");
});
