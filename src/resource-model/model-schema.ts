import { z } from "zod";
import { checksSchema } from "./checks-schema.js";
import { hooksSchema, transitionScriptsSchema } from "./hooks-schema.js";
import { entryNameSchema } from "./named-section.js";
import { replicationOffsetSchema } from "./replication-offset.js";
import { parseVipAddress } from "./vip-address.js";
import {
  DIRECTOR_BACKENDS,
  REAL_SERVER_WEIGHT_MAX,
  REAL_SERVERS_MAX,
  SCHEDULERS,
  SERVICE_PROTOCOLS,
} from "./virtual-service.js";

/**
 * The `resources`, `groups`, `clones` and `constraints` sections of the cluster configuration
 * (applied with `vigil config apply`), as written. Durations carry `_ms`; scores are integers or
 * "INFINITY" / "-INFINITY" (Pacemaker's convention).
 */

const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const id = z
  .string()
  .regex(RESOURCE_ID, "expected an id such as web-ip (letters, digits, . _ -)")
  // Ids become keys of plain records everywhere (placement, fail counts): one that every object
  // already has (toString, constructor) would be found where it was never defined.
  .refine((text) => !(text in Object.prototype), "this id is reserved: choose another name");
const DAY_MS = 86_400_000;
const durationMs = z.number().int().min(0).max(DAY_MS);
/**
 * Operation timeouts and monitor intervals: a timer of 0 ms (or less) cannot run an operation,
 * and one past a day is a typo (timers also stop working past 2^31 ms).
 */
const operationMs = z
  .number()
  .int("expected a whole number of milliseconds")
  .min(1, "expected a positive number of milliseconds (at least 1)")
  .max(DAY_MS, `expected at most ${DAY_MS} ms (one day)`);

export const scoreSchema = z.union(
  [
    z.number().int().min(-1_000_000).max(1_000_000),
    z.literal("INFINITY"),
    z.literal("+INFINITY"),
    z.literal("-INFINITY"),
  ],
  { error: "expected a score: a whole number from -1000000 to 1000000, INFINITY or -INFINITY" },
);

const operationSchema = z.strictObject({
  timeout_ms: operationMs.optional(),
  interval_ms: operationMs.optional(),
  role: z.enum(["promoted", "unpromoted"]).optional(),
});

export const metaSchema = z.strictObject({
  stickiness: z.number().int().min(0).max(1_000_000).optional(),
  migration_threshold: z.number().int().min(0).max(1_000_000).optional(),
  failure_timeout_ms: durationMs.optional(),
  on_fail: z.enum(["restart", "move", "standby", "fence", "ignore"]).optional(),
  auto_failback: z.boolean().optional(),
  target_role: z.enum(["started", "stopped"]).optional(),
});

const paramsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const primitiveSchema = z.strictObject({
  /** vip, exec:/path, ocf:provider:type, lsb:name, systemd:unit */
  agent: z.string().min(1),
  params: paramsSchema.default({}),
  /**
   * Parameters that differ per node, over `params` where that node runs the resource (or its
   * clone's copy): a clone's copies share one definition, but not always one data directory.
   */
  params_on: z.record(z.string(), paramsSchema).default({}),
  operations: z
    .strictObject({
      start: operationSchema.optional(),
      stop: operationSchema.optional(),
      // A list: Pacemaker's monitor per role of a promotable clone's copies (parse-operations.ts).
      monitor: z
        .union([operationSchema, z.array(operationSchema).min(1)], {
          error: "expected a monitor (a mapping) or a list of monitors, one per role",
        })
        .optional(),
      promote: operationSchema.optional(),
      demote: operationSchema.optional(),
      // Run on every active copy of a clone with notify: true, around its copies' operations.
      notify: operationSchema.optional(),
    })
    .default({}),
  meta: metaSchema.default({}),
  /** Scripts run on the node where this resource started, stopped, was promoted or demoted. */
  notify: transitionScriptsSchema.optional(),
});

const portSchema = z
  .number()
  .int("expected a port from 1 to 65535")
  .min(1, "expected a port from 1 to 65535")
  .max(65535, "expected a port from 1 to 65535");

const hostAddressSchema = z.string().refine((text) => {
  try {
    parseVipAddress(text);
    return !text.includes("/");
  } catch {
    return false;
  }
}, "expected an IPv4 or IPv6 address without /prefix, e.g. 198.18.1.11");

const endpointSchema = z.strictObject({ address: hostAddressSchema, port: portSchema });

const realServerSchema = endpointSchema.extend({
  weight: z
    .number()
    .int(`expected a whole-number weight from 0 to ${REAL_SERVER_WEIGHT_MAX}`)
    .min(0, `expected a weight from 0 (no new connections) to ${REAL_SERVER_WEIGHT_MAX}`)
    .max(REAL_SERVER_WEIGHT_MAX, `expected a weight from 0 to ${REAL_SERVER_WEIGHT_MAX}`)
    .default(1),
  /** A check of the `checks` section: the server gets new connections while it passes. */
  check: entryNameSchema("check", "web1-http").optional(),
});

/**
 * A load-balanced service (virtual-service.ts): a resource of its own, in a group after the vip
 * resource whose address it serves, so that it runs where that address runs.
 */
