import type { SubmitResult } from "./cluster-message.js";

/**
 * Submits again while the cluster cannot commit (no leader during an election, a leader that
 * just died, no quorum for a moment), every `retryMs`, for at most `forMs`. Only for commands
 * that may safely land twice (a record of something that happened), since a submit whose reply
 * was lost may have committed after all.
 */
export async function submitUntilCommitted(
  submit: () => Promise<SubmitResult>,
  options: { forMs: number; retryMs: number },
): Promise<SubmitResult> {
  const deadline = Date.now() + options.forMs;
  for (;;) {
    const result = await submit();
    if (result.ok || Date.now() + options.retryMs > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, options.retryMs));
  }
}
