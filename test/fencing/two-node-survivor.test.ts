import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { type FenceResult, NodeFencer } from "../../src/fencing/node-fencer.js";
import { TwoNodeSurvivor } from "../../src/fencing/two-node-survivor.js";
import type { Command } from "../../src/state/commands.js";
import { waitFor } from "../support/wait.js";

const logger = pino({ level: "silent" });
const clock = { nowMs: () => Date.now() };

/** A fencer and survivor on "alpha" for peer "beta" (id 2), with every call recorded. */
function survivorOn(options: { caughtUp?: boolean; fenceOk?: boolean } = {}) {
  const calls: string[] = [];
  let peerUp = false;
  let survivor: TwoNodeSurvivor | null = null;
  const fencer = new NodeFencer({
    nodeName: "alpha",
    clock,
    logger,
    delayMs: () => 0,
    fence: async (node): Promise<FenceResult> => {
      calls.push(`fence ${node}`);
      return {
        ok: options.fenceOk ?? true,
        action: "reboot",
        devices: ["ipmi"],
        detail: "",
        attempts: [],
      };
    },
    submit: async (command: Command): Promise<SubmitResult> => {
      calls.push(`record ${command.type}`);
      return { ok: true, index: 1, version: 1 };
    },
    onFenced: (node) => survivor?.onPeerFenced(node),
  });
  survivor = new TwoNodeSurvivor({
    peer: { id: 2, name: "beta" },
    logger,
    fencer,
    isPeerUp: () => peerUp,
    caughtUp: () => options.caughtUp ?? true,
    standIn: async () => {
      calls.push("stand in");
      return { accepted: true };
    },
  });
  return {
    calls,
    fencer,
    survivor,
    setPeerUp: (up: boolean) => {
      peerUp = up;
    },
  };
}

const dead = (incarnation: number) =>
  ({
    type: "node_dead",
    atMs: 0,
    nodeId: 2,
    name: "beta",
    incarnation,
    reason: "timeout",
    silentMs: 1000,
  }) as const;
const up = (incarnation: number) =>
  ({
    type: "node_up",
    atMs: 0,
    nodeId: 2,
    name: "beta",
    incarnation,
    previousIncarnation: null,
  }) as const;

test("a lost peer is fenced, its vote stands in before the outcome is recorded, once", async () => {
  const { calls, survivor, fencer } = survivorOn();
  survivor.onMembershipEvent(up(10));
  survivor.onMembershipEvent(dead(10));
  await waitFor("the fence to be recorded", () =>
    calls.includes("record node_fenced") ? true : undefined,
  );
  assert.deepEqual(calls, ["fence beta", "stand in", "record node_fenced"]);
  assert.equal(survivor.accepts(10), false, "the fenced run's messages are dropped");
  // Asked again (the leader's placement loop, say): not shot twice.
  assert.deepEqual(
    fencer.request("beta", () => true),
    { started: false, reason: "already_fenced" },
  );
  // A new run of the peer: its messages count again, and a later loss is a new fence.
  survivor.onMembershipEvent(up(11));
  assert.equal(survivor.accepts(11), true);
  assert.equal(fencer.isFenced("beta"), false);
});

test("a peer that left cleanly is stood in for without a fence", async () => {
  const { calls, survivor } = survivorOn();
  survivor.onMembershipEvent(up(10));
  survivor.onMembershipEvent({
    type: "node_left",
    atMs: 0,
    nodeId: 2,
    name: "beta",
    incarnation: 10,
  });
  await waitFor("the stand-in", () => (calls.includes("stand in") ? true : undefined));
  assert.deepEqual(calls, ["stand in"]);
  assert.equal(survivor.accepts(10), false);
});

test("a node that has not caught up does not fence its peer", async () => {
  const { calls, survivor } = survivorOn({ caughtUp: false });
  survivor.onMembershipEvent(dead(10));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(calls, []);
});

test("a failed fence is recorded, nothing stands in, and it is tried again later", async () => {
  const { calls, survivor, fencer } = survivorOn({ fenceOk: false });
  survivor.onMembershipEvent(dead(10));
  await waitFor("the failure to be recorded", () =>
    calls.includes("record node_fenced") ? true : undefined,
  );
  assert.deepEqual(calls, ["fence beta", "record node_fenced"]);
  const again = fencer.request("beta", () => true);
  assert.equal(again.started, false);
  assert.equal(!again.started && again.reason, "retry_later");
  survivor.stop();
  fencer.stop();
});
