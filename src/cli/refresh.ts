import { UsageError } from "./errors.js";

/** Faster than this, a refresh costs the agent more than it tells a person. */
const MIN_INTERVAL_MS = 100;
export const DEFAULT_INTERVAL_MS = 1000;

/** `--interval-ms`'s value, or a UsageError naming the option. */
export function parseIntervalMs(value: string | undefined, option = "--interval-ms"): number {
  if (value === undefined) return DEFAULT_INTERVAL_MS;
  const intervalMs = Number(value);
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) {
    throw new UsageError(
      `${option} takes a whole number of milliseconds, at least ${MIN_INTERVAL_MS}; got "${value}"`,
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
