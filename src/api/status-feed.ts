import type { StatusReply } from "../control/status-reply.js";
import type { ClusterState } from "../state/types.js";
import {
  DEFAULT_HISTORY,
  HeartbeatHistory,
  type HeartbeatHistoryOptions,
  type PeerLinkHistory,
  type PeerLinkSample,
} from "./heartbeat-history.js";
import { statusDigest } from "./status-digest.js";

/** What the feed reads: the agent's status reply and the replicated state (as for /metrics). */
export interface FeedSource {
  status(): StatusReply;
  state(): ClusterState | null;
}

/** One dashboard's stream: what it is sent, in order. */
export interface FeedListener {
  /** The whole heartbeat history, once, when the listener subscribes. */
  history(history: PeerLinkHistory[]): void;
  /** The status, as GET /v1/status returns it. */
  status(status: StatusReply): void;
  /** Every peer × link's current sample, after each status. */
  heartbeats(samples: PeerLinkSample[]): void;
  /** The replicated state, when its version changes (standby, maintenance, history, ...). */
  state(state: ClusterState): void;
}

export interface StatusFeedOptions {
  /** How often the status is looked at while a dashboard watches: a change is sent this fast. */
  watchedTickMs: number;
  /** How often it is looked at while nobody watches, only to keep the heartbeat history. */
  idleTickMs: number;
  /** A status is sent at least this often, changed or not (the figures move). */
  maxQuietMs: number;
  history: HeartbeatHistoryOptions;
  /** Wraps the timer callback (the agent's CallbackGuard): an exception is contained there. */
  wrap(name: string, callback: () => void): () => void;
}

export const DEFAULT_FEED: Omit<StatusFeedOptions, "wrap"> = {
  watchedTickMs: 250,
  idleTickMs: 1000,
  maxQuietMs: 1000,
  history: DEFAULT_HISTORY,
};

/**
 * The live side of the API for the dashboard (GET /v1/stream): looks at the agent's status on a
 * timer, keeps the heartbeat history, and tells each listener the status when something in it
 * changed (statusDigest) and at least every maxQuietMs, then the heartbeat samples, and the
 * replicated state when its version changes. One timer whatever the number of dashboards; it
 * runs only when the API is on, once a second while nobody watches.
 */
export class StatusFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly history: HeartbeatHistory;
  private readonly tickCallback: () => void;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private lastDigest = "";
  private lastSentAtMs = Number.NEGATIVE_INFINITY;
  private lastStateVersion = -1;

  constructor(
    private readonly source: FeedSource,
    private readonly options: StatusFeedOptions,
  ) {
    this.history = new HeartbeatHistory(options.history);
    this.tickCallback = options.wrap("dashboard status feed", () => this.tick());
  }

  start(): void {
    this.running = true;
    this.tickCallback();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  get watchers(): number {
    return this.listeners.size;
  }

  /** Sends the listener the history, the status and the state now; returns its unsubscribe. */
  subscribe(listener: FeedListener): () => void {
    const status = this.source.status();
    const samples = this.history.record(status.nowMs, status.nodes);
    listener.history(this.history.snapshot());
    listener.status(status);
    listener.heartbeats(samples);
    const state = this.source.state();
    if (state !== null) listener.state(state);
    this.listeners.add(listener);
    // From the idle pace to the watched one at once, not after the idle timer's next tick.
    if (this.listeners.size === 1) this.rearm();
    return () => {
      this.listeners.delete(listener);
    };
  }

  private tick(): void {
    this.timer = null;
    try {
      this.look();
    } finally {
      this.rearm();
    }
  }

  private look(): void {
    const status = this.source.status();
    const samples = this.history.record(status.nowMs, status.nodes);
    if (this.listeners.size === 0) return;
    const digest = statusDigest(status);
    if (digest !== this.lastDigest || status.nowMs - this.lastSentAtMs >= this.options.maxQuietMs) {
      this.lastDigest = digest;
      this.lastSentAtMs = status.nowMs;
      for (const listener of this.listeners) {
        listener.status(status);
        listener.heartbeats(samples);
      }
    }
    const state = this.source.state();
    if (state !== null && state.version !== this.lastStateVersion) {
      this.lastStateVersion = state.version;
      for (const listener of this.listeners) listener.state(state);
    }
  }

  private rearm(): void {
    if (!this.running) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const delay = this.listeners.size > 0 ? this.options.watchedTickMs : this.options.idleTickMs;
    this.timer = setTimeout(this.tickCallback, delay);
    // The feed never keeps the agent alive by itself.
    this.timer.unref();
  }
}
