/**
 * Random resource documents, sound and broken, through what `vigil config apply` checks and what
 * every agent runs on commit: the state machine, the committed model, the leader's step and each
 * node's decisions. Nothing may throw, and a broken resource may only take down what depends on
 * it. fast-check prints the seed and the shrunk document of any failure.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { usableResourceModel } from "../../src/resource-check/usable-model.js";
import type { ResourceModel } from "../../src/resource-model/types.js";
import { applyCommand } from "../../src/state/apply.js";
import { encodeCommand } from "../../src/state/commands.js";
import type { JsonObject, JsonValue } from "../../src/state/json.js";
import type { ClusterState } from "../../src/state/types.js";
import { committedModel } from "../../src/takeover/cluster-view.js";
import { decideForKey } from "../../src/takeover/node-step.js";
import { keysByPrimitive, primitiveOfKey } from "../../src/takeover/resource-keys.js";
import { configured, NODE_NAMES, NODES, report, stepOf } from "../takeover/fixtures.js";

/** Sound resources that nothing broken refers to: they must survive any broken neighbour. */
const SOUND: JsonObject = {
  ok1: { agent: "exec:/bin/true" },
  ok2: { agent: "vip", params: { address: "198.18.0.10/24" } },
};
const JUNK_IDS = ["j1", "j2", "j3", "jg", "jc", "bad id!", "constructor"] as const;

const junkId = fc.constantFrom(...JUNK_IDS);
const anyJson: fc.Arbitrary<JsonValue> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;
const milliseconds = fc.constantFrom<JsonValue>(
  0,
  -1,
  1,
  200,
  86_400_000,
  86_400_001,
  2 ** 40,
  1.5,
  "100",
  null,
);
const operation = fc.record(
  { interval_ms: milliseconds, timeout_ms: milliseconds, role: fc.constantFrom("promoted", "x") },
  { requiredKeys: [] },
);
const resource = fc.oneof(
  anyJson,
  fc.record(
    {
      agent: fc.oneof(
        fc.constantFrom("vip", "exec:/bin/true", "exec:relative", "ocf:heartbeat:Dummy", "lsb:x"),
        fc.constantFrom("systemd:x", "banana", "", "ocf:x"),
        anyJson,
      ),
      params: fc.oneof(
        fc.record(
          {
            address: fc.constantFrom(
              "10.0.0.1/24",
              "10.0.0.1",
              "banana/99",
              "2001:db8::1/64",
              "::1/200",
              "",
              "10.0.0.1/24/8",
            ),
            interface: fc.constantFrom("eth0", "has space", "x".repeat(20)),
            arp_count: fc.constantFrom("5", "-1", "1000", 3),
          },
          { requiredKeys: [] },
        ),
        anyJson,
      ),
      operations: fc.oneof(
        fc.record({ monitor: operation, start: operation, stop: operation }, { requiredKeys: [] }),
        anyJson,
      ),
      meta: fc.oneof(
        fc.record(
          {
            migration_threshold: milliseconds,
            failure_timeout_ms: milliseconds,
            on_fail: fc.constantFrom("restart", "move", "standby", "ignore", "explode"),
            target_role: fc.constantFrom("started", "stopped", "x"),
          },
          { requiredKeys: [] },
        ),
        anyJson,
      ),
    },
    { requiredKeys: ["agent"] },
  ),
);
const group = fc.oneof(
  fc.array(junkId, { maxLength: 3 }),
  fc.record({ members: fc.array(junkId, { maxLength: 3 }) }),
  anyJson,
);
const clone = fc.oneof(
  fc.record(
    {
      of: junkId,
      max: fc.constantFrom<JsonValue>(0, 1, 2, 300, "2"),
      promotable: fc.boolean(),
      promoted_max: fc.constantFrom<JsonValue>(0, 1, 3),
    },
    { requiredKeys: ["of"] },
  ),
  anyJson,
);
const score = fc.constantFrom<JsonValue>(100, -100, "INFINITY", "-INFINITY", "lots", 2e6);
const constraint = fc.oneof(
  fc.record({
    location: fc.record(
      { resource: junkId, node: fc.constantFrom(...NODE_NAMES, "node9"), score },
      { requiredKeys: ["resource"] },
    ),
  }),
  fc.record({ colocation: fc.record({ resource: junkId, with: junkId, score }) }),
  fc.record({
    order: fc.record(
      { first: junkId, then: junkId, kind: fc.constantFrom("mandatory", "sometimes") },
      { requiredKeys: ["first", "then"] },
    ),
  }),
  anyJson,
);

