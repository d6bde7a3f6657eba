/**
 * Lets one log line per key through per window and counts the ones it held back, so a flood of
 * forged or misdirected packets cannot flood the log (and the disk) as well.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { startMs: number; suppressed: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 256,
  ) {}

  /** Returns null when the caller should stay quiet, else how many were suppressed before. */
  allow(key: string, nowMs: number): number | null {
    const window = this.windows.get(key);
    if (window !== undefined && nowMs - window.startMs < this.windowMs) {
      window.suppressed += 1;
      return null;
    }
    if (window === undefined && this.windows.size >= this.maxKeys) this.windows.clear();
    this.windows.set(key, { startMs: nowMs, suppressed: 0 });
    return window?.suppressed ?? 0;
  }
}
