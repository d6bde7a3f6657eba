import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClusterMessage } from "../../src/coordination/cluster-message.js";
import type { Coordinator } from "../../src/coordination/coordinator.js";
import { encodeCommand } from "../../src/state/commands.js";
import { InProcessCluster } from "./in-process-cluster.js";

/**
 * Three real coordinators (Raft core, store on disk) on virtual time, joined by an in-process
 * wire that can lose chosen messages: a forward or its result lost on the way is resent, and the
 * leader proposes each forwarded request once however often it arrives.
 */
describe("forwarded proposals over a lossy wire", () => {
  /** Return true to lose a message (from, to, message). */
  let lose: (from: number, to: number, message: ClusterMessage) => boolean = () => false;
  let cluster: InProcessCluster;
  let coordinators: Map<number, Coordinator>;
  let roles: { leader: number; term: number; follower: number };

  before(async () => {
    cluster = await InProcessCluster.start({
      lose: (from, to, message) => lose(from, to, message),
    });
    coordinators = cluster.coordinators;
    const agreed = await cluster.runUntil("leader that every node knows", leaderEveryoneKnows);
    const follower = [...coordinators.keys()].find((id) => id !== agreed.leader)!;
    roles = { ...agreed, follower };
  });

  after(() => cluster?.stop());

  /** The leader and term every coordinator agrees on, or undefined while they do not. */
  function leaderEveryoneKnows(): { leader: number; term: number } | undefined {
    const views = [...coordinators.values()].map((c) => c.status());
    const [first] = views;
    if (first?.leaderId == null) return undefined;
    const same = views.every((v) => v.leaderId === first.leaderId && v.term === first.term);
    return same ? { leader: first.leaderId, term: first.term } : undefined;
  }

  /** Nothing the scenarios do calls for an election: the same leader, in the same term. */
  function assertSameLeader(): void {
    assert.deepEqual(leaderEveryoneKnows(), { leader: roles.leader, term: roles.term });
  }

  const maintenance = (on: boolean) => ({
    kind: "command" as const,
    payload: encodeCommand({ type: "maintenance", on, by: "test", atMs: 0 }),
  });

  for (const lost of ["forward", "forward_result"] as const) {
    test(`the first ${lost} is lost: resent, applied once`, async () => {
      const leader = coordinators.get(roles.leader)!;
      const before = leader.state().version;
      let seen = 0;
      lose = (_from, _to, message) => message.kind === lost && seen++ === 0;
      const result = await cluster
        .outcome(
          "answer to the forward",
          coordinators.get(roles.follower)!.submit(maintenance(lost === "forward")),
        )
        .finally(() => {
          lose = () => false;
        });
      assert.deepEqual(result, {
        ok: true,
        index: result.ok ? result.index : 0,
        version: before + 1,
      });
      // The lost copy and the one resent 250 ms later, which was answered: no third.
      assert.equal(seen, 2);
      // Copies still on the wire or resent late would be answered from memory, never run again.
      await cluster.runFor(2_000);
      assert.equal(leader.state().version, before + 1, "applied exactly once");
      for (const coordinator of coordinators.values())
        assert.equal(coordinator.state().version, before + 1);
      assertSameLeader();
    });
  }

  test("refusals come back through a forward as rejected (the same request fails again)", async () => {
    const node = coordinators.get(roles.follower)!;
    const command = await cluster.outcome(
      "answer to a bad command",
      node.submit({ kind: "command", payload: "not a command" }),
    );
    const membership = await cluster.outcome(
      "answer to a membership change",
      node.submit({ kind: "membership", action: "add", nodeId: roles.follower }),
    );
    for (const result of [command, membership]) {
      assert.equal(result.ok, false, JSON.stringify(result));
      assert.equal(!result.ok && result.code, "rejected", JSON.stringify(result));
    }
    assertSameLeader();
  });
});
