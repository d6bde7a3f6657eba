import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { controlGet, controlPost } from "../../src/control/client.js";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { labTestOptions, withLab } from "../lab/index.js";
import { LabCluster } from "../support/lab-cluster.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions();

/** Raft across real test hosts: a partitioned minority must stop acting, then catch up. */
describe("coordination across test hosts", options, () => {
  test("a partitioned leader loses quorum and lease; the majority goes on; healed, it catches up", async () => {
    await withLab({ hosts: 3, links: 2 }, async (lab) => {
      const cluster = await LabCluster.create(lab);
      await cluster.startAll();
      const hosts = [0, 1, 2];
      const coordination = async (host: number) => {
        const c = (await cluster.status(host)).coordination;
        if (c === null) throw new Error("no coordination status");
        return c;
      };
      const leaderAmong = async (among: readonly number[]) => {
        let last = "";
        try {
          return await waitFor(`hosts ${among.join(", ")} to agree on one leader`, async () => {
            const views = await Promise.all(among.map(coordination));
            last = JSON.stringify(views.map(({ membership: _, ...view }) => view));
            const leaderId = views[0]?.leaderId ?? null;
            const agreed = views.every((view) => view.leaderId === leaderId);
            const leaders = views.filter((view) => view.role === "leader");
            return agreed && leaderId !== null && leaders.length === 1 ? leaderId : undefined;
          });
        } catch (error) {
          throw new Error(`${(error as Error).message}; last views: ${last}`);
        }
      };

      const oldLeaderId = await leaderAmong(hosts);
      const isolated = oldLeaderId - 1;
      const majority = hosts.filter((host) => host !== isolated);
      await lab.cutAll(isolated);

      // The isolated node stops believing it may act: no leadership, no lease, no quorum.
      const minorityView = await waitFor("the isolated node to lose quorum and lease", async () => {
        const view = await coordination(isolated);
        return view.role !== "leader" && view.leaseUntilMs === null ? view : undefined;
      });
      assert.ok(minorityView.votesPresent < minorityView.votesNeeded);
      const newLeaderId = await leaderAmong(majority);
      assert.notEqual(newLeaderId, oldLeaderId);

      // The majority keeps committing while the minority is away.
      const socket = cluster.socketPath(majority[0]!);
      const base = await controlGet<{ configurationVersion: number }>(socket, "/v1/config");
      const result = await controlPost<SubmitResult>(socket, "/v1/config", {
        text: "resources: {}\n# during the partition\n",
        document: { resources: {} },
        expectedVersion: base.configurationVersion,
        by: "test",
      });
      assert.equal(result.ok, true, JSON.stringify(result));
      // A change asked of the minority is refused: it cannot reach a quorum.
      const refused = await controlPost<SubmitResult>(cluster.socketPath(isolated), "/v1/config", {
        text: "resources: {}\n# from the minority\n",
        document: { resources: {} },
        expectedVersion: base.configurationVersion,
        by: "test",
      });
      assert.equal(refused.ok, false);

      await lab.healAll(isolated);
      await waitFor("the healed node to follow the new leader and catch up", async () => {
        const view = await coordination(isolated);
        const config = await controlGet<{ text: string }>(
          cluster.socketPath(isolated),
          "/v1/config",
        );
        return view.leaderId === newLeaderId && config.text.includes("during the partition")
          ? true
          : undefined;
      });
      assert.equal(await leaderAmong(hosts), newLeaderId);
    });
  });
});
