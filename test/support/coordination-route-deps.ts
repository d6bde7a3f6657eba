import type { CoordinationRouteDeps } from "../../src/control/coordination-routes.js";
import { initialState } from "../../src/state/index.js";

/**
 * What the coordination routes read, faked for a route test: no nodes, an empty state, every
 * proposal committed at version 1, nothing running; `overrides` set what the test is about.
 */
export function fakeCoordinationDeps(
  overrides: Partial<CoordinationRouteDeps> = {},
): CoordinationRouteDeps {
  return {
    nodes: [],
    nowMs: () => 1_000,
    state: () => initialState(),
    submit: async () => ({ ok: true, version: 1, index: 1 }),
    policyInput: () => {
      throw new Error("the policy input is not used by this test");
    },
    resourceIds: () => [],
    checkDocument: async () => [],
    leaderStep: () => null,
    localResources: {
      running: () => [],
      quorum: () => ({ leaseHeld: true, noQuorumPolicy: "stop" }),
    },
    connectivity: () => null,
    fenceDevices: () => ({ devices: [], checkedElsewhere: [] }),
    fenceDeviceEvents: () => [],
    ...overrides,
  };
}
