import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { computePlacement } from "../../src/policy/index.js";
import type { NodeView, Placed, PolicyInput, RunRole } from "../../src/policy/types.js";
import { type Constraint, INFINITY_SCORE } from "../../src/resource-model/types.js";
import {
  assertActionGraphValid,
  clone,
  group,
  model,
  order,
  primitive,
  waitsFor,
} from "./fixtures.js";

const INF = INFINITY_SCORE;
const NODE_NAMES = ["n1", "n2", "n3", "n4"];
const SUBJECTS = ["p1", "p2", "p3", "grp", "rep"];
const KEYS = ["p1", "p2", "p3", "g1", "g2", "rep:0", "rep:1", "rep:2"];

const scoreArb = fc.constantFrom(-INF, -100, -10, 0, 10, 50, 100, INF);

const constraintArb: fc.Arbitrary<Constraint> = fc
  .oneof(
    fc.record({
      kind: fc.constant("location" as const),
      resource: fc.constantFrom(...SUBJECTS, "g1", "c1"),
      node: fc.constantFrom(...NODE_NAMES),
      score: scoreArb,
    }),
    fc.record({
      kind: fc.constant("colocation" as const),
      resource: fc.constantFrom(...SUBJECTS),
      with: fc.constantFrom(...SUBJECTS),
      score: scoreArb,
    }),
    fc
      .record({
        first: fc.constantFrom(...SUBJECTS),
        second: fc.constantFrom(...SUBJECTS),
        strength: fc.constantFrom("mandatory" as const, "optional" as const),
      })
      .map(({ first, second, strength }) => order("", first, second, { strength })),
  )
  .map((c) => ({ ...c, id: "" }) as Constraint);

const placedArb: fc.Arbitrary<Placed[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Placed[]>([]) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...NODE_NAMES),
        fc.constantFrom<RunRole>("started", "promoted", "unpromoted"),
      )
      .map(([node, role]) => [{ node, role }]),
  },
);

const inputArb: fc.Arbitrary<PolicyInput> = fc
  .record({
    nodeCount: fc.integer({ min: 1, max: 4 }),
    nodeStates: fc.array(fc.constantFrom("online", "online", "offline", "standby"), {
      minLength: 4,
      maxLength: 4,
    }),
    promotionScores: fc.array(fc.integer({ min: -2, max: 9 }), { minLength: 4, maxLength: 4 }),
    constraints: fc.array(constraintArb, { maxLength: 8 }),
    current: fc.array(placedArb, { minLength: KEYS.length, maxLength: KEYS.length }),
    autoFailback: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    promotable: fc.boolean(),
    cloneMax: fc.integer({ min: 1, max: 3 }),
    failures: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
  })
  .map((r) => {
    const nodes: NodeView[] = NODE_NAMES.slice(0, r.nodeCount).map((name, i) => ({
      name,
      online: r.nodeStates[i] !== "offline",
      standby: r.nodeStates[i] === "standby",
      attributes: { "promotion-score-rep": String(r.promotionScores[i]) },
    }));
    const constraints = r.constraints.map((c, i) => ({ ...c, id: `c${i}` }));
    const current: Record<string, Placed[]> = {};
    for (const [i, key] of KEYS.entries()) {
      const placed = r.current[i] ?? [];
      if (placed.length > 0) {
        current[key] = placed.map((p) => ({
          node: p.node,
          role: key.startsWith("rep:") && r.promotable ? p.role : "started",
        }));
      }
    }
    const afb = (i: number) => ({ autoFailback: r.autoFailback[i] ?? false, stickiness: 10 });
    return {
      model: model({
        primitives: [
          primitive("p1", { ...afb(0), migrationThreshold: 2 }),
          primitive("p2", afb(1)),
          primitive("p3", afb(2)),
          primitive("g1"),
          primitive("g2", { migrationThreshold: 1 }),
          primitive("c1"),
        ],
        groups: [group("grp", ["g1", "g2"], afb(3))],
        clones: [clone("rep", "c1", { max: r.cloneMax, promotable: r.promotable, promotedMax: 1 })],
        constraints,
      }),
      nodes,
      current,
      failCounts: {
        p1: { n1: { count: r.failures[0] ?? 0, lastFailureAtMs: 500 } },
        g2: { n2: { count: r.failures[1] ?? 0, lastFailureAtMs: 900 } },
      },
      nowMs: 1000,
      maintenance: false,
    } satisfies PolicyInput;
  });

function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0 || 1;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function reorder<T>(record: Record<string, T>, seed: number): Record<string, T> {
  return Object.fromEntries(shuffled(Object.entries(record), seed));
}

