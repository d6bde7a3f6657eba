import fc from "fast-check";
import {
  applyCommand,
  type ClusterState,
  type Command,
  encodeCommand,
  initialState,
  type JsonObject,
} from "../../src/state/index.js";
import { ownValue } from "../../src/state/records.js";

// Small name pools so that random commands keep hitting the same nodes, resources and
// attributes; "constructor" and "toString" check that names never reach Object.prototype.
const nodeName = fc.constantFrom("db1", "db2", "db3", "constructor");
const resourceName = fc.constantFrom("web", "db", "vip:1", "toString");
const attributeKey = fc.constantFrom("rack", "ssd", "toString");
const actor = fc.constantFrom("alice@db1", "bob@db2", "agent@db3");
const atMs = fc.integer({ min: 0, max: 4_000_000_000_000 });
const version = fc.integer({ min: 0, max: 40 });
const optionalVersion = fc.option(version, { nil: undefined });
const role = fc.constantFrom("started" as const, "promoted" as const, "unpromoted" as const);
const targetRole = fc.oneof(role, fc.constant("stopped" as const));
// Few agent runs, so that reports and shutdowns often come from the run that probed.
const incarnation = fc.integer({ min: 0, max: 2 });

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

const sessionId = fc.constantFrom("s1", "s2", "s3", "toString");
const lockKey = fc.constantFrom("leader", "db/primary", "constructor");
// Times within seconds of each other, so acquires often fall inside a lock-delay.
const sessionCommon = { by: actor, atMs: fc.integer({ min: 0, max: 20_000 }) };

/** Sessions and locks: a few sessions competing for a few keys, at times close together. */
export const sessionCommandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  fc.record(
    {
      type: fc.constant("session_create" as const),
      session: sessionId,
      name: fc.constantFrom("worker", "billing"),
      node: nodeName,
      ttlMs: fc.integer({ min: 500, max: 10_000 }),
      lockDelayMs: fc.integer({ min: 0, max: 5_000 }),
      checks: fc.array(fc.constantFrom("app", "disk"), { maxLength: 2 }),
      ...sessionCommon,
    },
    {
      requiredKeys: [
        "type",
        "session",
        "name",
        "node",
        "ttlMs",
        "lockDelayMs",
        "checks",
        "by",
        "atMs",
      ],
    },
  ),
  fc.record(
    {
      type: fc.constant("session_destroy" as const),
      session: sessionId,
      reason: fc.constantFrom(
        "client" as const,
        "ttl" as const,
        "node_dead" as const,
        "check_failing" as const,
      ),
      ...sessionCommon,
    },
    { requiredKeys: ["type", "session", "reason", "by", "atMs"] },
  ),
  fc.record(
    { type: fc.constant("lock_acquire" as const), key: lockKey, session: sessionId, ...common },
    { requiredKeys: ["type", "key", "session", "by", "atMs"] },
  ),
  fc.record(
    { type: fc.constant("lock_release" as const), key: lockKey, session: sessionId, ...common },
    { requiredKeys: ["type", "key", "session", "by", "atMs"] },
  ),
);

