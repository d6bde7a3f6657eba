import { z } from "zod";
import type { RaftMessage } from "../consensus/types.js";

/** What a proposer learns: applied (with the state machine's verdict) or why not. */
export type SubmitResult =
  | { ok: true; index: number; version: number }
  | { ok: false; error: string; leaderId?: number | null };

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
const member = z.looseObject({ id: nodeId, votes: z.number().int().min(1), witness: z.boolean() });
const membership = z.looseObject({ members: z.array(member) });
const entry = z.looseObject({
  index: count,
  term: count,
  body: z.discriminatedUnion("kind", [
    z.looseObject({ kind: z.literal("noop") }),
    z.looseObject({ kind: z.literal("membership"), membership }),
    z.looseObject({ kind: z.literal("command"), payload: z.string() }),
  ]),
});
const snapshot = z.looseObject({
  meta: z.looseObject({ lastIncludedIndex: count, lastIncludedTerm: count, membership }),
  data: z.string(),
});
// Loose objects: a newer peer may add fields; the core ignores what it does not know.
const raftMessage = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("request_vote"),
    term: count,
    preVote: z.boolean(),
    lastLogIndex: count,
    lastLogTerm: count,
  }),
  z.looseObject({ type: z.literal("timeout_now"), term: count }),
  z.looseObject({
    type: z.literal("vote"),
    term: count,
    preVote: z.boolean(),
    granted: z.boolean(),
  }),
  z.looseObject({
    type: z.literal("append_entries"),
    term: count,
    prevLogIndex: count,
    prevLogTerm: count,
    entries: z.array(entry),
    leaderCommit: count,
    sentAtMs: z.number(),
  }),
  z.looseObject({
    type: z.literal("append_response"),
    term: count,
    success: z.boolean(),
    matchIndex: count,
    echoSentAtMs: z.number(),
  }),
  z.looseObject({
    type: z.literal("install_snapshot"),
    term: count,
    snapshot,
    sentAtMs: z.number(),
  }),
  z.looseObject({
    type: z.literal("snapshot_response"),
    term: count,
    matchIndex: count,
    echoSentAtMs: z.number(),
  }),
]);
const submitResult = z.union([
  z.strictObject({ ok: z.literal(true), index: count, version: count }),
  z.strictObject({
    ok: z.literal(false),
    error: z.string(),
    leaderId: nodeId.nullable().optional(),
  }),
]);
const clusterMessage = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("raft"), message: raftMessage }),
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

export function encodeClusterMessage(message: ClusterMessage): Buffer {
  return Buffer.from(JSON.stringify(message), "utf8");
}

/** Decodes an authenticated peer's message; a malformed one is an error string, never a throw. */
export function decodeClusterMessage(
  bytes: Uint8Array,
): { ok: true; message: ClusterMessage } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { ok: false, error: "not JSON" };
  }
  const parsed = clusterMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, message: parsed.data as ClusterMessage };
}
