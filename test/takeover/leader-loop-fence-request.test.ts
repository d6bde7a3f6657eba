/**
 * on_fail fence, the leader's side: a node whose run asked to be fenced is fenced by the leader
 * although its heartbeats arrive, and a leader that asked hands leadership over instead of
 * fencing itself (its own fence's outcome could never be recorded).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import type { FenceResult } from "../../src/fencing/fence-report.js";
import { NodeFencer } from "../../src/fencing/node-fencer.js";
import type { ClusterState } from "../../src/state/types.js";
import { LeaderLoop } from "../../src/takeover/leader-loop.js";
import { VirtualTime } from "../coordination/virtual-time.js";
import { commit, inputOf, T0, webRunningOn } from "./fixtures.js";

function askedToBeFenced(node: string): ClusterState {
  return commit(webRunningOn(node), {
    type: "node_fence_request",
    node,
    incarnation: 1,
    resource: "web",
    reason: "web failed its monitor (on_fail fence): failed",
  });
}

async function leaderOn(nodeName: string, state: ClusterState) {
  const time = new VirtualTime(T0);
  const logger = pino({ level: "silent" });
  const fenced: string[] = [];
  const handedOver: string[] = [];
  const submit = async (): Promise<SubmitResult> => ({
    ok: true,
    version: state.version,
    index: 1,
  });
  const fencer = new NodeFencer({
    nodeName,
    clock: time,
    timers: time,
    logger,
    delayMs: () => 0,
    fence: async (node): Promise<FenceResult> => {
      fenced.push(node);
      return { ok: true, action: "reboot", devices: ["ipmi"], detail: "ok", attempts: [] };
    },
    submit,
  });
  const loop = new LeaderLoop({
    nodeName,
    clock: time,
    timers: time,
    logger,
    isLeader: () => true,
    state: () => state,
    policyInput: (s) => inputOf(s, { fencing: { up: ["node1", "node2", "node3"] } }),
    leaseSurelyExpired: () => false,
    isUp: () => true,
    submit,
    fencer,
    handOverLeadership: async () => {
      handedOver.push(nodeName);
    },
  });
  loop.kick();
  for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
  loop.stop();
  return { fenced, handedOver };
}

test("the leader fences a node that asked to be fenced, though its heartbeats arrive", async () => {
  const { fenced, handedOver } = await leaderOn("node2", askedToBeFenced("node1"));
  assert.deepEqual(fenced, ["node1"]);
  assert.deepEqual(handedOver, []);
});

test("a leader that asked to be fenced hands leadership over, and fences nobody", async () => {
  const { fenced, handedOver } = await leaderOn("node1", askedToBeFenced("node1"));
  assert.deepEqual(fenced, []);
  assert.deepEqual(handedOver, ["node1"]);
});
