import fc from "fast-check";
import {
  applyCommand,
  type Command,
  encodeCommand,
  initialState,
  type JsonObject,
} from "../../src/state/index.js";

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
    document: fc
      .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      .map((document) => document as JsonObject),
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
    {
      type: fc.constant("node_attribute_unset" as const),
      node: nodeName,
      key: attributeKey,
      ...common,
    },
    { requiredKeys: ["type", "node", "key", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("node_standby" as const),
      node: nodeName,
      standby: fc.boolean(),
      ...common,
    },
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

/**
 * One committed entry to be: a command whose compare-and-set version is given relative to the
 * state it will meet (so that random sequences are mostly accepted, with stale and future
 * versions mixed in), or a payload that is not a command at all.
 */
export type Step = { command: Command; versionOffset: number | undefined } | { garbage: string };

const versionOffset = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.integer({ min: -3, max: 1 }), weight: 1 },
);

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ command: commandArbitrary, versionOffset }), weight: 16 },
  { arbitrary: fc.record({ garbage: fc.string({ maxLength: 20 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      garbage: fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
    }),
    weight: 1,
  },
);

/** The payload texts for `steps`, resolving each relative version against the state reached. */
export function payloadsFor(steps: readonly Step[]): string[] {
  let state = initialState();
  return steps.map((step) => {
    if ("garbage" in step) return step.garbage;
    const offset = step.versionOffset ?? (step.command.type === "config_apply" ? 0 : undefined);
    const command: Command = {
      ...step.command,
      expectedVersion: offset === undefined ? undefined : Math.max(0, state.version + offset),
    } as Command;
    const payload = encodeCommand(command);
    state = applyCommand(state, payload).state;
    return payload;
  });
}

export const payloadsArbitrary = (constraints: { minLength?: number; maxLength: number }) =>
  fc.array(stepArbitrary, constraints).map(payloadsFor);

/** Makes every object in `value` read-only, so that a mutation anywhere throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
