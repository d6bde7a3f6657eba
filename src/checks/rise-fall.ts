/** What a check says of what it watches: nothing yet, or its verdict after rise/fall tries. */
export type CheckVerdict = "unknown" | "passing" | "failing";

/**
 * keepalived's rise and fall: a verdict changes only after `rise` successes (or `fall` failures)
 * in a row, so one lost answer does not fail a server and one lucky answer does not bring it
 * back. A new check (or one reset) has no verdict until it reaches either count.
 */
export class RiseFall {
  private verdict: CheckVerdict = "unknown";
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {}

  /** Counts one try; returns the new verdict when this try changed it. */
  record(ok: boolean): CheckVerdict | null {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (this.verdict !== "passing" && this.successes >= this.rise) return this.become("passing");
    } else {
      this.successes = 0;
      this.failures++;
      if (this.verdict !== "failing" && this.failures >= this.fall) return this.become("failing");
    }
    return null;
  }

  /** Fails at once, whatever fall says (a TTL check whose report did not come). */
  expire(): CheckVerdict | null {
    this.successes = 0;
    this.failures = Math.max(this.failures, this.fall);
    return this.verdict === "failing" ? null : this.become("failing");
  }

  current(): CheckVerdict {
    return this.verdict;
  }

  /** Forgets everything (what it watched was restarted, or moved here). */
  reset(): void {
    this.verdict = "unknown";
    this.successes = 0;
    this.failures = 0;
  }

  private become(verdict: CheckVerdict): CheckVerdict {
    this.verdict = verdict;
    return verdict;
  }
}