describe("policy properties", () => {
  test("deterministic: shuffled constraints and record order give the same output", () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 1, max: 1_000_000 }), (pi, seed) => {
        const first = computePlacement(pi);
        const again = computePlacement(pi);
        assert.deepEqual(again, first);
        const permuted: PolicyInput = {
          ...pi,
          model: {
            primitives: reorder(pi.model.primitives, seed),
            groups: reorder(pi.model.groups, seed + 1),
            clones: reorder(pi.model.clones, seed + 2),
            constraints: shuffled(pi.model.constraints, seed + 3),
          },
          current: reorder(pi.current, seed + 4),
        };
        assert.deepEqual(computePlacement(permuted), first);
      }),
      { numRuns: 300 },
    );
  });

  test("safe action graph: acyclic, nothing on offline nodes, a move stops before it starts", () => {
    fc.assert(
      fc.property(inputArb, (pi) => {
        const out = computePlacement(pi);
        assertActionGraphValid(out);
        const online = new Set(pi.nodes.filter((n) => n.online).map((n) => n.name));
        for (const action of out.actions) {
          assert.ok(online.has(action.node), `${action.id} is on an offline node`);
        }
        for (const start of out.actions.filter((a) => a.op === "start")) {
          for (const stop of out.actions) {
            if (stop.op !== "stop" || stop.resource !== start.resource) continue;
            assert.ok(waitsFor(out, start.id, stop.id), `${start.id} must wait for ${stop.id}`);
          }
        }
        for (const promote of out.actions.filter((a) => a.op === "promote")) {
          for (const demote of out.actions.filter((a) => a.op === "demote")) {
            assert.ok(waitsFor(out, promote.id, demote.id), `${promote.id} before ${demote.id}`);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  test("placement invariants: one node per key, clone instances apart, promotedMax respected", () => {
    fc.assert(
      fc.property(inputArb, (pi) => {
        const out = computePlacement(pi);
        const blocked = new Set((out.blocked ?? []).map((b) => b.resource));
        const usable = new Set(pi.nodes.filter((n) => n.online && !n.standby).map((n) => n.name));
        for (const [key, placed] of Object.entries(out.placement)) {
          if (blocked.has(key) || blocked.has("grp")) continue;
          assert.ok(placed.length <= 1, `${key} placed twice`);
          for (const p of placed) assert.ok(usable.has(p.node), `${key} on unusable ${p.node}`);
        }
        const instances = Object.entries(out.placement).filter(
          ([key]) => key.startsWith("rep:") && !blocked.has(key),
        );
        const nodesUsed = instances.flatMap(([, placed]) => placed.map((p) => p.node));
        assert.equal(new Set(nodesUsed).size, nodesUsed.length, "two instances on one node");
        const primaries = instances.filter(([, placed]) =>
          placed.some((p) => p.role === "promoted"),
        );
        assert.ok(primaries.length <= 1, "more than promotedMax primaries");
        const g1 = out.placement.g1?.[0]?.node;
        const g2 = out.placement.g2?.[0]?.node;
        if (g2 !== undefined && !blocked.has("grp")) assert.equal(g1, g2, "group members apart");
      }),
      { numRuns: 400 },
    );
  });

  test("applying the actions reaches the placement (outside blocked resources)", () => {
    fc.assert(
      fc.property(inputArb, (pi) => {
        const out = computePlacement(pi);
        const state = new Map<string, Placed[]>();
        for (const [key, placed] of Object.entries(pi.current))
          state.set(
            key,
            placed.map((p) => ({ ...p })),
          );
        const online = new Set(pi.nodes.filter((n) => n.online).map((n) => n.name));
        for (const action of out.actions) {
          const list = state.get(action.resource) ?? [];
          if (action.op === "start") {
            assert.ok(
              list.every((p) => !online.has(p.node)),
              `${action.id}: already running on a live node`,
            );
            list.push({ node: action.node, role: "started" });
          } else if (action.op === "stop") {
            list.splice(
              list.findIndex((p) => p.node === action.node),
              1,
            );
          } else {
            const entry = list.find((p) => p.node === action.node);
            assert.ok(entry, `${action.id} on a node where it does not run`);
            entry.role = action.op === "promote" ? "promoted" : "unpromoted";
          }
          state.set(action.resource, list);
        }
        const blocked = new Set((out.blocked ?? []).map((b) => b.resource));
        for (const [key, placed] of Object.entries(out.placement)) {
          if (blocked.has(key) || blocked.has("grp")) continue;
          const reached = (state.get(key) ?? [])
            .filter((p) => online.has(p.node))
            .map((p) => ({ node: p.node, promoted: p.role === "promoted" }));
          const wanted = placed.map((p) => ({ node: p.node, promoted: p.role === "promoted" }));
          assert.deepEqual(reached, wanted, `${key}`);
        }
      }),
      { numRuns: 400 },
    );
  });
});
