import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type ClusterLook,
  MasterTracker,
  type SentinelService,
  serviceView,
  servingMaster,
  switchMasterText,
} from "../../src/sentinel/sentinel-view.js";
import { initialState } from "../../src/state/serialize.js";
import type { ActiveRole, ClusterState } from "../../src/state/types.js";

const SERVICE: SentinelService = {
  name: "mymaster",
  resource: "redis-ha",
  port: 6379,
  addresses: { alpha: "198.18.0.1", beta: "198.18.0.2", gamma: "198.18.0.3" },
};
const NODES = ["alpha", "beta", "gamma"] as const;

/** A state whose copies of redis-ha run with these roles (absent: not running there). */
function stateWith(roles: Partial<Record<string, ActiveRole>>): ClusterState {
  const state = initialState();
  for (const [node, role] of Object.entries(roles)) {
    const key = `redis-ha:${NODES.indexOf(node as (typeof NODES)[number])}`;
    state.resources[key] = { [node]: { active: role } };
  }
  state.resources.other = { alpha: { active: "promoted" } };
  return state;
}

function look(
  state: ClusterState,
  options: { down?: string[]; leaseHeld?: boolean } = {},
): ClusterLook {
  return {
    state,
    keysOf: (resource, s) =>
      Object.keys(s.resources).filter((key) => key.startsWith(`${resource}:`)),
    isUp: (node) => !(options.down ?? []).includes(node),
    leaseHeld: options.leaseHeld ?? true,
  };
}

describe("a service's master and replicas", () => {
  test("the promoted copy is the master, the unpromoted ones the replicas, at their node's address", () => {
    const view = serviceView(
      SERVICE,
      look(stateWith({ alpha: "unpromoted", beta: "promoted", gamma: "unpromoted" })),
    );
    assert.deepEqual(view, {
      name: "mymaster",
      master: { node: "beta", ip: "198.18.0.2", port: 6379, down: false },
      replicas: [
        { node: "alpha", ip: "198.18.0.1", port: 6379, down: false },
        { node: "gamma", ip: "198.18.0.3", port: 6379, down: false },
      ],
    });
    assert.deepEqual(servingMaster(view), view.master);
  });

  test("no master is served while none is promoted, two are, its node is not heard, or this node holds no lease", () => {
    const cases: Array<[string, ClusterLook]> = [
      ["none promoted", look(stateWith({ alpha: "unpromoted", beta: "unpromoted" }))],
      ["two promoted", look(stateWith({ alpha: "promoted", beta: "promoted" }))],
      ["its node dead", look(stateWith({ alpha: "promoted" }), { down: ["alpha"] })],
      ["no lease here", look(stateWith({ alpha: "promoted" }), { leaseHeld: false })],
    ];
    for (const [why, given] of cases)
      assert.equal(servingMaster(serviceView(SERVICE, given)), null, why);
  });

  test("a replica on a dead node is down", () => {
    const view = serviceView(
      SERVICE,
      look(stateWith({ alpha: "promoted", gamma: "unpromoted" }), { down: ["gamma"] }),
    );
    assert.deepEqual(
      view.replicas.map((replica) => replica.down),
      [true],
    );
  });
});

describe("+switch-master from the committed state", () => {
  const views = (roles: Partial<Record<string, ActiveRole>>) => [
    serviceView(SERVICE, look(stateWith(roles))),
  ];

  test("a master first seen is no switch; a move is one, across a time without a master", () => {
    const tracker = new MasterTracker();
    assert.deepEqual(tracker.observe(views({ alpha: "unpromoted" })), []);
    assert.deepEqual(tracker.observe(views({ alpha: "promoted", beta: "unpromoted" })), []);
    assert.deepEqual(tracker.observe(views({ alpha: "promoted", beta: "unpromoted" })), []);
    // The old master's node is lost and released: no master for a while, still no switch.
    assert.deepEqual(tracker.observe(views({ beta: "unpromoted" })), []);
    assert.equal(tracker.lastMaster("mymaster")?.node, "alpha");
    const [change] = tracker.observe(views({ beta: "promoted" }));
    assert.equal(switchMasterText(change!), "mymaster 198.18.0.1 6379 198.18.0.2 6379");
    assert.equal(tracker.epoch("mymaster"), 1);
  });

  test("every node that applies the same states announces the same switches, whatever it saw in between", () => {
    const roles = fc.constantFrom<ActiveRole | undefined>("promoted", "unpromoted", undefined);
    const state = fc.record({ alpha: roles, beta: roles, gamma: roles });
    fc.assert(
      fc.property(
        fc.array(state, { maxLength: 30 }),
        fc.array(fc.boolean(), { maxLength: 30 }),
        (states, skips) => {
          // Another node applies the same states but looks only after some of them: it misses
          // only states without a master change, since each master change is its own commit here.
          const all = new MasterTracker();
          const changes = states.flatMap((roles) => all.observe(views(roles)));
          const masters = states
            .map((roles) => serviceView(SERVICE, look(stateWith(roles))).master?.ip)
            .filter((ip) => ip !== undefined);
          const moves = masters.filter((ip, i) => i > 0 && ip !== masters[i - 1]).length;
          assert.equal(changes.length, moves);
          const some = new MasterTracker();
          const sparse = states.filter((roles, i) => {
            const master = serviceView(SERVICE, look(stateWith(roles))).master;
            return master !== null || skips[i] !== true;
          });
          assert.deepEqual(
            sparse.flatMap((roles) => some.observe(views(roles))),
            changes,
          );
        },
      ),
    );
  });
});
