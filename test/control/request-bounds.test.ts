import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeConfig } from "../../src/config/schema.js";
import { coordinationRoutes } from "../../src/control/coordination-routes.js";
import { type FenceReply, fenceRoutes } from "../../src/control/fence-routes.js";
import { checkNodeName } from "../../src/control/known-names.js";
import { RequestError, type Route } from "../../src/control/route.js";
import type { Proposal, SubmitResult } from "../../src/coordination/cluster-message.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { CONFIG_TEXT_MAX_CHARS, parseCommand } from "../../src/state/commands.js";
import { fakeCoordinationDeps } from "../support/coordination-route-deps.js";

// The state's bounds (src/state/names.ts, src/state/commands.ts): the routes must agree with them
// both ways, so each is tried at the bound and one past it.
const NODE_AT_BOUND = `n${"x".repeat(62)}`; // 63 characters
const NODE_PAST_BOUND = `n${"x".repeat(63)}`;
const RESOURCE_AT_BOUND = `r${"x".repeat(126)}`; // 127 characters
const RESOURCE_PAST_BOUND = `r${"x".repeat(127)}`;
const BY_AT_BOUND = "b".repeat(128);
const BY_PAST_BOUND = "b".repeat(129);

const nodes = [
  { id: 1, name: "alpha", witness: false },
  { id: 2, name: NODE_AT_BOUND, witness: false },
] as unknown as NodeConfig[];

/** The routes over fakes: every proposal is recorded and committed at version 7. */
function harness() {
  const proposals: Proposal[] = [];
  const fences: Array<{ node: string; by: string; confirm: boolean }> = [];
  const committed = async (proposal: Proposal): Promise<SubmitResult> => {
    proposals.push(proposal);
    return { ok: true, version: 7, index: 1 };
  };
  const reply = (): FenceReply => ({ ok: true, version: 7, detail: "done" });
  const routes: Record<string, Route> = {
    ...coordinationRoutes(
      fakeCoordinationDeps({
        nodes,
        submit: committed,
        resourceIds: () => ["web", RESOURCE_AT_BOUND],
      }),
    ),
    ...fenceRoutes({
      localNodeName: "alpha",
      checkNodeName: (name) => checkNodeName(nodes, name),
      isUp: () => false,
      fence: async (node, by) => {
        fences.push({ node, by, confirm: false });
        return reply();
      },
      confirmDown: async (node, by) => {
        fences.push({ node, by, confirm: true });
        return reply();
      },
      checkDevices: async () => ({ devices: [], checkedElsewhere: [] }),
    }),
  };
  return { routes, proposals, fences };
}

async function post(route: string, body: unknown) {
  const h = harness();
  const handler = h.routes[route];
  assert.ok(handler, `no route ${route}`);
  return { result: await handler(body, new URLSearchParams()), ...h };
}

/** The command the route proposed, as the state machine reads it: it must accept it too. */
async function acceptedCommand(route: string, body: unknown) {
  const { proposals } = await post(route, body);
  assert.equal(proposals.length, 1);
  const [proposal] = proposals;
  assert.equal(proposal?.kind, "command");
  const parsed = parseCommand(proposal?.kind === "command" ? proposal.payload : "");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  return parsed.command;
}

async function refused(route: string, body: unknown, field: string) {
  await assert.rejects(
    async () => post(route, body),
    (error: unknown) => {
      assert.ok(error instanceof RequestError, String(error));
      assert.equal(error.status, 400, error.message);
      assert.match(error.message, new RegExp(`(^|[ ;])${field}: `), error.message);
      return true;
    },
  );
}

/** The seven runtime switches, each with a valid body and the bounded fields it carries. */
const runtimeBodies: Array<{ body: Record<string, unknown>; fields: string[] }> = [
  { body: { type: "node_standby", node: "alpha", standby: true }, fields: ["node"] },
  { body: { type: "maintenance", on: true }, fields: [] },
  { body: { type: "resource_move", resource: "web", node: "alpha" }, fields: ["resource", "node"] },
  { body: { type: "resource_ban", resource: "web", node: "alpha" }, fields: ["resource", "node"] },
  { body: { type: "resource_clear", resource: "web" }, fields: ["resource"] },
  { body: { type: "resource_role", resource: "web", stopped: true }, fields: ["resource"] },
  {
    body: { type: "fail_count_reset", resource: "web", node: "alpha" },
    fields: ["resource", "node"],
  },
];

const atBound: Record<string, string> = { node: NODE_AT_BOUND, resource: RESOURCE_AT_BOUND };
const pastBound: Record<string, string> = { node: NODE_PAST_BOUND, resource: RESOURCE_PAST_BOUND };

