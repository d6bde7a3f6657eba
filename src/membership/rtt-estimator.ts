/**
 * Smoothed round-trip time like TCP's SRTT (RFC 6298): srtt += (sample − srtt) / 8. The gain of
 * 1/8 follows a lasting change within a few dozen heartbeats while one slow reply barely moves it.
 */
export const RTT_GAIN = 1 / 8;

export class RttEstimator {
  private srttMs: number | null = null;

  /** Samples above maxSampleMs are absurd for a link that is up (see LinkTracker). */
  constructor(private readonly maxSampleMs: number) {}

  /** Returns false (and learns nothing) for a negative, non-finite or absurd sample. */
  sample(rttMs: number): boolean {
    if (!Number.isFinite(rttMs) || rttMs < 0 || rttMs > this.maxSampleMs) return false;
    this.srttMs = this.srttMs === null ? rttMs : this.srttMs + (rttMs - this.srttMs) * RTT_GAIN;
    return true;
  }

  get smoothedMs(): number | null {
    return this.srttMs;
  }

  reset(): void {
    this.srttMs = null;
  }
}
