/**
 * The health checks' verdicts on this node, by check name, for the director agent: the checks
 * (src/checks) set them as they change, the agent reads them whenever it programs a service and
 * is told of each change, so a failed real server leaves the rules as soon as its check fails.
 */
export type RealServerVerdict = "unknown" | "passing" | "failing";

export class CheckVerdicts {
  private readonly verdicts = new Map<string, RealServerVerdict>();
  private readonly listeners = new Set<() => void>();

  verdictOf(check: string): RealServerVerdict {
    return this.verdicts.get(check) ?? "unknown";
  }

  /** A check's new verdict ("unknown": it no longer runs here). */
  set(check: string, verdict: RealServerVerdict): void {
    if (this.verdictOf(check) === verdict) return;
    if (verdict === "unknown") this.verdicts.delete(check);
    else this.verdicts.set(check, verdict);
    for (const listener of this.listeners) listener();
  }

  /** Called after every change; returns the unsubscription. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
