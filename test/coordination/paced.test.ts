import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Coordinator } from "../../src/coordination/coordinator.js";
import { encodeCommand } from "../../src/state/commands.js";
import { InProcessCluster } from "./in-process-cluster.js";

/**
 * Three real coordinators (Raft core, store on disk) on virtual time, whose heartbeats are paced
 * by a caller, as the agent paces them: the caller's beats are the leader's only cadence, and a
 * beat that comes while a step is in flight is taken right after it.
 */
describe("coordinators with paced heartbeats", () => {
  let cluster: InProcessCluster;
  let coordinators: Map<number, Coordinator>;
  let config: InProcessCluster["config"];
  const stopBeats: Array<() => void> = [];

  before(async () => {
    cluster = await InProcessCluster.start({ pacedHeartbeats: true });
    ({ coordinators, config } = cluster);
    for (const coordinator of coordinators.values())
      stopBeats.push(cluster.time.every(config.timing.keepalive_ms, () => coordinator.heartbeat()));
  });

  after(async () => {
    for (const stop of stopBeats) stop();
    await cluster?.stop();
  });

  test("a leader is elected, keeps its term through idle time and commits what it is given", async () => {
    const leaderId = await cluster.runUntil(
      "leader",
      () => [...coordinators].find(([, c]) => c.isLeader())?.[0],
    );
    const leader = coordinators.get(leaderId)!;
    const term = leader.status().term;
    // Idle for several election timeouts: only the paced beats keep the followers following.
    await cluster.runFor(config.coordination.election_timeout_max_ms * 3);
    assert.equal(leader.isLeader(), true);
    assert.equal(leader.status().term, term, "no election happened");
    const before = leader.state().version;
    for (let count = 0; count < 10; count++) {
      const submitted = leader.submit({
        kind: "command",
        payload: encodeCommand({ type: "maintenance", on: count % 2 === 0, by: "test", atMs: 0 }),
      });
      // A beat while the proposal's step is in flight: owed, and taken once the queue is empty.
      leader.heartbeat();
      const result = await cluster.outcome("commit", submitted);
      assert.equal(result.ok, true, JSON.stringify(result));
    }
    await cluster.runUntil("every node applying the ten commands", () =>
      [...coordinators.values()].every((c) => c.state().version === before + 10) ? true : undefined,
    );
    assert.equal(leader.status().term, term);
  });
});
