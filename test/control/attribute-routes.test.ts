import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeConfig } from "../../src/config/schema.js";
import { attributeRoutes } from "../../src/control/attribute-routes.js";
import { RequestError } from "../../src/control/route.js";
import type { Command } from "../../src/state/commands.js";
import { initialState } from "../../src/state/index.js";
import type { ClusterState } from "../../src/state/types.js";
import { clone, model, primitive } from "../policy/fixtures.js";

const NODES = [
  { id: 1, name: "db1", witness: false },
  { id: 2, name: "db2", witness: false },
  { id: 3, name: "db3", witness: false },
  { id: 4, name: "w", witness: true },
] as unknown as NodeConfig[];

/** web: a plain primitive; pg-ha: a promotable clone of pg with two copies. */
const MODEL = model({
  primitives: [
    { ...primitive("web"), agent: { kind: "ocf", name: "heartbeat/Dummy" } },
    { ...primitive("pg"), agent: { kind: "ocf", name: "heartbeat/pgsql" } },
  ],
  clones: [clone("pg-ha", "pg", { promotable: true })],
});

function fixture() {
  const state: ClusterState = {
    ...initialState(),
    nodes: { db2: { attributes: { rack: "r2" }, standby: true } },
    resources: {
      web: { db3: { target: "started", active: "started" } },
      "pg-ha:0": { db1: { target: "promoted", active: "promoted" } },
      "pg-ha:1": { db2: { target: "unpromoted", active: "unpromoted", stopFailed: true } },
    },
    clusterProperties: { "pg-ha_REPL_INFO": "db1" },
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
    model: () => MODEL,
  });
  const get = (route: string, query: Record<string, string>) =>
    (routes[`GET ${route}`] as NonNullable<(typeof routes)[string]>)(
      undefined,
      new URLSearchParams(query),
    );
  const post = (body: unknown, route = "/v1/attributes") =>
    (routes[`POST ${route}`] as NonNullable<(typeof routes)[string]>)(body, new URLSearchParams());
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
      { id: 4, name: "w", member: true },
    ],
    quorate: true,
  });
});

test("cluster properties are read from the state and set or removed through it", async () => {
  const { get, post, submitted } = fixture();
  assert.deepEqual(await get("/v1/pacemaker/properties", { name: "pg-ha_REPL_INFO" }), {
    name: "pg-ha_REPL_INFO",
    value: "db1",
  });
  assert.deepEqual(await get("/v1/pacemaker/properties", { name: "unset" }), {
    name: "unset",
    value: null,
  });
  await post({ name: "pg-ha_REPL_INFO", value: "db2" }, "/v1/pacemaker/properties");
  await post({ name: "pg-ha_REPL_INFO", value: null }, "/v1/pacemaker/properties");
  // Removing one that is not set has nothing to commit.
  await post({ name: "unset", value: null }, "/v1/pacemaker/properties");
  assert.deepEqual(submitted, [
    {
      type: "cluster_property",
      name: "pg-ha_REPL_INFO",
      value: "db2",
      by: "agent@db1",
      atMs: 1000,
    },
    { type: "cluster_property", name: "pg-ha_REPL_INFO", value: null, by: "agent@db1", atMs: 1000 },
  ]);
  await assert.rejects(
    async () => post({ name: "bad name", value: "x" }, "/v1/pacemaker/properties"),
    (error) => error instanceof RequestError && error.status === 400 && /name/.test(error.message),
  );
});

test("crm_resource --ban from an agent: the operator's ban, of the clone for what it wraps or one of its copies", async () => {
  const { post, submitted } = fixture();
  await post({ resource: "pg", node: "db2" }, "/v1/pacemaker/ban");
  await post({ resource: "pg-ha:1", node: "db3" }, "/v1/pacemaker/ban");
  await post({ resource: "web", node: "db1" }, "/v1/pacemaker/ban");
  assert.deepEqual(
    submitted.map((command) => command.type === "resource_ban" && [command.resource, command.node]),
    [
      ["pg-ha", "db2"],
      ["pg-ha", "db3"],
      ["web", "db1"],
    ],
  );
  await assert.rejects(
    async () => post({ resource: "nope", node: "db1" }, "/v1/pacemaker/ban"),
    (error) => error instanceof RequestError && error.status === 404 && /nope/.test(error.message),
  );
  await assert.rejects(
    async () => post({ resource: "web", node: "db9" }, "/v1/pacemaker/ban"),
    (error) => error instanceof RequestError && /db9/.test(error.message),
  );
});

test("the cluster as crm_mon shows it: nodes but witnesses, each copy under its own key", async () => {
  const { get } = fixture();
  const view = await get("/v1/pacemaker/cluster", {});
  assert.deepEqual(view, {
    localNode: "db1",
    stateVersion: 0,
    quorate: true,
    nodes: [
      { id: 1, name: "db1", online: true, standby: false, unclean: false },
      { id: 2, name: "db2", online: true, standby: true, unclean: false },
      // Offline with web still recorded there: nobody knows it stopped.
      { id: 3, name: "db3", online: false, standby: false, unclean: true },
    ],
    resources: [
      {
        kind: "primitive",
        copy: {
          id: "web",
          primitive: "web",
          agent: "ocf:heartbeat:Dummy",
          running: [{ node: "db3", role: "started" }],
          failed: false,
        },
      },
      {
        kind: "clone",
        id: "pg-ha",
        promotable: true,
        copies: [
          {
            id: "pg-ha:0",
            primitive: "pg",
            agent: "ocf:heartbeat:pgsql",
            running: [{ node: "db1", role: "promoted" }],
            failed: false,
          },
          {
            id: "pg-ha:1",
            primitive: "pg",
            agent: "ocf:heartbeat:pgsql",
            running: [{ node: "db2", role: "unpromoted" }],
            failed: true,
          },
        ],
      },
    ],
    properties: { "pg-ha_REPL_INFO": "db1" },
    nodeAttributes: {
      db1: { forever: {}, reboot: {} },
      db2: { forever: { rack: "r2" }, reboot: { "promotion-score-pg": "10" } },
      db3: { forever: {}, reboot: {} },
    },
  });
});
