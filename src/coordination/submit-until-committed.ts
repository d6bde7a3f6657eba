import { setTimeout as sleepFor } from "node:timers/promises";
import type { Clock } from "../time/clock.js";
import { isRetryable, type SubmitResult } from "./cluster-message.js";

export interface SubmitUntilCommittedOptions {
  /** Give up once a further try could not start within this long of the first. */
  forMs: number;
  retryMs: number;
  clock: Clock;
  /** Waits between tries (default: a real timer); a test passes one that advances its clock. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Submits again while the cluster cannot commit (no leader during an election, a leader that
 * just died, no quorum for a moment), every `retryMs`, for at most `forMs`. Only for commands
 * that may safely land twice (a record of something that happened), since a submit whose reply
 * was lost may have committed after all. A rejection is returned at once: the same command
 * would be refused again.
 */
export async function submitUntilCommitted(
  submit: () => Promise<SubmitResult>,
  options: SubmitUntilCommittedOptions,
): Promise<SubmitResult> {
  const { clock, retryMs } = options;
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  const deadlineMs = clock.nowMs() + options.forMs;
  for (;;) {
    const result = await submit();
    if (result.ok || !isRetryable(result.code)) return result;
    if (clock.nowMs() + retryMs > deadlineMs) return result;
    await sleep(retryMs);
  }
}
