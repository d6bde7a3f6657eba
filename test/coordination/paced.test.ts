import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Coordinator } from "../../src/coordination/coordinator.js";
import { encodeCommand } from "../../src/state/commands.js";
import { waitFor } from "../support/wait.js";
import { InProcessCluster } from "./in-process-cluster.js";

/**
 * Three real coordinators (Raft core, store on disk, real timers) whose heartbeats are paced by
 * a caller, as the agent paces them: the caller's beats are the leader's only cadence, and a beat
 * that comes while a step waits on the disk is taken right after it.
 */
describe("coordinators with paced heartbeats", () => {
  let cluster: InProcessCluster;
  let coordinators: Map<number, Coordinator>;
  let config: InProcessCluster["config"];
  const beats: NodeJS.Timeout[] = [];

  before(async () => {
    cluster = await InProcessCluster.start({ pacedHeartbeats: true });
    ({ coordinators, config } = cluster);
    for (const coordinator of coordinators.values())
      beats.push(setInterval(() => coordinator.heartbeat(), config.timing.keepalive_ms));
  });

  after(async () => {
    for (const beat of beats) clearInterval(beat);
    await cluster?.stop();
  });

  test("a leader is elected, keeps its term through idle time and commits what it is given", async () => {
    const leader = await waitFor(
      "a leader",
      () => [...coordinators].find(([, c]) => c.isLeader())?.[0],
    );
    const term = coordinators.get(leader)!.status().term;
    // Idle for several election timeouts: only the paced beats keep the followers following.
    await new Promise((resolve) =>
      setTimeout(resolve, config.coordination.election_timeout_max_ms * 3),
    );
    assert.equal(coordinators.get(leader)!.isLeader(), true);
    assert.equal(coordinators.get(leader)!.status().term, term, "no election happened");
    // Commands hit the disk (steps in flight while beats come): every one commits everywhere.
    const before = coordinators.get(leader)!.state().version;
    for (let count = 0; count < 10; count++) {
      const result = await coordinators.get(leader)!.submit({
        kind: "command",
        payload: encodeCommand({
          type: "maintenance",
          on: count % 2 === 0,
          by: "test",
          atMs: Date.now(),
        }),
      });
      assert.equal(result.ok, true, JSON.stringify(result));
    }
    await waitFor("every node to apply the ten commands", () =>
      [...coordinators.values()].every((c) => c.state().version === before + 10) ? true : undefined,
    );
    assert.equal(coordinators.get(leader)!.status().term, term);
  });
});
