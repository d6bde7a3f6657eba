import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeConfig } from "../../src/config/schema.js";
import { attributeRoutes } from "../../src/control/attribute-routes.js";
import { RequestError } from "../../src/control/route.js";
import type { Command } from "../../src/state/commands.js";
import { initialState } from "../../src/state/index.js";
import type { ClusterState } from "../../src/state/types.js";

const NODES = [
  { id: 1, name: "db1" },
  { id: 2, name: "db2" },
  { id: 3, name: "db3" },
] as unknown as NodeConfig[];

function fixture() {
  const state: ClusterState = {
    ...initialState(),
    nodes: { db2: { attributes: { rack: "r2" }, standby: false } },
    agents: {
      db1: { incarnation: 11, probedConfigVersion: 1, shuttingDown: false },
      db2: {
        incarnation: 22,
        probedConfigVersion: 1,
        shuttingDown: false,
        attributes: { "promotion-score-pg": "10" },
      },
    },
  };
  const submitted: Command[] = [];
  const own: Array<[string, string | null]> = [];
  const routes = attributeRoutes({
    localNode: "db1",
    nodes: NODES,
    nowMs: () => 1000.4,
    state: () => state,
    submit: async (command) => {
      submitted.push(command);
      return { ok: true, index: 1, version: 1 };
    },
    setOwnAttribute: async (key, value) => {
      own.push([key, value]);
    },
    isUp: (name) => name !== "db3",
    quorate: () => true,
  });
  const get = (route: string, query: Record<string, string>) =>
    (routes[`GET ${route}`] as NonNullable<(typeof routes)[string]>)(
      undefined,
      new URLSearchParams(query),
    );
  const post = (body: unknown) =>
    (routes["POST /v1/attributes"] as NonNullable<(typeof routes)[string]>)(
      body,
      new URLSearchParams(),
    );
  return { submitted, own, get, post };
}

test("an attribute is read from the run's transient ones (reboot) or the configured ones (forever)", async () => {
  const { get } = fixture();
  assert.deepEqual(
    await get("/v1/attributes", { node: "db2", key: "promotion-score-pg", lifetime: "reboot" }),
    {
      node: "db2",
      key: "promotion-score-pg",
      lifetime: "reboot",
      value: "10",
    },
  );
  assert.equal(
    (
      (await get("/v1/attributes", { node: "db2", key: "rack", lifetime: "forever" })) as {
        value: unknown;
      }
    ).value,
    "r2",
  );
  assert.equal(
    (
      (await get("/v1/attributes", { node: "db2", key: "rack", lifetime: "reboot" })) as {
        value: unknown;
      }
    ).value,
    null,
  );
  assert.equal(
    (
      (await get("/v1/attributes", { node: "db3", key: "rack", lifetime: "forever" })) as {
        value: unknown;
      }
    ).value,
    null,
  );
});

test("forever writes the configured attributes; reboot this run's own, or another node's run", async () => {
  const { post, submitted, own } = fixture();
  await post({ node: "db3", key: "site", value: "east", lifetime: "forever" });
  await post({ node: "db2", key: "rack", value: null, lifetime: "forever" });
  await post({ node: "db3", key: "rack", value: null, lifetime: "forever" });
  await post({ node: "db1", key: "promotion-score-pg", value: "5", lifetime: "reboot" });
  await post({ node: "db2", key: "gtid", value: "7", lifetime: "reboot" });
  await post({ node: "db2", key: "gtid", value: null, lifetime: "reboot" });
  assert.deepEqual(submitted, [
    {
      type: "node_attribute_set",
      node: "db3",
      key: "site",
      value: "east",
      by: "agent@db1",
      atMs: 1000,
    },
    { type: "node_attribute_unset", node: "db2", key: "rack", by: "agent@db1", atMs: 1000 },
    {
      type: "node_transient_attribute",
      node: "db2",
      incarnation: 22,
      key: "gtid",
      value: "7",
      by: "agent@db1",
      atMs: 1000,
    },
  ]);
  assert.deepEqual(own, [["promotion-score-pg", "5"]]);
});

test("bad requests are refused, naming the problem", async () => {
  const { post, get } = fixture();
  const refused = async (call: () => unknown, status: number, pattern: RegExp) =>
    assert.rejects(
      async () => call(),
      (error: unknown) =>
        error instanceof RequestError && error.status === status && pattern.test(error.message),
    );
  await refused(
    () => post({ node: "db3", key: "x", value: "1", lifetime: "reboot" }),
    409,
    /no agent run/,
  );
  await refused(
    () => post({ node: "db1", key: "redis:0-gtid", value: "1", lifetime: "reboot" }),
    400,
    /key/,
  );
  await refused(() => post({ node: "db9", key: "x", value: "1", lifetime: "forever" }), 404, /db9/);
  await refused(
    () => get("/v1/attributes", { node: "db1", key: "x", lifetime: "always" }),
    400,
    /lifetime/,
  );
  await refused(() => get("/v1/attributes", { node: "db1" }), 400, /required/);
});

test("crm_node's view: every node, whether it is a member, and quorum", async () => {
  const { get } = fixture();
  assert.deepEqual(await get("/v1/pacemaker/nodes", {}), {
    nodes: [
      { id: 1, name: "db1", member: true },
      { id: 2, name: "db2", member: true },
      { id: 3, name: "db3", member: false },
    ],
    quorate: true,
  });
});
