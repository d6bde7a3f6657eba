/**
 * A promotable clone's replication offset: how much of the primary's write stream a copy holds,
 * read by a command the operator names, after every monitor of a running copy. When the primary
 * is lost, the copy holding the most is promoted, whatever the agent's own score says (as long as
 * it allows the promotion): Debian's ocf:heartbeat:redis scores replicas by `slave_priority` and
 * connected clients, never by data, and promoting the replica that is behind drops acknowledged
 * writes. Pure: the command runs in the executor (resources/executor/replication-offset-reader.ts).
 */
import { z } from "zod";

export interface ReplicationOffsetSpec {
  /** Run by /bin/sh -c with the copy's parameters as OCF_RESKEY_<name> and its clone environment. */
  command: string;
  /** A regular expression whose first group is the offset in the output; else all of it is. */
  pattern?: string;
  timeoutMs: number;
}

/** The node attribute a copy's replication offset is kept in (or `none`: it could not be read). */
export function replicationOffsetAttribute(clone: string): string {
  return `replication-offset-${clone}`;
}

const MINUTE_MS = 60_000;

function captureGroups(pattern: string): number | string {
  try {
    // An alternative that matches the empty string makes exec report every group, unmatched.
    return (new RegExp(`${pattern}|`).exec("")?.length ?? 1) - 1;
  } catch (error) {
    return (error as Error).message;
  }
}

export const replicationOffsetSchema = z
  .strictObject({
    command: z
      .string()
      .trim()
      .min(1, "expected the command that prints this copy's replication offset")
      .max(4096),
    pattern: z.string().min(1).max(1024).optional(),
    timeout_ms: z
      .number()
      .int("expected a whole number of milliseconds")
      .min(1, "expected a positive number of milliseconds (at least 1)")
      .max(10 * MINUTE_MS, "expected at most 600000 ms (ten minutes)")
      .default(10_000),
  })
  .superRefine((spec, ctx) => {
    if (spec.pattern === undefined) return;
    const groups = captureGroups(spec.pattern);
    if (typeof groups === "string") {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message: `not a regular expression: ${groups}`,
      });
    } else if (groups < 1) {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message: "the pattern needs a group around the offset, e.g. ^master_repl_offset:(\\d+)",
      });
    }
  });

export type WrittenReplicationOffset = z.output<typeof replicationOffsetSchema>;

export function replicationOffsetSpec(written: WrittenReplicationOffset): ReplicationOffsetSpec {
  return {
    command: written.command,
    ...(written.pattern === undefined ? {} : { pattern: written.pattern }),
    timeoutMs: written.timeout_ms,
  };
}

const DECIMAL = /^\d{1,20}$/;
/** PostgreSQL's WAL location (pg_last_wal_replay_lsn()): two hexadecimal halves of 64 bits. */
const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/**
 * The offset in a command's output: the first group of `pattern` (a line-wise regular
 * expression), or the whole output. A decimal integer, or a WAL location as PostgreSQL prints it
 * (16/B374D848). A string says why there is none.
 */
export function parseReplicationOffset(stdout: string, pattern?: string): number | string {
  let text = stdout.trim();
  if (pattern !== undefined) {
    const match = new RegExp(pattern, "m").exec(stdout);
    if (match === null) return `the output does not match ${pattern}`;
    text = (match[1] ?? "").trim();
  }
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (DECIMAL.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : `offset ${shown} is too large`;
  }
  const lsn = LSN.exec(text);
  if (lsn !== null) {
    const value =
      Number.parseInt(lsn[1] as string, 16) * 2 ** 32 + Number.parseInt(lsn[2] as string, 16);
    return Number.isSafeInteger(value) ? value : `WAL location ${shown} is too large`;
  }
  return text === ""
    ? "the command printed no offset"
    : `"${shown}" is not an offset (a whole number, or a WAL location such as 16/B374D848)`;
}