describe("POST /v1/runtime takes exactly what the state takes", () => {
  for (const { body, fields } of runtimeBodies) {
    for (const field of [...fields, "by"]) {
      const at = field === "by" ? BY_AT_BOUND : atBound[field];
      const past = field === "by" ? BY_PAST_BOUND : pastBound[field];
      test(`${body.type}: ${field} at the state's bound is accepted`, async () => {
        const command = await acceptedCommand("POST /v1/runtime", {
          by: "alice@db1",
          ...body,
          [field]: at,
        });
        assert.equal(command.type, body.type);
        assert.equal((command as Record<string, unknown>)[field], at);
      });
      test(`${body.type}: ${field} one past the state's bound is refused, naming ${field}`, () =>
        refused("POST /v1/runtime", { by: "alice@db1", ...body, [field]: past }, field));
    }
  }

  test("a resource name the state refuses for its characters is refused by name", () =>
    refused(
      "POST /v1/runtime",
      { type: "resource_clear", resource: "web app", by: "alice@db1" },
      "resource",
    ));

  test("an empty by is refused, naming by", () =>
    refused("POST /v1/runtime", { type: "maintenance", on: true, by: "" }, "by"));

  test("an unknown switch names the types there are", async () => {
    await assert.rejects(
      async () => post("POST /v1/runtime", { type: "node_released", node: "alpha", by: "a" }),
      /type: expected "type" to be one of node_standby, maintenance, resource_move/,
    );
  });

  test("atMs is the agent's to set", async () => {
    await assert.rejects(
      async () => post("POST /v1/runtime", { type: "maintenance", on: true, by: "a", atMs: 5 }),
      /unknown field atMs/,
    );
    const command = await acceptedCommand("POST /v1/runtime", {
      type: "maintenance",
      on: true,
      by: "a",
    });
    assert.equal(command.atMs, 1_000);
  });
});

describe("POST /v1/config takes exactly what the state takes", () => {
  const body = { text: "", document: {}, expectedVersion: 0, by: "alice@db1" };

  test("text at the state's bound is accepted", async () => {
    const text = "x".repeat(CONFIG_TEXT_MAX_CHARS);
    const command = await acceptedCommand("POST /v1/config", { ...body, text });
    assert.equal(command.type, "config_apply");
  });
  test("text one past the state's bound is refused, naming text", () =>
    refused("POST /v1/config", { ...body, text: "x".repeat(CONFIG_TEXT_MAX_CHARS + 1) }, "text"));
  test("by at the state's bound is accepted", async () => {
    const command = await acceptedCommand("POST /v1/config", { ...body, by: BY_AT_BOUND });
    assert.equal(command.by, BY_AT_BOUND);
  });
  test("by one past the state's bound is refused, naming by", () =>
    refused("POST /v1/config", { ...body, by: BY_PAST_BOUND }, "by"));
  test("expectedVersion 0 is accepted and -1 refused, naming expectedVersion", async () => {
    await acceptedCommand("POST /v1/config", { ...body, expectedVersion: 0 });
    await refused("POST /v1/config", { ...body, expectedVersion: -1 }, "expectedVersion");
  });
  test("a document that is not a mapping is refused, naming document", () =>
    refused("POST /v1/config", { ...body, document: [] }, "document"));
});

test("POST /v1/config: a duration past what a timer holds is a 422 naming its key, nothing proposed", async () => {
  // What the agent checks an API client's document with (src/agent/agent-coordination.ts),
  // less the installed agents. No GET route takes a duration in its query.
  const proposals: Proposal[] = [];
  const routes = coordinationRoutes(
    fakeCoordinationDeps({
      nodes,
      submit: async (proposal) => {
        proposals.push(proposal);
        return { ok: true, version: 7, index: 1 };
      },
      checkDocument: async (document) => checkResourceDocument(document, ["alpha"]).problems,
    }),
  );
  const document = {
    resources: {
      web: {
        agent: "vip",
        params: { address: "198.18.0.100/24" },
        operations: { monitor: { interval_ms: 2 ** 31, timeout_ms: 5_000 } },
      },
    },
  };
  await assert.rejects(
    async () =>
      routes["POST /v1/config"]?.(
        { text: "", document, expectedVersion: 0, by: "alice@db1" },
        new URLSearchParams(),
      ),
    (error: unknown) => {
      assert.ok(error instanceof RequestError, String(error));
      assert.equal(error.status, 422);
      assert.match(
        error.message,
        /resources\.web\.operations\.monitor\.interval_ms: expected at most 86400000 ms/,
      );
      return true;
    },
  );
  assert.deepEqual(proposals, []);
});

describe("POST /v1/fence takes the node and by the state records", () => {
  const body = { node: NODE_AT_BOUND, confirm: false, by: "alice@db1" };

  test("node and by at the state's bounds are accepted", async () => {
    for (const confirm of [false, true]) {
      const { fences } = await post("POST /v1/fence", { ...body, confirm, by: BY_AT_BOUND });
      assert.deepEqual(fences, [{ node: NODE_AT_BOUND, by: BY_AT_BOUND, confirm }]);
    }
  });
  test("node one past the state's bound is refused, naming node", () =>
    refused("POST /v1/fence", { ...body, node: NODE_PAST_BOUND }, "node"));
  test("by one past the state's bound is refused, naming by", () =>
    refused("POST /v1/fence", { ...body, by: BY_PAST_BOUND }, "by"));
  test("fencing the node the request reached is still a 409", async () => {
    await assert.rejects(
      async () => post("POST /v1/fence", { ...body, node: "alpha" }),
      (error: unknown) => error instanceof RequestError && error.status === 409,
    );
  });
});

describe("POST /v1/membership takes the node names the configuration takes", () => {
  test("a node name at the bound is accepted", async () => {
    const { proposals } = await post("POST /v1/membership", {
      action: "remove",
      node: NODE_AT_BOUND,
    });
    assert.deepEqual(proposals, [{ kind: "membership", action: "remove", nodeId: 2 }]);
  });
  test("a node name one past the bound is refused, naming node", () =>
    refused("POST /v1/membership", { action: "add", node: NODE_PAST_BOUND }, "node"));
  test("an unknown action is refused, naming action", () =>
    refused("POST /v1/membership", { action: "promote", node: "alpha" }, "action"));
});
