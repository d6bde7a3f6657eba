import { z } from "zod";
import type { RaftMessage } from "../consensus/types.js";
import { describeMessageProblem } from "../consensus/validate.js";

/**
 * Why a submit failed, for callers that must decide what to do next; `error` says it to a human.
 * - no_leader: nothing was proposed (no leader known, or it stepped down first); try again.
 * - superseded: proposed, but another entry committed in its place; it was not applied.
 * - outcome_unknown: it may or may not be applied (no answer in time, the leader changed before
 *   answering, the agent is stopping); resubmit only what may safely land twice.
 * - busy: a membership change is still committing; try again shortly.
 * - rejected: the request itself was refused (the state machine's verdict, an invalid change);
 *   the same request fails again.
 */
export const SUBMIT_ERROR_CODES = [
  "no_leader",
  "superseded",
  "outcome_unknown",
  "busy",
  "rejected",
] as const;
export type SubmitErrorCode = (typeof SUBMIT_ERROR_CODES)[number];

/** What a proposer learns: applied (with the state machine's verdict) or why not. */
export type SubmitResult =
  | { ok: true; index: number; version: number }
  | { ok: false; code: SubmitErrorCode; error: string; leaderId?: number | null };

/** Whether the same request may succeed if submitted again. */
export function isRetryable(code: SubmitErrorCode): boolean {
  return code !== "rejected";
}

/** What a client asks the cluster to commit: a state-machine command, or a membership change. */
export type Proposal =
  | { kind: "command"; payload: string }
  | { kind: "membership"; action: "add" | "remove"; nodeId: number };

/**
 * Messages between agents over the cluster transport. Raft's own messages, and commands a
 * follower forwards to the leader (`vigil config apply` works on any node).
 */
export type ClusterMessage =
  | { kind: "raft"; message: RaftMessage }
  | { kind: "forward"; requestId: number; proposal: Proposal }
  | { kind: "forward_result"; requestId: number; result: SubmitResult };

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const nodeId = z.number().int().min(1).max(65535);
const submitResult = z.union([
  z.strictObject({ ok: z.literal(true), index: count, version: count }),
  z.strictObject({
    ok: z.literal(false),
    code: z.enum(SUBMIT_ERROR_CODES),
    error: z.string(),
    leaderId: nodeId.nullable().optional(),
  }),
]);
/**
 * Raft's own messages are only wrapped here: the core checks every field of every message it
 * receives (describeMessageProblem) and the edge uses that same check, once per message, rather
 * than a second schema of its own. They are the idle cluster's steady traffic.
 */
const clusterMessage = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("raft"), message: z.looseObject({ type: z.string() }) }),
  z.strictObject({
    kind: z.literal("forward"),
    requestId: count,
    proposal: z.discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("command"), payload: z.string() }),
      z.strictObject({
        kind: z.literal("membership"),
        action: z.enum(["add", "remove"]),
        nodeId,
      }),
    ]),
  }),
  z.strictObject({ kind: z.literal("forward_result"), requestId: count, result: submitResult }),
]);

export type DecodedClusterMessage =
  | { ok: true; message: ClusterMessage }
  | { ok: false; error: string };

export function encodeClusterMessage(message: ClusterMessage): Buffer {
  return Buffer.from(encodeClusterMessageText(message), "utf8");
}

/**
 * The message as the JSON text its bytes hold (UTF-8). The simulator's network carries the text
 * itself: the same JSON and the same checks, without the UTF-8 round trip.
 */
export function encodeClusterMessageText(message: ClusterMessage): string {
  return JSON.stringify(message);
}

/** Decodes an authenticated peer's message; a malformed one is an error string, never a throw. */
export function decodeClusterMessage(bytes: Uint8Array): DecodedClusterMessage {
  return decodeClusterMessageText(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(),
  );
}

/** decodeClusterMessage of the bytes' text. */
export function decodeClusterMessageText(text: string): DecodedClusterMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  return decodeClusterMessageJson(json);
}

/**
 * decodeClusterMessageText of the text's JSON value: every check but JSON's syntax. The
 * simulator's network carries a copy of that value (copyAsJson) rather than the text.
 */
export function decodeClusterMessageJson(json: unknown): DecodedClusterMessage {
  if (isRaftEnvelope(json)) {
    const problem = describeMessageProblem(json.message as RaftMessage);
    return problem === null
      ? { ok: true, message: json as ClusterMessage }
      : { ok: false, error: `message: ${problem}` };
  }
  const parsed = clusterMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, message: parsed.data as ClusterMessage };
}

/** `{ kind: "raft", message: {...} }` and nothing more; the message itself is checked apart. */
function isRaftEnvelope(json: unknown): json is { kind: "raft"; message: object } {
  if (typeof json !== "object" || json === null) return false;
  const envelope = json as Record<string, unknown>;
  return (
    envelope.kind === "raft" &&
    typeof envelope.message === "object" &&
    envelope.message !== null &&
    !Array.isArray(envelope.message) &&
    Object.keys(envelope).length === 2
  );
}
