/**
 * Node's timers hold their delay in a signed 32-bit integer: asked to wait longer than this, a
 * setTimeout or setInterval fires after 1 ms instead, and a recurring one becomes a hot loop.
 * Every duration an operator writes is bounded well below it where it is read; this is the bound
 * of last resort, for the layers that set timers.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** Why `delayMs` cannot be a timer's delay (null: it can). */
export function timerDelayProblem(delayMs: number): string | null {
  if (Number.isNaN(delayMs)) return "a delay that is not a number";
  if (delayMs > MAX_TIMER_DELAY_MS)
    return `a delay of ${delayMs} ms, longer than a timer can wait (${MAX_TIMER_DELAY_MS} ms, about 24.8 days)`;
  return null;
}
