import type { ClusterEvent } from "../control/cluster-events.js";
import { formatInstant } from "../state/history.js";

/** One line of `vigil events`: when, the order, who saw it, what kind, what happened. */
export function formatEventLine(event: ClusterEvent): string {
  return `${formatInstant(event.atMs)}  v${event.stateVersion}  ${event.source}  ${event.kind}  ${event.text}`;
}

/**
 * What a follower has printed, by id, so an event sent again (a page after a gap, a retry) is
 * printed once. Bounded: ids older than the agents keep are never sent again.
 */
export class PrintedEvents {
  private readonly ids = new Set<string>();

  constructor(private readonly limit: number) {}

  /** The events not printed before, in their order; they count as printed from now on. */
  fresh(events: readonly ClusterEvent[]): ClusterEvent[] {
    const fresh = events.filter((event) => !this.ids.has(event.id));
    for (const event of fresh) this.ids.add(event.id);
    for (const id of this.ids) {
      if (this.ids.size <= this.limit) break;
      this.ids.delete(id);
    }
    return fresh;
  }
}
