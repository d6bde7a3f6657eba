/**
 * One stream of cluster events (membership now; resources and quorum later). Subscribers are
 * called synchronously in publish order; a throwing subscriber is reported, never allowed to
 * break delivery to the others. The last `historyLimit` events are kept for `vigil status`.
 */
export type Subscriber<E> = (event: E) => void;

export class EventBus<E extends { type: string }> {
  private readonly subscribers = new Set<Subscriber<E>>();
  private readonly history: E[] = [];

  constructor(
    private readonly historyLimit: number,
    private readonly onSubscriberError: (error: unknown, event: E) => void,
  ) {}

  subscribe(subscriber: Subscriber<E>): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  publish(event: E): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const subscriber of this.subscribers) {
      try {
        subscriber(event);
      } catch (error) {
        this.onSubscriberError(error, event);
      }
    }
  }

  recent(): readonly E[] {
    return this.history;
  }
}
