import { UsageError } from "./errors.js";

/** Faster than this, a refresh costs the agent more than it tells a person. */
const MIN_INTERVAL_MS = 100;
/** An hour: slower is no longer watching, and Node's timers overflow past 2^31 - 1 ms to 1 ms. */
const MAX_INTERVAL_MS = 3_600_000;
export const DEFAULT_INTERVAL_MS = 1000;

/** `--interval-ms`'s value, or a UsageError naming the option. */
export function parseIntervalMs(value: string | undefined, option = "--interval-ms"): number {
  if (value === undefined) return DEFAULT_INTERVAL_MS;
  const intervalMs = Number(value);
  if (
    !Number.isInteger(intervalMs) ||
    intervalMs < MIN_INTERVAL_MS ||
    intervalMs > MAX_INTERVAL_MS
  ) {
    throw new UsageError(
      `${option} takes a whole number of milliseconds from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}; got "${value}"`,
    );
  }
  return intervalMs;
}

/** Runs `step` every `intervalMs` (measured from its end) until the process is stopped. */
export async function repeatUntilStopped(
  intervalMs: number,
  step: () => Promise<void>,
): Promise<never> {
  for (;;) {
    await step();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
