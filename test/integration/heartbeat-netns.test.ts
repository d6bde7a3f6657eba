import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { controlGet, controlPost } from "../../src/control/client.js";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { labTestOptions, withLab } from "../lab/index.js";
import { LabCluster, peerOf } from "../support/lab-cluster.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions();
const H1 = 0;
const H3 = 2;

/** Real agents on test hosts (network namespaces), two links each, faults from nft. */
describe("heartbeats across test hosts", options, () => {
  test("one of two links cut: the peer stays up and that link is down; both cut: dead", async () => {
    await withLab({ hosts: 3, links: 2 }, async (lab) => {
      const cluster = await LabCluster.create(lab);
      await cluster.startAll();
      await cluster.waitAllUp();

      await lab.cutLink(H3, 0);
      const oneCut = await cluster.waitUntil(
        H1,
        "h3's ring0 down",
        (s) => peerOf(s, H3)?.links.find((l) => l.link === "ring0")?.state === "down",
      );
      const h3 = peerOf(oneCut, H3);
      assert.equal(h3?.state, "up", "h3 is still up over ring1");
      assert.equal(h3?.links.find((l) => l.link === "ring1")?.state, "up");
      // h3 sees the same from its side, and h2's ring0 is untouched.
      const fromH3 = await cluster.waitUntil(H3, "ring0 down to both peers", (s) =>
        s.nodes.every((n) => n.links.find((l) => l.link === "ring0")?.state === "down"),
      );
      assert.ok(fromH3.nodes.every((n) => n.state === "up"));
      assert.equal(
        peerOf(await cluster.status(H1), 1)?.links.find((l) => l.link === "ring0")?.state,
        "up",
      );
      assert.ok(oneCut.recentEvents.some((e) => e.type === "link_down" && e.link === "ring0"));

      // Coordination traffic moves to the link that still works: a change made on h1 reaches h3.
      const base = await controlGet<{ configurationVersion: number }>(
        cluster.socketPath(H1),
        "/v1/config",
      );
      const applied = await controlPost<SubmitResult>(cluster.socketPath(H1), "/v1/config", {
        text: "resources: {}\n# over ring1\n",
        document: { resources: {} },
        expectedVersion: base.configurationVersion,
        by: "test",
      });
      assert.equal(applied.ok, true, JSON.stringify(applied));
      await waitFor("h3 to receive the change over ring1", async () => {
        const config = await controlGet<{ text: string }>(cluster.socketPath(H3), "/v1/config");
        return config.text.includes("over ring1") ? true : undefined;
      });

      await lab.cutLink(H3, 1);
      const bothCut = await cluster.waitUntil(
        H1,
        "h3 dead",
        (s) => peerOf(s, H3)?.state === "dead",
      );
      const dead = bothCut.recentEvents.find((e) => e.type === "node_dead" && e.nodeId === H3 + 1);
      assert.equal(dead?.type === "node_dead" && dead.reason, "timeout");
      // h3, cut off, declares both of its peers dead: neither side waits forever.
      await cluster.waitUntil(H3, "both peers dead", (s) =>
        s.nodes.every((n) => n.state === "dead"),
      );

      await lab.healAll(H3);
      const healed = await cluster.waitUntil(
        H1,
        "h3 up again",
        (s) => peerOf(s, H3)?.state === "up",
      );
      const up = healed.recentEvents.findLast((e) => e.type === "node_up" && e.nodeId === H3 + 1);
      // The same instance came back (a healed cut, not a restart).
      assert.equal(
        up?.type === "node_up" && up.previousIncarnation,
        up?.type === "node_up" && up.incarnation,
      );
    });
  });

  test("multicast and broadcast links carry encrypted heartbeats between hosts", async () => {
    await withLab({ hosts: 3, links: 2 }, async (lab) => {
      const cluster = await LabCluster.create(lab, {
        linkTypes: ["mcast", "bcast"],
        encrypt: true,
      });
      await cluster.startAll();
      await cluster.waitAllUp();
      const status = await cluster.status(H1);
      assert.deepEqual(
        status.links.map((link) => link.kind),
        ["mcast", "bcast"],
      );
      for (const link of status.links) assert.ok(link.counters.framesReceived > 0);
      // Cutting the multicast link leaves broadcast carrying h3.
      await lab.cutLink(H3, 0);
      const cut = await cluster.waitUntil(
        H1,
        "h3's mcast link down",
        (s) => peerOf(s, H3)?.links.find((l) => l.link === "ring0")?.state === "down",
      );
      assert.equal(peerOf(cut, H3)?.state, "up");
      // Nothing was refused: every frame decrypted and authenticated.
      assert.equal(cut.rejects.bad_mac, 0);
      assert.equal(cut.rejects.decrypt_failed, 0);
    });
  });

  test("power-off: links down then SIGKILL; the peers declare it dead, a restart is a new incarnation", async () => {
    await withLab({ hosts: 3, links: 2 }, async (lab) => {
      const cluster = await LabCluster.create(lab);
      await cluster.startAll();
      await cluster.waitAllUp();
      const before = peerOf(await cluster.status(H1), H3)?.incarnation ?? null;
      await lab.powerOff(H3);
      await cluster.waitUntil(H1, "h3 dead", (s) => peerOf(s, H3)?.state === "dead");
      await lab.powerOn(H3);
      await cluster.start(H3);
      const back = await cluster.waitUntil(H1, "h3 up, new incarnation", (s) => {
        const peer = peerOf(s, H3);
        return peer?.state === "up" && before !== null && (peer.incarnation ?? 0) > before;
      });
      assert.ok((peerOf(back, H3)?.incarnation ?? 0) > (before ?? Number.POSITIVE_INFINITY));
    });
  });
});