/** Broken entries beside the sound ones, in sections that are themselves well formed. */
const brokenEntries = fc
  .record({
    resources: fc.dictionary(junkId, resource, { maxKeys: 4 }),
    groups: fc.dictionary(junkId, group, { maxKeys: 2 }),
    clones: fc.dictionary(junkId, clone, { maxKeys: 2 }),
    constraints: fc.array(constraint, { maxLength: 4 }),
  })
  .map(
    ({ resources, ...rest }): JsonObject => ({ ...rest, resources: { ...resources, ...SOUND } }),
  );

/** Whole sections replaced by anything at all. */
const brokenSections = fc
  .record(
    { resources: anyJson, groups: anyJson, clones: anyJson, constraints: anyJson },
    { requiredKeys: [] },
  )
  .map((document): JsonObject => document as JsonObject);

/** What an agent does with a committed document: leader steps, node decisions and reports. */
function runPipeline(document: JsonObject): { state: ClusterState; model: ResourceModel } {
  checkResourceDocument(document, NODE_NAMES);
  let state = configured(document);
  let model = committedModel(state, NODES).model;
  for (let round = 0; round < 4; round++) {
    keysByPrimitive(model); // what each node probes
    const step = stepOf(state);
    for (const command of step.commands) {
      state = applyCommand(state, encodeCommand(command)).state;
    }
    // Every node carries out its instructions as if every operation succeeded.
    for (const [key, byNode] of Object.entries(state.resources)) {
      for (const [node, cell] of Object.entries(byNode)) {
        const keyed = primitiveOfKey(model, key);
        const decision = decideForKey({ cell, actual: cell.active, definitionChanged: false });
        if (decision.kind === "operate" && keyed !== undefined) {
          state = report(state, key, node, decision.wanted ?? null);
        }
      }
    }
    model = committedModel(state, NODES).model;
  }
  return { state, model };
}

describe("resource documents, sound and broken", () => {
  test("a broken resource takes down only what depends on it; the pipeline never throws", () => {
    fc.assert(
      fc.property(brokenEntries, (document) => {
        const { state, model } = runPipeline(document);
        for (const id of Object.keys(SOUND)) {
          assert.ok(model.primitives[id] !== undefined, `${id} unusable: ${model.unusable?.[id]}`);
          const runs = Object.values(state.resources[id] ?? {}).filter((c) => c.active);
          assert.equal(runs.length, 1, `${id} should run on one node`);
        }
        for (const [id, why] of Object.entries(model.unusable ?? {})) {
          assert.ok(why.length > 0, `${id} is unusable without a reason`);
          assert.ok(!Object.hasOwn(model.primitives, id), `${id} is both used and unusable`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("whatever the sections hold, the pipeline never throws", () => {
    fc.assert(
      fc.property(brokenSections, (document) => {
        runPipeline(document);
      }),
      { numRuns: 300 },
    );
  });

  test("a document the checks accept is used whole", () => {
    fc.assert(
      fc.property(brokenEntries, (document) => {
        const checked = checkResourceDocument(document, NODE_NAMES, { purpose: "use" });
        if (checked.model === null) return;
        const { model, problems } = usableResourceModel(document, NODE_NAMES);
        assert.deepEqual(problems, []);
        assert.deepEqual(model, { ...checked.model, unusable: {} });
      }),
      { numRuns: 200 },
    );
  });
});

test("the issue's document: a zero monitor timeout makes that resource unusable, with why", () => {
  const { model } = usableResourceModel(
    {
      resources: {
        a: {
          agent: "vip",
          params: { address: "10.0.0.1/24" },
          operations: { monitor: { interval_ms: 0, timeout_ms: 0 } },
        },
        ...SOUND,
      },
    },
    NODE_NAMES,
  );
  assert.deepEqual(Object.keys(model.primitives).sort(), ["ok1", "ok2"]);
  assert.match(
    model.unusable?.a ?? "",
    /^resources\.a\.operations\.monitor\.\w+_ms: expected a positive/,
  );
});
