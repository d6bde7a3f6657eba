/**
 * What the built-in agents (vip, director) share: the actions they offer with their advised
 * timeouts, and how a failure they foresee becomes the operation's answer.
 */
import type { ActionOutcome } from "./agent.js";
import type { AgentMetadata } from "./metadata.js";
import type { OcfExitCode } from "./ocf-codes.js";

/** Pacemaker's advised timeouts; a monitor every 10 s unless the document says otherwise. */
export const BUILT_IN_ACTIONS: AgentMetadata["actions"] = [
  { name: "start", timeoutMs: 20_000 },
  { name: "stop", timeoutMs: 20_000 },
  { name: "monitor", timeoutMs: 20_000, intervalMs: 10_000 },
  { name: "meta-data", timeoutMs: 5_000 },
];

/** A failure a built-in agent foresaw, with its OCF code: an answer, not a crash. */
export class AgentFailure extends Error {
  constructor(
    readonly code: OcfExitCode,
    message: string,
  ) {
    super(message);
    this.name = "AgentFailure";
  }
}

/** The body's result, or the answer an AgentFailure it threw stands for (anything else is a bug). */
export async function answering<T>(body: () => Promise<T>): Promise<T | ActionOutcome> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof AgentFailure) return { code: error.code, reason: error.message };
    throw error;
  }
}
