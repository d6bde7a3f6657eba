import { z } from "zod";
import { nodeSchema } from "../config/schema.js";
import { FENCE_ATTEMPT_DETAIL_MAX_CHARS, FENCE_ATTEMPTS_LIMIT } from "./types.js";

/** Node names as the configuration file spells them, so state and config refer to the same nodes. */
export const nodeNameSchema = nodeSchema.shape.name;

/**
 * Resource names start with a letter or digit, which also keeps "__proto__" out of the records
 * keyed by them. ":" and "/" are allowed for clone instances such as "web:1" and "stack:0/ip";
 * 127 characters fit a clone instance of a group member with the longest names.
 */
export const resourceNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,126}$/,
    "expected a resource name such as web or db-primary (letters, digits, . _ : / -; at most 127)",
  );

export const attributeKeySchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    "expected an attribute name such as rack or ssd (letters, digits, . _ -; at most 63)",
  );

/** Attribute values are free text for constraints to match on; the bound keeps entries small. */
export const attributeValueSchema = z
  .string()
  .max(1024, "expected an attribute value of at most 1024 characters");

/** Who asked for a change: an operator ("alice@db1") or an agent ("agent@db2"). */
export const actorSchema = z
  .string()
  .min(1, "expected who made the change, such as alice@db1")
  .max(128, "expected who made the change in at most 128 characters");

/** Milliseconds since the epoch, within what Date can print for the history. */
export const epochMsSchema = z
  .number()
  .int("expected whole milliseconds since the epoch")
  .min(0, "expected milliseconds since the epoch (not negative)")
  .max(8_640_000_000_000_000, "expected milliseconds since the epoch within Date's range");

export const versionSchema = z
  .number()
  .int("expected a whole version number")
  .min(0, "expected a version number of 0 or more");

/**
 * An agent run's count of its reports, probes and writes of its own attributes, in the order it
 * made them: the state keeps the newest it applied, so one that arrives late (a forward resent
 * across a lease gap, or overtaken by a later one) cannot undo what a later one said.
 */
export const runSeqSchema = z
  .number()
  .int("expected a whole sequence number")
  .min(1, "expected a sequence number of 1 or more")
  .max(Number.MAX_SAFE_INTEGER, "expected a sequence number within 2^53");

/** A fence operation's agent runs (FenceAttemptRecord), in commands and in the state alike. */
export const fenceAttemptsSchema = z
  .array(
    z.strictObject({
      level: z.number().int().min(1).max(64),
      device: z.string().min(1).max(63),
      action: z.enum(["reboot", "off", "on"]),
      ok: z.boolean(),
      durationMs: z.number().int().min(0),
      detail: z.string().max(FENCE_ATTEMPT_DETAIL_MAX_CHARS),
    }),
  )
  .max(FENCE_ATTEMPTS_LIMIT);

/**
 * A session's id: made by the agent that opens it (a random UUID) and carried in the command,
 * so every node records the same one. The leading letter or digit keeps "__proto__" out.
 */
export const sessionIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/,
    "expected a session id (letters, digits and -, at most 64), as the session's open returned",
  );

/** A lock's key: an application's name for what it elects a leader of ("billing/leader"). */
export const lockKeySchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/,
    "expected a lock key such as billing/leader (letters, digits, . _ : / -; at most 128)",
  );

/** A session's name: free words for operators, one line. */
export const sessionNameSchema = z
  .string()
  .min(1, "expected a session name such as billing-worker")
  .max(128, "expected a session name of at most 128 characters")
  .regex(/^[^\n\r]*$/, "expected a session name on one line");

export const SESSION_TTL_MIN_MS = 500;
export const SESSION_TTL_MAX_MS = 3_600_000;
/** Consul's bound: a longer lock-delay would keep a lock idle longer than anyone waits. */
export const LOCK_DELAY_MAX_MS = 60_000;

export const sessionTtlMsSchema = z
  .number()
  .int("expected whole milliseconds")
  .min(SESSION_TTL_MIN_MS, `expected a TTL of at least ${SESSION_TTL_MIN_MS} ms`)
  .max(SESSION_TTL_MAX_MS, `expected a TTL of at most ${SESSION_TTL_MAX_MS} ms (an hour)`);

export const lockDelayMsSchema = z
  .number()
  .int("expected whole milliseconds")
  .min(0, "expected a lock-delay of 0 ms or more")
  .max(LOCK_DELAY_MAX_MS, `expected a lock-delay of at most ${LOCK_DELAY_MAX_MS} ms`);
