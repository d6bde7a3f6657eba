import fc from "fast-check";
import { type Command, encodeCommand } from "../../src/state/index.js";

// Small name pools so that random commands keep hitting the same nodes, resources and
// attributes; "constructor" and "toString" check that names never reach Object.prototype.
const nodeName = fc.constantFrom("db1", "db2", "db3", "constructor");
const resourceName = fc.constantFrom("web", "db", "vip:1", "toString");
const attributeKey = fc.constantFrom("rack", "ssd", "toString");
const actor = fc.constantFrom("alice@db1", "bob@db2", "agent@db3");
const atMs = fc.integer({ min: 0, max: 4_000_000_000_000 });
const version = fc.integer({ min: 0, max: 40 });
const optionalVersion = fc.option(version, { nil: undefined });

const yamlLine = fc.constantFrom(
  "resources:",
  "  - name: web",
  "    type: ip",
  "    stickiness: 100",
  "    stickiness: 200",
  "constraints: []",
  "# comment",
);

const common = { by: actor, atMs, expectedVersion: optionalVersion };

export const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    type: fc.constant("config_apply" as const),
    text: fc.array(yamlLine, { maxLength: 8 }).map((lines) => lines.join("\n")),
    document: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    }),
    by: actor,
    atMs,
    expectedVersion: version,
  }),
  fc.record(
    {
      type: fc.constant("node_attribute_set" as const),
      node: nodeName,
      key: attributeKey,
      value: fc.string({ maxLength: 10 }),
      ...common,
    },
    { requiredKeys: ["type", "node", "key", "value", "by", "atMs"] },
  ),
  fc.record(
    { type: fc.constant("node_attribute_unset" as const), node: nodeName, key: attributeKey, ...common },
    { requiredKeys: ["type", "node", "key", "by", "atMs"] },
  ),
  fc.record(
    { type: fc.constant("node_standby" as const), node: nodeName, standby: fc.boolean(), ...common },
    { requiredKeys: ["type", "node", "standby", "by", "atMs"] },
  ),
  fc.record(
    { type: fc.constant("maintenance" as const), on: fc.boolean(), ...common },
    { requiredKeys: ["type", "on", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("fail_count_increment" as const),
      resource: resourceName,
      node: nodeName,
      ...common,
    },
    { requiredKeys: ["type", "resource", "node", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("fail_count_reset" as const),
      resource: resourceName,
      node: nodeName,
      ...common,
    },
    { requiredKeys: ["type", "resource", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("placement_set" as const),
      resource: resourceName,
      nodes: fc.uniqueArray(nodeName, { maxLength: 3 }),
      ...common,
    },
    { requiredKeys: ["type", "resource", "nodes", "by", "atMs"] },
  ),
);

/** Payloads as they arrive in committed entries: mostly valid commands, some garbage. */
export const payloadArbitrary: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: commandArbitrary.map(encodeCommand), weight: 8 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)), weight: 1 },
);

/** Makes every object in `value` read-only, so that a mutation anywhere throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
