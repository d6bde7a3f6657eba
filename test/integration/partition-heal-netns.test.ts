/**
 * Partition heal on test hosts (network namespaces): three agents, the service group [VIP, echo
 * service], a client probing the VIP. The group's host is cut off while `no_quorum_policy:
 * ignore` keeps its copy running (the one mode that allows it, loudly), so the majority starts a
 * second copy: a real split brain. After the heal the minority rejoins, adopts the majority's
 * state, the copies that do not belong are stopped, and the incident is recorded and shown.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { cliEntry } from "../../src/demo/local-cluster.js";
import { type Lab, labTestOptions } from "../lab/index.js";
import {
  groupNode,
  nowMs,
  SERVICE_MEMBERS,
  stateOf,
  type TakeoverLab,
} from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);
const options = labTestOptions(["socat", "ss"]);

describe("partition heal with two copies running", options, () => {
  let lab: Lab;
  let t: TakeoverLab;

  useTakeoverLab(
    { hosts: 3, links: 2, clients: 1 },
    () => ({ extraConfig: { no_quorum_policy: "ignore" } }),
    (created) => {
      ({ lab, t } = created);
    },
  );

  test("the extra copies are stopped after the heal, and the incident is reported", async () => {
    const isolated = await t.waitForGroup();
    const old = t.name(isolated);
    const cutAt = nowMs();
    await lab.cutAll(isolated);
    // The majority starts its own copy once the isolated node's lease has surely ended (asked
    // of a majority node: the isolated one answers too, from its stale state).
    const observer = t.hosts.find((host) => host !== isolated)!;
    const majorityNode = await waitFor(
      "the majority to run the group too",
      async () => {
        const node = groupNode(await stateOf(t.cluster, observer));
        return node !== undefined && node !== old ? node : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const majority = t.hosts.find((host) => t.name(host) === majorityNode)!;
    await waitFor(`${old} and ${majorityNode} to hold the VIP (no_quorum_policy ignore)`, () =>
      t.watch.holders().includes(old) && t.watch.holders().includes(majorityNode)
        ? true
        : undefined,
    );

    await lab.healAll(isolated);
    const incidents = await waitFor(
      "the incident to be recorded",
      async () => {
        const found = (await stateOf(t.cluster, observer)).incidents.filter(
          (incident) => incident.atMs >= cutAt,
        );
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    for (const incident of incidents) {
      assert.equal(incident.kind, "multiply_active");
      assert.ok((SERVICE_MEMBERS as readonly string[]).includes(incident.resource));
      assert.deepEqual(incident.nodes, [old, t.name(majority)].sort());
    }
    // One copy left, on the majority's node: the minority adopted the majority's state.
    let cells = "";
    await waitFor("one copy of every member, on the majority's node", async () => {
      const state = await stateOf(t.cluster, observer);
      cells = JSON.stringify(SERVICE_MEMBERS.map((member) => state.resources[member]));
      return SERVICE_MEMBERS.every((member) => {
        const active = Object.entries(state.resources[member] ?? {})
          .filter(([, cell]) => cell.active !== undefined)
          .map(([node]) => node);
        return active.length === 1 && active[0] === t.name(majority);
      })
        ? true
        : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; last cells: ${cells}`);
    });
    await waitFor("the VIP on the majority's node only", () =>
      JSON.stringify(t.watch.holders()) === JSON.stringify([majorityNode]) ? true : undefined,
    );

    // Reported where operators look: vigil status on any node.
    const { entry, execArgv } = cliEntry();
    const { stdout } = await run(process.execPath, [
      ...execArgv,
      entry,
      "status",
      "--socket",
      t.cluster.socketPath(isolated),
    ]);
    assert.match(stdout, /^Recent events:$/m);
    assert.match(
      stdout,
      new RegExp(`INCIDENT: \\S+ ran on ${[old, t.name(majority)].sort().join(" and ")} at once`),
    );
  });
});
