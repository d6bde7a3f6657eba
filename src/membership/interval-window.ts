/**
 * The last `capacity` inter-arrival intervals with their mean and standard deviation in O(1).
 * Running sums drift as samples come and go, so they are recomputed exactly once per `capacity`
 * pushes (amortised O(1)); at the bound the oldest sample is overwritten.
 */
export class IntervalWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;
  private sum = 0;
  private sumOfSquares = 0;
  private pushesSinceExactSums = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`interval window: capacity must be a positive integer, got ${capacity}`);
    }
    this.samples = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(intervalMs: number): void {
    if (this.count === this.capacity) {
      const evicted = this.samples[this.next]!;
      this.sum -= evicted;
      this.sumOfSquares -= evicted * evicted;
    } else {
      this.count++;
    }
    this.samples[this.next] = intervalMs;
    this.sum += intervalMs;
    this.sumOfSquares += intervalMs * intervalMs;
    this.next = (this.next + 1) % this.capacity;
    if (++this.pushesSinceExactSums >= this.capacity) this.recomputeSums();
  }

  /** NaN when empty. */
  mean(): number {
    return this.sum / this.count;
  }

  /** Population standard deviation (as Akka's detector); NaN when empty. */
  std(): number {
    const mean = this.mean();
    // Cancellation can leave a tiny negative variance for identical samples.
    return Math.sqrt(Math.max(0, this.sumOfSquares / this.count - mean * mean));
  }

  clear(): void {
    this.count = 0;
    this.next = 0;
    this.sum = 0;
    this.sumOfSquares = 0;
    this.pushesSinceExactSums = 0;
  }

  private recomputeSums(): void {
    let sum = 0;
    let sumOfSquares = 0;
    for (let i = 0; i < this.count; i++) {
      const sample = this.samples[i]!;
      sum += sample;
      sumOfSquares += sample * sample;
    }
    this.sum = sum;
    this.sumOfSquares = sumOfSquares;
    this.pushesSinceExactSums = 0;
  }
}