const virtualServiceSchema = z.strictObject({
  vip: id,
  port: portSchema,
  protocol: z.enum(SERVICE_PROTOCOLS, { error: "expected a protocol: tcp or udp" }).default("tcp"),
  scheduler: z
    .enum(SCHEDULERS, {
      error:
        "expected a scheduler: rr (round robin), wrr (weighted round robin) or sh (source hash)",
    })
    .default("wrr"),
  real_servers: z
    .array(realServerSchema)
    .min(1, "expected at least one real server")
    .max(REAL_SERVERS_MAX, `expected at most ${REAL_SERVERS_MAX} real servers`),
  /** Gets the new connections while no real server is healthy. */
  sorry_server: endpointSchema.optional(),
  masquerade: z.boolean().default(false),
  backend: z
    .enum(DIRECTOR_BACKENDS, { error: "expected a backend: auto, nftables or ipvs" })
    .default("auto"),
  operations: primitiveSchema.shape.operations,
  meta: metaSchema.default({}),
});

const groupSchema = z.union([
  z.array(id).min(1, "expected at least one member"),
  z.strictObject({
    members: z.array(id).min(1, "expected at least one member"),
    meta: metaSchema.default({}),
  }),
]);

/** A key Pacemaker users write that Vigil has elsewhere, or not at all: refused saying which. */
const misplaced = (message: string) =>
  z
    .unknown()
    .refine(() => false, message)
    .optional();
const WRITE_MAX = "the number of copies is the clone's max: write max: N on the clone, beside of";
const WRITE_PROMOTED_MAX = "write promoted_max: N on the clone, beside of and promotable";
const ONE_PER_NODE =
  "a node runs at most one copy of a clone (so at most one promoted): this is not supported";

/** Pacemaker's clone meta attributes, spelled as Vigil spells keys, pointed to their place. */
const cloneMetaSchema = metaSchema.extend({
  clone_max: misplaced(`${WRITE_MAX} (not in its meta)`),
  clone_node_max: misplaced(ONE_PER_NODE),
  promoted_max: misplaced(`${WRITE_PROMOTED_MAX} (not in its meta)`),
  master_max: misplaced(`${WRITE_PROMOTED_MAX} (not in its meta)`),
  promoted_node_max: misplaced(ONE_PER_NODE),
  master_node_max: misplaced(ONE_PER_NODE),
  notify: misplaced("write notify: true on the clone, beside of (not in its meta)"),
});

const cloneSchema = z.strictObject({
  of: id,
  max: z.number().int().min(1).max(256).optional(),
  promotable: z.boolean().default(false),
  promoted_max: z.number().int().min(1).max(256).default(1),
  /** Pacemaker's clone notifications: every active copy's agent is told of its peers' operations. */
  notify: z.boolean().default(false),
  /** Promotable clones: the command that reads a copy's replication offset (the most is promoted). */
  replication_offset: replicationOffsetSchema.optional(),
  clone_max: misplaced(WRITE_MAX),
  master_max: misplaced(WRITE_PROMOTED_MAX),
  meta: cloneMetaSchema.default({}),
});

const ruleSchema = z
  .strictObject({
    attribute: z.string().min(1),
    op: z.enum(["eq", "ne", "lt", "lte", "gt", "gte", "defined", "not_defined"]),
    value: z.union([z.string(), z.number()]).optional(),
  })
  .superRefine((rule, ctx) => {
    const comparison = rule.op !== "defined" && rule.op !== "not_defined";
    if (comparison && rule.value === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: `op "${rule.op}" compares attribute "${rule.attribute}" with a value: give one`,
      });
    } else if (!comparison && rule.value !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: `op "${rule.op}" only asks whether attribute "${rule.attribute}" is set: it takes no value`,
      });
    }
  });

const constraintSchema = z.union(
  [
    z.strictObject({
      location: z.strictObject({
        id: id.optional(),
        resource: id,
        node: z.string().optional(),
        rules: z.array(ruleSchema).optional(),
        score: scoreSchema,
      }),
    }),
    z.strictObject({
      colocation: z.strictObject({
        id: id.optional(),
        resource: id,
        with: id,
        with_role: z.literal("promoted").optional(),
        score: scoreSchema.default("INFINITY"),
      }),
    }),
    z.strictObject({
      order: z.strictObject({
        id: id.optional(),
        first: id,
        then: id,
        first_action: z.enum(["start", "promote"]).optional(),
        then_action: z.enum(["start", "promote"]).optional(),
        kind: z.enum(["mandatory", "optional"]).default("mandatory"),
      }),
    }),
  ],
  { error: "expected one constraint: location, colocation or order" },
);

/**
 * The document's sections. A key beside them is refused when a document is applied (a misspelt
 * `resorces:` would otherwise be stored and do nothing): DOCUMENT_SECTIONS, below, are its keys.
 */
export const resourceDocumentSchema = z.looseObject({
  resources: z.record(id, primitiveSchema).default({}),
  virtual_services: z.record(id, virtualServiceSchema).default({}),
  groups: z.record(id, groupSchema).default({}),
  clones: z.record(id, cloneSchema).default({}),
  constraints: z.array(constraintSchema).default([]),
  hooks: hooksSchema.default({}),
  checks: checksSchema.default({}),
});

export type ResourceDocument = z.output<typeof resourceDocumentSchema>;

/**
 * The document's top-level sections, each optional; any other key is refused when a document is
 * applied. A new section is a key of resourceDocumentSchema, and so one of these.
 */
export const DOCUMENT_SECTIONS: readonly string[] = Object.keys(resourceDocumentSchema.shape);
