import { z } from "zod";
import { httpUrlSchema } from "./http-url.js";
import { linearPattern } from "./linear-pattern.js";
import { entryNameSchema, namedSectionReader } from "./named-section.js";

/**
 * The `checks` section of the resource document: health checks in keepalived's manner (HTTP_GET,
 * TCP_CHECK, MISC_CHECK with delay_loop, rise, fall), run by the agents themselves. A check can
 * decide a resource's health alongside its monitor (`resource`), and publish its verdict as a
 * node attribute for location rules (`attribute`), and say whether a virtual service's real
 * server gets new connections (named by its `check`). Its transitions are hook events.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

const ms = (min: number, max: number, what: string) =>
  z
    .number()
    .int("expected a whole number of milliseconds")
    .min(min, `expected at least ${min} ms`)
    .max(max, `expected at most ${max} ms (${what})`);

const port = z
  .number()
  .int()
  .min(1, "expected a port from 1 to 65535")
  .max(65535, "expected a port from 1 to 65535");

const regex = z
  .string()
  .max(1024, "expected a pattern of at most 1024 characters")
  .refine((text) => {
    try {
      linearPattern(text);
      return true;
    } catch {
      return false;
    }
  }, "expected a regular expression (JavaScript syntax) without backreferences or lookaround, which can take exponential time on a server's answer");

const httpCheck = z.strictObject({
  url: httpUrlSchema("http://127.0.0.1:8080/health"),
  method: z.enum(["GET", "HEAD", "POST"]).default("GET"),
  /** The status codes that pass (default: any 2xx). */
  status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  /** A pattern the body must match. */
  body: regex.optional(),
  /** https: check the server's certificate (default), or accept any (a self-signed one). */
  tls_verify: z.boolean().default(true),
});

const tcpCheck = z.strictObject({
  host: z.string().min(1).max(253),
  port,
  /** Written once connected. */
  send: z.string().max(4096).optional(),
  /** A pattern what the server answers must match (within the timeout). */
  expect: regex.optional(),
});

const checkSchema = z
  .strictObject({
    http: httpCheck.optional(),
    tcp: tcpCheck.optional(),
    /**
     * Consul's TTL check: the application reports (POST /v1/checks/NAME, `vigil check pass`)
     * at least every ttl_ms; a report missed, or a failure reported, fails the check.
     */
    ttl: z.strictObject({ ttl_ms: ms(100, 86_400_000, "a day") }).optional(),
    /** An executable: exit 0 passes. */
    exec: z
      .string()
      .regex(/^\/[^\0]{0,1022}$/, "expected the absolute path of an executable")
      .optional(),
    interval_ms: ms(100, HOUR_MS, "an hour").default(2000),
    timeout_ms: ms(10, 10 * MINUTE_MS, "ten minutes").default(1000),
    /** Successes in a row that make a failing (or new) check pass. */
    rise: z.number().int().min(1).max(100).default(1),
    /** Failures in a row that make a passing (or new) check fail. */
    fall: z.number().int().min(1).max(100).default(3),
    /** The nodes that run it (default: every node that runs resources). */
    nodes: z.array(z.string().min(1).max(63)).min(1).optional(),
    /** Runs only where this resource runs, and a failure there is the resource's failure. */
    resource: z.string().min(1).max(64).optional(),
    /** A node attribute the check sets: "1" while passing, "0" while failing. */
    attribute: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        "expected an attribute name (letters, digits, . _ -)",
      )
      .optional(),
  })
  .superRefine((check, ctx) => {
    const kinds = ["http", "tcp", "exec", "ttl"].filter(
      (kind) => check[kind as "http"] !== undefined,
    );
    if (kinds.length !== 1)
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `expected exactly one of http, tcp, exec or ttl${kinds.length > 1 ? ` (got ${kinds.join(", ")})` : ""}`,
      });
    if (check.timeout_ms >= check.interval_ms)
      ctx.addIssue({
        code: "custom",
        path: ["timeout_ms"],
        message: `expected less than interval_ms (${check.interval_ms}): one try at a time`,
      });
  });

export const checksSchema = z.record(entryNameSchema("check", "web-http"), checkSchema);

export type CheckSpec = z.output<typeof checkSchema> & { name: string };

/** The checks of an applied document, by name. */
export const checksOf: (document: object) => readonly CheckSpec[] = namedSectionReader(
  "checks",
  checksSchema,
);
