import { z } from "zod";
import { entryNameSchema } from "../resource-model/named-section.js";
import { describeIssues } from "../state/commands.js";
import {
  lockDelayMsSchema,
  lockKeySchema,
  resourceNameSchema,
  sessionIdSchema,
  sessionNameSchema,
  sessionTtlMsSchema,
} from "../state/names.js";
import { SESSION_CHECKS_MAX, type SessionEndReason } from "../state/types.js";

/**
 * The session protocol: newline-delimited JSON both ways on one long connection to the agent of
 * the application's node (an HTTP upgrade of `GET /v1/session` to `vigil-session`, on the
 * control socket or the API listener). Every line from the client renews its session's TTL;
 * the agent sends a ping whenever it has been silent for its ping interval, so a client's
 * reader-idle timer notices a dead or paused agent. Requests carry an `id` their result echoes.
 */

export const SESSION_UPGRADE_PROTOCOL = "vigil-session";
export const SESSION_PATH = "/v1/session";
/** A line longer than this is a broken or hostile client: it is answered and disconnected. */
export const MAX_LINE_BYTES = 4096;

const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const openRequest = z.strictObject({
  op: z.literal("open"),
  id: requestId,
  name: sessionNameSchema,
  ttl_ms: sessionTtlMsSchema,
  lock_delay_ms: lockDelayMsSchema.default(15_000),
  checks: z
    .array(entryNameSchema("check", "app-ttl"))
    .max(SESSION_CHECKS_MAX, `expected at most ${SESSION_CHECKS_MAX} checks`)
    .default([]),
});

/** After a reconnect: carry on with the session opened before (its TTL may have run out). */
const resumeRequest = z.strictObject({
  op: z.literal("resume"),
  id: requestId,
  session: sessionIdSchema,
});
const acquireRequest = z.strictObject({
  op: z.literal("acquire"),
  id: requestId,
  key: lockKeySchema,
});
const releaseRequest = z.strictObject({
  op: z.literal("release"),
  id: requestId,
  key: lockKeySchema,
});
const destroyRequest = z.strictObject({ op: z.literal("destroy"), id: requestId });
/** Tell me where the resource's primary (or its one copy) runs, now and whenever it moves. */
const watchRequest = z.strictObject({
  op: z.literal("watch"),
  id: requestId,
  resource: resourceNameSchema,
});
/** A heartbeat: the client's writer was idle. Any line renews the TTL; this one says nothing else. */
const pingMessage = z.strictObject({ op: z.literal("ping") });

const CLIENT_OPS = ["open", "resume", "acquire", "release", "destroy", "watch", "ping"] as const;

export const clientMessageSchema = z.discriminatedUnion(
  "op",
  [
    openRequest,
    resumeRequest,
    acquireRequest,
    releaseRequest,
    destroyRequest,
    watchRequest,
    pingMessage,
  ],
  { error: () => `expected "op" to be one of ${CLIENT_OPS.join(", ")}` },
);
export type ClientMessage = z.output<typeof clientMessageSchema>;
export type ClientRequest = Exclude<ClientMessage, { op: "ping" }>;

/** Why a request failed, for a program to act on. */
export type ResultCode =
  | "held"
  | "lock_delay"
  | "no_session"
  | "session_lost"
  | "too_many_locks"
  | "bad_request"
  | "unavailable";

export type AgentMessage =
  | { op: "ping" }
  | {
      op: "result";
      id: number;
      ok: true;
      session?: string;
      /** For an acquire: the committed acquire's time (the state's clock, not the client's). */
      at_ms?: number;
    }
  | {
      op: "result";
      id: number;
      ok: false;
      code: ResultCode;
      error: string;
      holder?: string;
      free_at_ms?: number;
    }
  | { op: "event"; type: "session_lost"; session: string; reason: SessionEndReason | "unknown" }
  | { op: "event"; type: "lock_lost"; key: string; session: string }
  | {
      op: "event";
      type: "primary_moved";
      resource: string;
      /** Where it runs now (promoted, or its one started copy); null while nowhere. */
      node: string | null;
    }
  /** A line the agent could not take; the connection closes after it. */
  | { op: "error"; error: string };

export type ParsedLine = { ok: true; message: ClientMessage } | { ok: false; error: string };

/** One line from a client, read and checked; never throws. */
export function parseClientLine(line: string): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: "the line is not JSON" };
  }
  const parsed = clientMessageSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  return { ok: false, error: describeIssues(parsed.error.issues) };
}

/**
 * Cuts a byte stream into lines, each at most `maxBytes`; a longer one is an overflow (the
 * connection is then closed, so nothing is buffered without bound).
 */
export class LineSplitter {
  #pending = "";

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  push(chunk: string): { lines: string[]; overflow: boolean } {
    const parts = (this.#pending + chunk).split("\n");
    this.#pending = parts.pop() ?? "";
    const lines = parts.map((line) => line.replace(/\r$/, "")).filter((line) => line !== "");
    const overflow =
      Buffer.byteLength(this.#pending) > this.maxBytes ||
      lines.some((line) => Buffer.byteLength(line) > this.maxBytes);
    return { lines, overflow };
  }
}
