import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { PeerLinkHistory, PeerLinkSample } from "../../src/api/heartbeat-history.js";
import { statusDigest } from "../../src/api/status-digest.js";
import { type FeedListener, StatusFeed } from "../../src/api/status-feed.js";
import type { StatusReply } from "../../src/control/status-reply.js";
import type { NodeState } from "../../src/membership/types.js";
import { initialState } from "../../src/state/serialize.js";

function status(nowMs: number, betaState: NodeState, rttMs: number): StatusReply {
  return {
    cluster: { name: "demo", id: 7 },
    node: { id: 1, name: "alpha", incarnation: 1, startedAtMs: 0 },
    nowMs,
    nodes: [
      {
        id: 2,
        name: "beta",
        state: betaState,
        incarnation: 2,
        lastHeardMs: nowMs - 10,
        links: [
          {
            link: "ring0",
            state: betaState === "up" ? "up" : "down",
            lastHeardMs: nowMs - 10,
            rttMs,
            lossRatio: 0,
            suspicion: 0.1,
          },
        ],
      },
    ],
    coordination: null,
    recentEvents: [],
    callbackFailures: {},
    resources: null,
  } as unknown as StatusReply;
}

test("the digest ignores the figures that move with every heartbeat, not a state change", () => {
  const base = statusDigest(status(1_000, "up", 0.5));
  assert.equal(statusDigest(status(2_000, "up", 0.9)), base);
  assert.notEqual(statusDigest(status(2_000, "dead", 0.5)), base);
});

interface Received {
  history: PeerLinkHistory[][];
  status: StatusReply[];
  heartbeats: PeerLinkSample[][];
  versions: number[];
}

function recorder(): { listener: FeedListener; received: Received } {
  const received: Received = { history: [], status: [], heartbeats: [], versions: [] };
  return {
    received,
    listener: {
      history: (history) => received.history.push(history),
      status: (reply) => received.status.push(reply),
      heartbeats: (samples) => received.heartbeats.push(samples),
      state: (state) => received.versions.push(state.version),
    },
  };
}

test("a listener gets the history, the status and the state at once, then changes as they come", async () => {
  let now = 10_000;
  let beta: NodeState = "up";
  const state = initialState();
  const feed = new StatusFeed(
    { status: () => status(now, beta, 0.5), state: () => state },
    {
      watchedTickMs: 5,
      idleTickMs: 5,
      // Long: only a change makes the feed send within this test.
      maxQuietMs: 60_000,
      history: { bucketMs: 1000, buckets: 60 },
      wrap: (_name, callback) => callback,
    },
  );
  feed.start();
  try {
    await sleep(20);
    const { listener, received } = recorder();
    const unsubscribe = feed.subscribe(listener);
    assert.equal(received.history.length, 1);
    assert.equal(received.history[0]?.[0]?.node, "beta");
    assert.equal(received.status.length, 1);
    assert.deepEqual(received.versions, [state.version]);
    assert.equal(feed.watchers, 1);

    await sleep(30);
    const sentBeforeChange = received.status.length;
    now += 10;
    await sleep(30);
    assert.equal(received.status.length, sentBeforeChange, "no change, no new status");

    beta = "dead";
    now += 10;
    await sleep(30);
    assert.equal(received.status.at(-1)?.nodes[0]?.state, "dead");
    assert.equal(received.heartbeats.at(-1)?.[0]?.sample.state, "down");

    state.version += 1;
    await sleep(30);
    assert.equal(received.versions.at(-1), state.version);

    unsubscribe();
    assert.equal(feed.watchers, 0);
  } finally {
    feed.stop();
  }
});
