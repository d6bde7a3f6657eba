/**
 * A one-way cut on test hosts (network namespaces): the host that leads Raft and runs the service
 * group stops receiving anything (its heartbeats still go out, so the others hear it "up"). It
 * loses its lease and stops the group; the others must not wait for a node that is heard but
 * cannot hear: they count it out once its lease has surely ended, and run the group themselves.
 * Asserts where the group runs and that the VIP and the service were never on two hosts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Lab, labTestOptions } from "../lab/index.js";
import { groupNode, nowMs, stateOf, type TakeoverLab } from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["socat", "ss"]);

describe("a leader that can send but not receive", options, () => {
  let lab: Lab;
  let t: TakeoverLab;

  useTakeoverLab(
    { hosts: 3, links: 2, clients: 1 },
    () => ({}),
    (created) => {
      ({ lab, t } = created);
    },
  );

  test("its group runs elsewhere while the cut lasts, and stays there after the heal", async () => {
    const leader = await t.waitForLeader();
    if ((await t.waitForGroup()) !== leader) await t.moveGroup(leader);
    const old = t.name(leader);
    const observer = t.hosts.find((host) => host !== leader)!;
    const cutAt = nowMs();
    await lab.cutAll(leader, "in");

    const next = await waitFor(
      "the group to run on another host",
      async () => {
        const node = groupNode(await stateOf(t.cluster, observer));
        return node !== undefined && node !== old ? node : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await t.prober!.waitForAnswer(`an answer from ${next}`, cutAt, (a) => a === next);
    // The cut host is still heard: membership says up, yet it takes no part.
    const seen = await t.cluster.status(observer);
    assert.equal(seen.nodes.find((node) => node.name === old)?.state, "up");
    await t.assertSafe("one-way cut of the leader");

    await lab.healAll(leader);
    // Once the healed host has caught up, it sees the group where the others put it.
    await waitFor(`${old} to see the group on ${next}`, async () =>
      groupNode(await stateOf(t.cluster, leader)) === next ? true : undefined,
    );
    await t.waitProbed(leader);
    assert.equal(groupNode(await stateOf(t.cluster, observer)), next, "the group stays");
    await t.assertSafe("one-way cut of the leader, after the heal");
  });
});
