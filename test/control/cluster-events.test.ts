import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clusterEvents, eventsAfter, SeenEventLog } from "../../src/control/cluster-events.js";
import { eventRoutes } from "../../src/control/event-routes.js";
import { RequestError } from "../../src/control/route.js";
import type { MembershipEvent } from "../../src/membership/types.js";
import { initialState } from "../../src/state/index.js";
import type { ClusterState } from "../../src/state/types.js";

const alpha = { name: "alpha", incarnation: 7 };

/** A state at version 12: beta fenced at 11 (a history entry and a fence record), an incident at 12. */
function stateAt12(): ClusterState {
  return {
    ...initialState(),
    version: 12,
    history: [
      { version: 10, summary: "node beta standby", by: "cli:root", atMs: 1000, scope: "runtime" },
      {
        version: 11,
        summary: "node beta fenced (reboot by ipmi)",
        by: "alpha",
        atMs: 2000,
        scope: "runtime",
      },
      { version: 12, summary: "web on gamma started", by: "gamma", atMs: 3000, scope: "runtime" },
    ],
    fenceHistory: [
      // Older than the kept history: ordered before all of it.
      {
        node: "gamma",
        ok: false,
        action: "off",
        devices: ["pdu"],
        detail: "timeout",
        by: "alpha",
        atMs: 500,
      },
      {
        node: "beta",
        ok: true,
        action: "reboot",
        devices: ["ipmi"],
        detail: "",
        by: "alpha",
        atMs: 2000,
      },
    ],
    incidents: [
      {
        kind: "multiply_active",
        resource: "web",
        nodes: ["beta", "gamma"],
        by: "gamma",
        atMs: 3000,
      },
    ],
  } as ClusterState;
}

const dead = (atMs: number): MembershipEvent =>
  ({
    type: "node_dead",
    atMs,
    nodeId: 2,
    name: "beta",
    incarnation: 3,
    reason: "timeout",
    silentMs: 3000,
  }) as MembershipEvent;

describe("the cluster's events (GET /v1/events)", () => {
  test("changes, fences and incidents by state version, each node's own after the version it had", () => {
    const seen = new SeenEventLog(10);
    seen.record(dead(1500), 10);
    seen.record({ type: "link_up", atMs: 3500, nodeId: 2, name: "beta", link: "ring0" }, 12);
    const events = clusterEvents(stateAt12(), alpha, seen.recent());
    assert.deepEqual(
      events.map((event) => [event.id, event.stateVersion, event.source, event.kind]),
      [
        ["fence/gamma/500/alpha", 0, "alpha", "fence_failed"],
        ["v10", 10, "cli:root", "change"],
        ["alpha/7/1", 10, "alpha", "node_dead"],
        ["v11", 11, "alpha", "change"],
        ["fence/beta/2000/alpha", 11, "alpha", "fence"],
        ["v12", 12, "gamma", "change"],
        ["incident/web/3000/gamma", 12, "gamma", "incident"],
        ["alpha/7/2", 12, "alpha", "link_up"],
      ],
    );
    assert.match(events[2]?.text ?? "", /^beta DEAD \(timeout, silent 3000 ms\)$/);
    assert.match(events[0]?.text ?? "", /node gamma fencing FAILED \(pdu\): timeout/);
    assert.match(events[6]?.text ?? "", /web ran on beta, gamma at once/);
  });

  test("ids stay the same from call to call, so a follower asks for what comes after one", () => {
    const seen = new SeenEventLog(10);
    seen.record(dead(1500), 10);
    const first = clusterEvents(stateAt12(), alpha, seen.recent());
    seen.record(dead(4000), 12);
    const second = clusterEvents(stateAt12(), alpha, seen.recent());
    assert.deepEqual(
      second.slice(0, first.length).map((event) => event.id),
      first.map((event) => event.id),
    );
    assert.deepEqual(
      eventsAfter(second, first.at(-1)?.id).events.map((event) => event.id),
      ["alpha/7/2"],
    );
    assert.equal(eventsAfter(second, first.at(-1)?.id).gap, false);
    // An id no longer kept: everything kept, said to follow a gap.
    const lost = eventsAfter(second, "alpha/6/99");
    assert.equal(lost.gap, true);
    assert.equal(lost.events.length, second.length);
  });

  test("the log keeps the newest events, numbered on", () => {
    const seen = new SeenEventLog(2);
    for (const atMs of [1, 2, 3]) seen.record(dead(atMs), 0);
    assert.deepEqual(
      seen.recent().map((entry) => entry.seq),
      [2, 3],
    );
  });

  test("before coordination: only this node's own events", () => {
    const seen = new SeenEventLog(10);
    seen.record(dead(1), 0);
    assert.deepEqual(
      clusterEvents(null, alpha, seen.recent()).map((event) => event.id),
      ["alpha/7/1"],
    );
  });

  test("the route: after=ID, and a 400 naming a bad or unknown parameter", async () => {
    const route = eventRoutes({
      node: alpha,
      state: stateAt12,
      seen: () => [],
    })["GET /v1/events"];
    assert.ok(route);
    const ask = async (query: string) => route(undefined, new URLSearchParams(query));
    const reply = (await ask("after=v11")) as { answeredBy: string; events: Array<{ id: string }> };
    assert.equal(reply.answeredBy, "alpha");
    assert.deepEqual(
      reply.events.map((event) => event.id),
      ["fence/beta/2000/alpha", "v12", "incident/web/3000/gamma"],
    );
    for (const [query, message] of [
      ["after=", /query parameter after takes an event id/],
      [`after=${"x".repeat(513)}`, /query parameter after takes an event id/],
      ["since=v1", /unknown query parameter since \(known: after\)/],
    ] as const) {
      await assert.rejects(ask(query), (error: unknown) => {
        assert.ok(error instanceof RequestError);
        assert.equal(error.status, 400);
        assert.match(error.message, message);
        return true;
      });
    }
  });
});
