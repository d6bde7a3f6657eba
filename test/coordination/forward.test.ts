import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClusterMessage } from "../../src/coordination/cluster-message.js";
import type { Coordinator } from "../../src/coordination/coordinator.js";
import { encodeCommand } from "../../src/state/commands.js";
import { waitFor } from "../support/wait.js";
import { InProcessCluster } from "./in-process-cluster.js";

/**
 * Three real coordinators (Raft core, store on disk, real timers) joined by an in-process wire
 * that can lose chosen messages: a forward or its result lost on the way is resent, and the
 * leader proposes each forwarded request once however often it arrives.
 */
describe("forwarded proposals over a lossy wire", () => {
  /** Return true to lose a message (from, to, message). */
  let lose: (from: number, to: number, message: ClusterMessage) => boolean = () => false;
  let cluster: InProcessCluster;
  let coordinators: Map<number, Coordinator>;

  before(async () => {
    cluster = await InProcessCluster.start({
      lose: (from, to, message) => lose(from, to, message),
    });
    coordinators = cluster.coordinators;
  });

  after(() => cluster?.stop());

  /** The leader and term every coordinator agrees on, or undefined while they do not. */
  function agreed(): { leader: number; term: number } | undefined {
    const views = [...coordinators.values()].map((c) => c.status());
    const [first] = views;
    if (first?.leaderId == null) return undefined;
    const same = views.every((v) => v.leaderId === first.leaderId && v.term === first.term);
    return same ? { leader: first.leaderId, term: first.term } : undefined;
  }

  const maintenance = (on: boolean) => ({
    kind: "command" as const,
    payload: encodeCommand({ type: "maintenance", on, by: "test", atMs: Date.now() }),
  });

  /**
   * Runs the scenario from a moment every node knows the same leader until one run ends with
   * that leader still known to all in the same term, and the follower never lost sight of it.
   * What it asserts holds under one leader, and on a machine loaded hard enough to delay the
   * timers an election may come in between (a forward to a deposed leader is abandoned, not
   * resent).
   */
  async function underOneLeader<T>(
    scenario: (roles: { leader: number; follower: number }) => Promise<T>,
  ): Promise<T & { leader: number; follower: number }> {
    for (let attempt = 1; ; attempt++) {
      const before = await waitFor("one leader that every node knows", agreed);
      const follower = [...coordinators.keys()].find((id) => id !== before.leader)!;
      // A follower that lost sight of the leader for a moment (a pre-vote) abandons its forward.
      let leaderChanges = 0;
      const unsubscribe = coordinators.get(follower)!.events.subscribe((event) => {
        if (event.type === "leader_changed") leaderChanges++;
      });
      const outcome = await scenario({ leader: before.leader, follower }).finally(unsubscribe);
      const after = agreed();
      if (leaderChanges === 0 && after?.leader === before.leader && after.term === before.term)
        return { ...outcome, leader: before.leader, follower };
      if (attempt === 5) assert.fail("an election came during each of 5 runs");
    }
  }

  for (const lost of ["forward", "forward_result"] as const) {
    test(`the first ${lost} is lost: resent, applied once`, async () => {
      const { dropped, result, before, after, leader } = await underOneLeader(
        async ({ leader, follower }) => {
          const before = coordinators.get(leader)!.state().version;
          let dropped = 0;
          lose = (_from, _to, message) => message.kind === lost && dropped++ === 0;
          const result = await coordinators
            .get(follower)!
            .submit(maintenance(lost === "forward"))
            .finally(() => {
              lose = () => false;
            });
          return { dropped, result, before, after: coordinators.get(leader)!.state().version };
        },
      );
      assert.equal(dropped >= 2, true, `a copy was resent (${dropped} seen, leader ${leader})`);
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(after, before + 1, "applied exactly once");
    });
  }

  test("refusals come back through a forward as rejected (the same request fails again)", async () => {
    const { command, membership } = await underOneLeader(async ({ follower }) => {
      const node = coordinators.get(follower)!;
      const command = await node.submit({ kind: "command", payload: "not a command" });
      const membership = await node.submit({ kind: "membership", action: "add", nodeId: follower });
      return { command, membership };
    });
    for (const result of [command, membership]) {
      assert.equal(result.ok, false, JSON.stringify(result));
      assert.equal(!result.ok && result.code, "rejected", JSON.stringify(result));
    }
  });
});
