import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { RawReply } from "../control/server.js";
import type { StatusReply } from "../control/status-reply.js";
import type { ClusterState } from "../state/types.js";
import { SCRAPED, type ScrapedKey, scrapeSamples } from "./metric-samples.js";

/** What the scrape reads: the agent's status reply and the replicated state. */
export interface MetricsSource {
  status(): StatusReply;
  state(): ClusterState | null;
}

/** One resource operation as the executor reports it (OperationRecord's fields used here). */
export interface ObservedOperation {
  resourceId: string;
  operation: string;
  outcome: string;
  durationMs: number;
}

/**
 * Resource operations take from milliseconds (a VIP) to minutes (a database's start or a
 * stop that times out at the 20 s default and more).
 */
const OPERATION_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60, 120];

/**
 * GET /metrics of one agent, with prom-client: the cluster as this agent sees it, computed at
 * scrape time (metric-samples.ts); the resource operations and fences it ran, counted as they
 * end (rare events, none on the heartbeat path); and Node's process metrics (CPU, resident
 * memory, event-loop delay, under their standard unprefixed names: process_*, nodejs_*).
 * Made only when the API is on.
 */
export class AgentMetrics {
  private readonly registry = new Registry();
  private readonly scraped: Record<ScrapedKey, Gauge | Counter>;
  private readonly operationSeconds: Histogram;
  private readonly operationFailures: Counter;
  private readonly fences: Counter;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    this.scraped = Object.fromEntries(
      Object.entries(SCRAPED).map(([key, family]) => {
        const options = {
          name: family.name,
          help: family.help,
          labelNames: family.labelNames,
          registers,
        };
        return [key, family.type === "counter" ? new Counter(options) : new Gauge(options)];
      }),
    ) as Record<ScrapedKey, Gauge | Counter>;
    this.operationSeconds = new Histogram({
      name: "vigil_resource_operation_duration_seconds",
      help: "How long this node's resource operations took (start, stop, monitor, ...)",
      labelNames: ["resource", "operation"],
      buckets: OPERATION_BUCKETS_S,
      registers,
    });
    this.operationFailures = new Counter({
      name: "vigil_resource_operation_failures_total",
      help: "This node's resource operations that failed or timed out",
      labelNames: ["resource", "operation", "outcome"],
      registers,
    });
    this.fences = new Counter({
      name: "vigil_fence_operations_total",
      help: "Fence operations this agent ran since it started, by fenced node and result (success, failure); vigil_cluster_fences_total counts the whole cluster's",
      labelNames: ["node", "result"],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  observeOperation(record: ObservedOperation): void {
    const labels = { resource: record.resourceId, operation: record.operation };
    this.operationSeconds.observe(labels, record.durationMs / 1000);
    if (record.outcome === "failed" || record.outcome === "timeout")
      this.operationFailures.inc({ ...labels, outcome: record.outcome });
  }

  observeFence(node: string, ok: boolean): void {
    this.fences.inc({ node, result: ok ? "success" : "failure" });
  }

  /** The Prometheus text of every metric, the scraped ones taken now. */
  async scrape(): Promise<RawReply> {
    const samples = scrapeSamples(this.source.status(), this.source.state());
    for (const [key, metric] of Object.entries(this.scraped) as Array<
      [ScrapedKey, Gauge | Counter]
    >) {
      metric.reset();
      for (const { labels, value } of samples[key] ?? []) {
        if (metric instanceof Gauge) metric.set(labels, value);
        else metric.inc(labels, value);
      }
    }
    return new RawReply(this.registry.contentType, await this.registry.metrics());
  }
}
