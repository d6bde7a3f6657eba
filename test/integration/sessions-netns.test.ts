import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { controlGet } from "../../src/control/client.js";
import type { ClusterState } from "../../src/state/types.js";
import { createLab, type Lab, labTestOptions } from "../lab/index.js";
import { assertTakenAfterLockDelay, Contender } from "../support/election-contender.js";
import { LabCluster } from "../support/lab-cluster.js";
import { waitFor } from "../support/wait.js";

/**
 * A lock holder's node loses power (its links go down, then everything on it is killed, as the
 * lab's power-off does) while the application holding the lock runs elsewhere, reaching that
 * node's agent through its control socket: the leader ends the session (node_dead) within its
 * TTL, the lock goes to a copy on another node only after the lock-delay, and the holder, cut
 * off from its agent, gives its session up.
 */
describe("sessions and a node's power-off (netns lab)", labTestOptions(), () => {
  let lab: Lab;
  let cluster: LabCluster;
  const contenders: Contender[] = [];

  before(async () => {
    lab = await createLab({ hosts: 3, links: 2 });
    cluster = await LabCluster.create(lab, { profile: "default" });
    await cluster.startAll();
    await cluster.waitAllUp();
    await waitFor("a leader", async () => {
      const status = await cluster.status(0);
      return status.coordination?.leaderId ? true : undefined;
    });
  });

  after(async () => {
    for (const contender of contenders) contender.kill();
    await lab?.teardown();
  });

  test("the holder's node is powered off: node_dead within the TTL, the lock to the other after the lock-delay", async () => {
    const ttlMs = 8000;
    const lockDelayMs = 2000;
    const holderHost = 2;
    const holder = new Contender(cluster.socketPath(holderHost), "power", ttlMs, lockDelayMs);
    contenders.push(holder);
    const lead = await holder.wait("the holder to lead", (line) => line.event === "leader");
    const other = new Contender(cluster.socketPath(0), "power", ttlMs, lockDelayMs);
    contenders.push(other);
    await other.wait("the other to be refused", (line) => line.code === "held");
    const offAtMs = Date.now();
    await lab.powerOff(holderHost);
    const took = await other.wait("the other to lead", (line) => line.event === "leader");
    const state = await waitFor("h1 to apply the acquire", async () => {
      const applied = await controlGet<ClusterState>(cluster.socketPath(0), "/v1/state", 1000);
      const lock = applied.locks?.power;
      return lock !== undefined && "session" in lock ? applied : undefined;
    });
    const endedAtMs = assertTakenAfterLockDelay(state, {
      key: "power",
      lost: lead.session ?? "",
      winner: took.session ?? "",
      reason: "node_dead",
      lockDelayMs,
    });
    assert.ok(endedAtMs - offAtMs < ttlMs, `ended ${endedAtMs - offAtMs} ms after the power-off`);
    await holder.wait("the holder to give its session up", (line) => line.event === "sessionLost");
  });
});