export const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  sessionCommandArbitrary,
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
      type: fc.constant("cluster_property" as const),
      name: attributeKey,
      value: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
      ...common,
    },
    { requiredKeys: ["type", "name", "value", "by", "atMs"] },
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
      fatal: fc.boolean(),
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
      type: fc.constant("score_poll" as const),
      clone: resourceName,
      poll: fc.option(
        fc.record({
          id: fc.integer({ min: 1, max: 50 }),
          recipients: fc.uniqueArray(nodeName, { minLength: 1, maxLength: 3 }),
          answered: fc.constant<string[]>([]),
          deadlineAtMs: atMs,
        }),
        { nil: null },
      ),
      by: actor,
      atMs,
      expectedVersion: version,
    },
    { requiredKeys: ["type", "clone", "poll", "by", "atMs", "expectedVersion"] },
  ),
  fc.record(
    {
      type: fc.constant("score_answer" as const),
      clone: resourceName,
      poll: fc.integer({ min: 1, max: 50 }),
      node: nodeName,
      incarnation: fc.integer({ min: 1, max: 3 }),
      score: fc.constantFrom("0", "300", "none", "-5"),
      ...common,
    },
    { requiredKeys: ["type", "clone", "poll", "node", "incarnation", "score", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("resource_targets" as const),
      changes: fc.array(fc.record({ resource: resourceName, node: nodeName, target: targetRole }), {
        minLength: 1,
        maxLength: 4,
      }),
      by: actor,
      atMs,
      expectedVersion: version,
    },
    { requiredKeys: ["type", "changes", "by", "atMs", "expectedVersion"] },
  ),
  fc.record(
    {
      type: fc.constant("resource_report" as const),
      resource: resourceName,
      node: nodeName,
      incarnation,
      active: fc.option(role, { nil: null }),
      stopFailed: fc.boolean(),
      ...common,
    },
    { requiredKeys: ["type", "resource", "node", "incarnation", "active", "by", "atMs"] },
  ),
  {
    // Often: reports and shutdowns only take effect on a node whose run has probed.
    arbitrary: fc.record(
      {
        type: fc.constant("node_probed" as const),
        node: nodeName,
        incarnation,
        configVersion: version,
        active: fc.array(fc.record({ resource: resourceName, role }), { maxLength: 3 }),
        ...common,
      },
      {
        requiredKeys: ["type", "node", "incarnation", "configVersion", "active", "by", "atMs"],
      },
    ),
    weight: 3,
  },
  fc.record(
    { type: fc.constant("node_released" as const), node: nodeName, ...common },
    { requiredKeys: ["type", "node", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("node_fenced" as const),
      node: nodeName,
      ok: fc.boolean(),
      action: fc.constantFrom("reboot" as const, "off" as const, "confirm" as const),
      devices: fc.constantFrom<string[]>([], ["ipmi"], ["pdu-a", "pdu-b"]),
      detail: fc.constantFrom("ok", "exit code 1: timed out"),
      ...common,
    },
    { requiredKeys: ["type", "node", "ok", "action", "devices", "detail", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("node_fence_request" as const),
      node: nodeName,
      incarnation,
      resource: resourceName,
      reason: fc.string({ maxLength: 20 }),
      ...common,
    },
    { requiredKeys: ["type", "node", "incarnation", "resource", "reason", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("node_shutdown" as const),
      node: nodeName,
      incarnation,
      ...common,
    },
    { requiredKeys: ["type", "node", "incarnation", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("resource_move" as const),
      resource: resourceName,
      node: nodeName,
      ...common,
    },
    { requiredKeys: ["type", "resource", "node", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("resource_ban" as const),
      resource: resourceName,
      node: nodeName,
      ...common,
    },
    { requiredKeys: ["type", "resource", "node", "by", "atMs"] },
  ),
  fc.record(
    { type: fc.constant("resource_clear" as const), resource: resourceName, ...common },
    { requiredKeys: ["type", "resource", "by", "atMs"] },
  ),
  fc.record(
    {
      type: fc.constant("resource_role" as const),
      resource: resourceName,
      stopped: fc.boolean(),
      ...common,
    },
    { requiredKeys: ["type", "resource", "stopped", "by", "atMs"] },
  ),
);

/**
 * One committed entry to be: a command whose compare-and-set version is given relative to the
 * state it will meet (so that random sequences are mostly accepted, with stale and future
 * versions mixed in), or a payload that is not a command at all. `current`: a probe is made
 * against the configuration in force, and a report or shutdown comes from the run that probed
 * (else the command's own, often stale, configVersion or incarnation stands).
 */
export type Step =
  | { command: Command; versionOffset: number | undefined; current: boolean }
  | { garbage: string };

const versionOffset = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.integer({ min: -3, max: 1 }), weight: 1 },
);

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      command: commandArbitrary,
      versionOffset,
      current: fc.oneof(
        { arbitrary: fc.constant(true), weight: 3 },
        { arbitrary: fc.constant(false), weight: 1 },
      ),
    }),
    weight: 16,
  },
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
    const required =
      step.command.type === "config_apply" ||
      step.command.type === "resource_targets" ||
      step.command.type === "score_poll";
    const offset = step.versionOffset ?? (required ? 0 : undefined);
    const command: Command = {
      ...step.command,
      expectedVersion: offset === undefined ? undefined : Math.max(0, state.version + offset),
      ...(step.current ? currentFields(step.command, state) : {}),
    } as Command;
    const payload = encodeCommand(command);
    state = applyCommand(state, payload).state;
    return payload;
  });
}

function currentFields(command: Command, state: ClusterState): Partial<Command> {
  switch (command.type) {
    case "node_probed":
      return { configVersion: state.config.version };
    case "resource_report":
    case "node_fence_request":
    case "node_shutdown": {
      // From the node's own run, or else from some node whose run has probed, if any has.
      const node = Object.hasOwn(state.agents, command.node)
        ? command.node
        : Object.keys(state.agents).sort()[0];
      const agent = node === undefined ? undefined : state.agents[node];
      return node === undefined || agent === undefined
        ? {}
        : { node, incarnation: agent.incarnation };
    }
    case "score_poll":
      // Named by the version that begins it, as the leader does.
      return command.poll === null ? {} : { poll: { ...command.poll, id: state.version + 1 } };
    case "score_answer": {
      // From a node the poll under way asks, as its run.
      const poll = ownValue(state.scorePolls ?? {}, command.clone);
      const node = poll?.recipients.find((name) => Object.hasOwn(state.agents, name));
      const agent = node === undefined ? undefined : state.agents[node];
      return poll === undefined || node === undefined || agent === undefined
        ? {}
        : { poll: poll.id, node, incarnation: agent.incarnation };
    }
    default:
      return {};
  }
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
