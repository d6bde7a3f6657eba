import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { coordinationRoutes } from "../../src/control/coordination-routes.js";
import { RequestError } from "../../src/control/route.js";
import {
  SimulateRequestError,
  simulatedChangeOf,
  simulationReply,
} from "../../src/policy/index.js";
import type { PolicyInput } from "../../src/policy/types.js";
import { fakeCoordinationDeps } from "../support/coordination-route-deps.js";
import { input, model, primitive } from "./fixtures.js";

const asOption = (parameter: string) => `--${parameter}`;

function webOnNode1(): PolicyInput {
  return input({
    model: model({ primitives: [primitive("web")] }),
    current: { web: [{ node: "node1", role: "started" }] },
  });
}

/** Throws a SimulateRequestError naming `parameter`, with a message matching `message`. */
function refused(run: () => unknown, parameter: string | null, message: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof SimulateRequestError);
    assert.equal(error.parameter, parameter);
    assert.match(error.message, message);
    return true;
  });
}

describe("what-if requests (vigil simulate, GET /v1/simulate)", () => {
  test("each parameter becomes its part of the change", () => {
    assert.deepEqual(
      simulatedChangeOf(
        { fail: "node1", standby: "node2", "resource-fail": "web@node3" },
        asOption,
      ),
      {
        failNode: "node1",
        standbyNode: "node2",
        failResource: { resource: "web", node: "node3" },
      },
    );
  });

  test("a missing, empty or malformed parameter is named as the caller spells it", () => {
    refused(() => simulatedChangeOf({}, asOption), null, /say what to simulate: --fail NODE/);
    refused(() => simulatedChangeOf({ fail: "" }, asOption), "fail", /^--fail takes NODE$/);
    for (const bad of ["web", "web@", "@node1", "a@b@c"]) {
      refused(
        () => simulatedChangeOf({ "resource-fail": bad }, (p) => `query parameter ${p}`),
        "resource-fail",
        /^query parameter resource-fail takes RESOURCE@NODE, got/,
      );
    }
  });

  test("the reply: the change, the placement now, and the plan after it", () => {
    const reply = simulationReply(webOnNode1(), { failNode: "node1" }, asOption);
    assert.deepEqual(reply.change, { failNode: "node1" });
    assert.deepEqual(reply.current, { web: [{ node: "node1", role: "started" }] });
    assert.equal(reply.placement.web?.length, 1);
    assert.notEqual(reply.placement.web?.[0]?.node, "node1");
    assert.deepEqual(
      reply.actions.map((action) => action.id),
      [`start web@${reply.placement.web?.[0]?.node}`],
    );
  });

  test("an unknown node, or a resource not running where it is said to fail, is refused", () => {
    refused(
      () => simulationReply(webOnNode1(), { standbyNode: "zulu" }, asOption),
      "standby",
      /^--standby: no node named zulu \(nodes: node1, node2, node3\)$/,
    );
    refused(
      () =>
        simulationReply(
          webOnNode1(),
          { failResource: { resource: "web", node: "node2" } },
          asOption,
        ),
      "resource-fail",
      /"web" is not running on "node2"/,
    );
  });

  test("the route answers with the same function, and a bad query is a 400 naming the parameter", async () => {
    const policyInput = webOnNode1();
    const routes = coordinationRoutes(fakeCoordinationDeps({ policyInput: () => policyInput }));
    const simulateRoute = routes["GET /v1/simulate"];
    assert.ok(simulateRoute);
    const ask = (query: string) => simulateRoute(undefined, new URLSearchParams(query));
    assert.deepEqual(
      await ask("standby=node1"),
      simulationReply(policyInput, { standbyNode: "node1" }, asOption),
    );
    const cases: Array<[string, RegExp]> = [
      ["", /say what to simulate: query parameter fail NODE/],
      ["fail=zulu", /query parameter fail: no node named zulu/],
      ["fail=node1&fail=node2", /query parameter fail is given twice/],
      ["node=node1", /unknown query parameter node \(known: fail, standby, resource-fail\)/],
      ["resource-fail=web", /query parameter resource-fail takes RESOURCE@NODE/],
    ];
    for (const [query, message] of cases) {
      await assert.rejects(
        async () => ask(query),
        (error: unknown) => {
          assert.ok(error instanceof RequestError, String(error));
          assert.equal(error.status, 400);
          assert.match(error.message, message);
          return true;
        },
        query,
      );
    }
  });
});
