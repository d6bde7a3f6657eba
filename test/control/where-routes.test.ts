import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EventStreamReply } from "../../src/control/event-stream.js";
import { findRoute, RequestError, type Route } from "../../src/control/route.js";
import { whereRoutes } from "../../src/control/where-routes.js";
import { initialState } from "../../src/state/index.js";
import type { ClusterState } from "../../src/state/types.js";

describe("routes with path segments", () => {
  const routes: Record<string, Route> = {
    "GET /v1/health/:resource/:check": (_body, query) => Object.fromEntries(query),
    "GET /v1/health/all/running": () => "exact",
  };
  const call = (path: string, query = "") => {
    const found = findRoute(routes, "GET", path, new URLSearchParams(query));
    return found === undefined ? undefined : found.route(undefined, found.query);
  };

  test("segments become parameters, percent-decoded; an exact route wins", () => {
    assert.deepEqual(call("/v1/health/web%2Dip/primary"), { resource: "web-ip", check: "primary" });
    assert.equal(call("/v1/health/all/running"), "exact");
    assert.equal(call("/v1/health/web"), undefined);
    assert.equal(call("/v1/health//primary"), undefined);
    assert.equal(
      findRoute(routes, "POST", "/v1/health/web/primary", new URLSearchParams()),
      undefined,
    );
  });

  test("a parameter given both in the path and the query, or bad escapes, are refused", () => {
    assert.throws(
      () => call("/v1/health/web/primary", "resource=db"),
      (error: unknown) =>
        error instanceof RequestError &&
        error.status === 400 &&
        /part of the path/.test(error.message),
    );
    assert.throws(
      () => call("/v1/health/%E0%A4%A/primary"),
      (error: unknown) => error instanceof RequestError && error.status === 400,
    );
  });
});

describe("where a resource runs, and health endpoints", () => {
  let state: ClusterState = {
    ...initialState(),
    resources: {
      "db:0": { alpha: { target: "promoted", active: "promoted" } },
      "db:1": { beta: { target: "unpromoted", active: "unpromoted" } },
    },
  };
  let running = [{ resource: "db:1", role: "unpromoted" }];
  const stateListeners: Array<() => void> = [];
  const changeState = (next: ClusterState) => {
    state = next;
    for (const listener of stateListeners) listener();
  };
  let mayRun = true;
  const routes = whereRoutes({
    nodeName: "beta",
    state: () => state,
    resourceIds: () => ["db"],
    keysOf: (resource, current) =>
      Object.keys(current.resources).filter((k) => k.startsWith(`${resource}:`)),
    running: () => running,
    mayRun: () => mayRun,
    onStateChange: (callback) => stateListeners.push(callback),
  });
  const health = (check: string, resource = "db") =>
    (routes["GET /v1/health/:resource/:check"] as Route)(
      undefined,
      new URLSearchParams({ resource, check }),
    );
  const status = (run: () => unknown) => {
    try {
      run();
      return 200;
    } catch (error) {
      return (error as RequestError).status;
    }
  };

  test("where lists every copy with its node and role", () => {
    const reply = (routes["GET /v1/where"] as Route)(
      undefined,
      new URLSearchParams({ resource: "db" }),
    );
    assert.deepEqual(reply, {
      resource: "db",
      answeredBy: "beta",
      stateVersion: 0,
      copies: [
        { key: "db:0", node: "alpha", role: "promoted" },
        { key: "db:1", node: "beta", role: "unpromoted" },
      ],
    });
    assert.equal(
      status(() =>
        (routes["GET /v1/where"] as Route)(undefined, new URLSearchParams({ resource: "nope" })),
      ),
      404,
    );
  });

  test("200 only for the role this node runs now, under its lease; 503 says where it is", () => {
    assert.equal(
      status(() => health("replica")),
      200,
    );
    assert.equal(
      status(() => health("running")),
      200,
    );
    assert.throws(() => health("primary"), /no primary copy on beta \(on alpha\)/);
    assert.equal(
      status(() => health("leader")),
      404,
    );
    assert.equal(
      status(() => health("running", "nope")),
      404,
    );
    mayRun = false;
    assert.throws(() => health("replica"), /holds no lease/);
    mayRun = true;
    // The node's own view decides: a copy it stopped is not served, whatever the last report said.
    running = [];
    assert.equal(
      status(() => health("replica")),
      503,
    );
  });

  test("follow=1: the answer at once, then again only when the copies change, until ended", () => {
    const where = routes["GET /v1/where"] as Route;
    const follow = (resource: string) => {
      const reply = where(undefined, new URLSearchParams({ resource, follow: "1" }));
      assert.ok(reply instanceof EventStreamReply);
      const sent: Array<{ event: string; data: { stateVersion: number; copies: unknown[] } }> = [];
      const end = reply.start((event, data) => sent.push({ event, data: data as never }));
      return { sent, end };
    };
    const db = follow("db");
    assert.deepEqual(
      db.sent.map((s) => [s.event, s.data.copies.length]),
      [["where", 2]],
    );
    const before = state;
    changeState({ ...state, version: state.version + 1 });
    assert.equal(db.sent.length, 1, "a state change that moves nothing sends nothing");
    changeState({
      ...state,
      version: state.version + 1,
      resources: {
        ...state.resources,
        "db:0": { gamma: { target: "promoted", active: "promoted" } },
      },
    });
    assert.equal(db.sent.length, 2);
    assert.deepEqual(db.sent[1]?.data.copies[0], { key: "db:0", node: "gamma", role: "promoted" });
    const second = follow("db");
    db.end();
    changeState(before);
    assert.equal(db.sent.length, 2, "an ended stream is sent nothing more");
    assert.equal(second.sent.length, 2, "every open stream is told");
    second.end();
    assert.equal(
      status(() => where(undefined, new URLSearchParams({ resource: "db", follow: "yes" }))),
      400,
    );
    assert.equal(
      status(() => where(undefined, new URLSearchParams({ resource: "nope", follow: "1" }))),
      404,
    );
  });
});
