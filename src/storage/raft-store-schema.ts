import { z } from "zod";
import type { HardState, LogEntry, Snapshot } from "../consensus/types.js";

/**
 * Shapes of what the Raft store writes. Checked both before writing (so a bad value from the
 * core is refused with a clear error instead of making the store unreadable) and after reading.
 */

const index = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const term = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const nodeId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const membershipSchema = z.object({
  members: z.array(z.object({ id: nodeId, votes: z.number().int().min(0), witness: z.boolean() })),
});

const entryBodySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("noop") }),
  z.object({ kind: z.literal("membership"), membership: membershipSchema }),
  z.object({ kind: z.literal("command"), payload: z.string() }),
]);

export const logEntrySchema: z.ZodType<LogEntry> = z.object({
  index,
  term,
  body: entryBodySchema,
});

export const hardStateSchema: z.ZodType<HardState> = z.object({
  term,
  votedFor: nodeId.nullable(),
});

export const snapshotSchema: z.ZodType<Snapshot> = z.object({
  meta: z.object({
    lastIncludedIndex: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    lastIncludedTerm: term,
    membership: membershipSchema,
  }),
  data: z.string(),
});

/** First record of the log file: entries in this file start at baseIndex + 1. */
export interface LogHeader {
  baseIndex: number;
}

export const logHeaderSchema: z.ZodType<LogHeader> = z.object({
  baseIndex: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** One log mutation: drop entries >= truncateFrom, then append `entries`. */
export interface LogRecord {
  truncateFrom?: number;
  entries: LogEntry[];
}

export const logRecordSchema: z.ZodType<LogRecord> = z.object({
  truncateFrom: index.optional(),
  entries: z.array(logEntrySchema),
});

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `value` as `schema` parses it (unknown keys dropped), or a one-line description of why not. */
export function checkSchema<T>(schema: z.ZodType<T>, value: unknown): Checked<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const problem = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
  return { ok: false, problem };
}
