import type { LinkState, NodeStatus } from "../membership/types.js";

/**
 * The last minutes of every peer × link's heartbeat figures, for the dashboard: the status holds
 * only the present (smoothed RTT, loss, detector state), so the agent keeps a bounded history of
 * it in memory. One sample per bucket (a second by default); a state that lasted less than a
 * bucket still shows, because a sample keeps the worst state seen in it. Pure: time comes in.
 */

export interface HeartbeatSample {
  /** Start of the bucket, on the agent's clock (epoch-anchored ms). */
  atMs: number;
  /** The smoothed RTT last seen in the bucket; null before the first echo. */
  rttMs: number | null;
  /** The highest loss ratio seen in the bucket; null until enough heartbeats were expected. */
  lossRatio: number | null;
  /** The worst detector state seen in the bucket: down over late over up. */
  state: LinkState;
}

/** One peer × link's sample, as the stream sends it when it changes. */
export interface PeerLinkSample {
  node: string;
  link: string;
  sample: HeartbeatSample;
}

export interface PeerLinkHistory {
  node: string;
  link: string;
  /** Oldest first. */
  samples: HeartbeatSample[];
}

const SEVERITY: Record<LinkState, number> = { up: 0, late: 1, down: 2 };

export interface HeartbeatHistoryOptions {
  bucketMs: number;
  /** Samples kept per peer × link: bucketMs × buckets is how far back the history goes. */
  buckets: number;
}

/** Five minutes at one sample a second. */
export const DEFAULT_HISTORY: HeartbeatHistoryOptions = { bucketMs: 1000, buckets: 300 };

export class HeartbeatHistory {
  private readonly series = new Map<string, PeerLinkHistory>();

  constructor(private readonly options: HeartbeatHistoryOptions = DEFAULT_HISTORY) {}

  /** Adds what the status says of every peer × link now; returns each one's current sample. */
  record(nowMs: number, nodes: readonly NodeStatus[]): PeerLinkSample[] {
    const bucketStart = nowMs - (nowMs % this.options.bucketMs);
    const current: PeerLinkSample[] = [];
    for (const node of nodes) {
      for (const link of node.links) {
        const series = this.seriesOf(node.name, link.link);
        const last = series.samples.at(-1);
        if (last !== undefined && last.atMs === bucketStart) {
          last.rttMs = link.rttMs ?? last.rttMs;
          last.lossRatio = maxOrNull(last.lossRatio, link.lossRatio);
          if (SEVERITY[link.state] > SEVERITY[last.state]) last.state = link.state;
        } else {
          series.samples.push({
            atMs: bucketStart,
            rttMs: link.rttMs,
            lossRatio: link.lossRatio,
            state: link.state,
          });
          if (series.samples.length > this.options.buckets) series.samples.shift();
        }
        current.push({ node: node.name, link: link.link, sample: { ...series.samples.at(-1)! } });
      }
    }
    return current;
  }

  /** Every peer × link's samples, oldest first (copies: the caller may keep them). */
  snapshot(): PeerLinkHistory[] {
    return [...this.series.values()].map(({ node, link, samples }) => ({
      node,
      link,
      samples: samples.map((sample) => ({ ...sample })),
    }));
  }

  private seriesOf(node: string, link: string): PeerLinkHistory {
    const key = `${node}\u0000${link}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = { node, link, samples: [] };
      this.series.set(key, series);
    }
    return series;
  }
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
