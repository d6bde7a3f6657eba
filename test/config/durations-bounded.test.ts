/**
 * Node fires a timer asked to wait past 2^31 − 1 ms after 1 ms. Every duration an operator writes
 * in the cluster file or the resource document is bounded by its schema, well below that: this
 * walks both schemas, so a duration added later without a bound fails here, and checks what an
 * operator who writes an overflowing value is told.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { z } from "zod";
import { configSchema } from "../../src/config/schema.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { resourceDocumentSchema } from "../../src/resource-model/model-schema.js";
import { configErrorOf, issueAt, VALID_YAML } from "./helpers.js";

/** The longest duration any key may have: a day (far below the 24.8 days a timer holds). */
const OPERATOR_MAX_MS = 86_400_000;
const OVERFLOWING = 2 ** 31;

interface Leaf {
  path: string;
  type: string;
  maxValue: number | undefined;
}

/** Every leaf of a schema, with its path (`*` for a record's values, `[]` for list items). */
function leaves(schema: z.ZodType, path: string, depth = 0): Leaf[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const inner = (key: string) => def[key] as z.ZodType;
  if (depth > 20) return [];
  switch (def.type) {
    case "object":
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, value]) =>
        leaves(value, `${path}.${key}`, depth + 1),
      );
    case "optional":
    case "default":
    case "nullable":
    case "prefault":
      return leaves(inner("innerType"), path, depth + 1);
    case "record":
      return leaves(inner("valueType"), `${path}.*`, depth + 1);
    case "array":
      return leaves(inner("element"), `${path}[]`, depth + 1);
    case "union":
      return (def.options as z.ZodType[]).flatMap((option) => leaves(option, path, depth + 1));
    case "pipe":
      return [...leaves(inner("in"), path, depth + 1), ...leaves(inner("out"), path, depth + 1)];
    default:
      return [
        {
          path,
          type: String(def.type),
          maxValue: (schema as unknown as { maxValue?: number | null }).maxValue ?? undefined,
        },
      ];
  }
}

const durations = (schema: z.ZodType, name: string) =>
  leaves(schema, name).filter((leaf) => /_ms(\.|\[|$)/.test(leaf.path));

for (const [name, schema] of [
  ["cluster file", configSchema],
  ["resource document", resourceDocumentSchema],
] as const) {
  test(`every duration of the ${name} is a number of at most a day`, () => {
    const found = durations(schema, name);
    assert.ok(found.length >= (name === "cluster file" ? 16 : 3), JSON.stringify(found));
    const unbounded = found.filter(
      (leaf) =>
        leaf.type !== "number" || leaf.maxValue === undefined || leaf.maxValue > OPERATOR_MAX_MS,
    );
    assert.deepEqual(unbounded, []);
  });
}

test("an overflowing duration in the cluster file is refused, naming the key", () => {
  for (const [yaml, keyPath] of [
    [`timing:\n  keepalive_ms: ${OVERFLOWING}\n`, "timing.keepalive_ms"],
    [`coordination:\n  follower_lease_ms: ${OVERFLOWING}\n`, "coordination.follower_lease_ms"],
    [`fencing:\n  monitor_interval_ms: ${OVERFLOWING}\n`, "fencing.monitor_interval_ms"],
    [`fencing:\n  delay_ms: { alpha: ${OVERFLOWING} }\n`, "fencing.delay_ms.alpha"],
    [
      `connectivity:\n  targets: [{ icmp: 198.18.0.254 }]\n  interval_ms: ${OVERFLOWING}\n`,
      "connectivity.interval_ms",
    ],
  ] as const) {
    const issue = issueAt(configErrorOf(`${VALID_YAML}${yaml}`), keyPath);
    assert.match(issue.message, /at most|to \d+ milli/, `${keyPath}: ${issue.message}`);
  }
});

test("an overflowing duration in the resource document is refused, naming the key", () => {
  const vipParams = { address: "198.18.0.100/24", arp_refresh_ms: String(OVERFLOWING) };
  const { problems } = checkResourceDocument(
    {
      resources: {
        web: {
          agent: "vip",
          params: vipParams,
          operations: { monitor: { interval_ms: OVERFLOWING, timeout_ms: OVERFLOWING } },
          meta: { failure_timeout_ms: OVERFLOWING },
        },
      },
    },
    ["alpha", "beta"],
  );
  const text = problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n");
  for (const path of [
    "resources.web.operations.monitor.interval_ms",
    "resources.web.operations.monitor.timeout_ms",
    "resources.web.meta.failure_timeout_ms",
  ])
    assert.match(text, new RegExp(`^${path.replaceAll(".", "\\.")}: `, "m"));
  // The vip agent's own parameters are checked once the shape is sound.
  const vip = checkResourceDocument({ resources: { web: { agent: "vip", params: vipParams } } }, [
    "alpha",
  ]);
  assert.match(
    vip.problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"),
    /^resources\.web\.params\.arp_refresh_ms: /m,
  );
});
