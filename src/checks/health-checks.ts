import type { Timers } from "../coordination/timers.js";
import type { Logger } from "../log/logger.js";
import { type CheckSpec, checksOf } from "../resource-model/checks-schema.js";
import type { ClusterState } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import type { Probe } from "./probes.js";
import { type CheckVerdict, RiseFall } from "./rise-fall.js";

export interface HealthChecksOptions {
  nodeName: string;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  probe: Probe;
  state(): ClusterState;
  /** The placement keys of `resource` that run on this node now (none: the check rests here). */
  localKeysOf(resource: string, state: ClusterState): string[];
  /** A check attached to a resource failed here: recover each copy as after a failed monitor. */
  failed(key: string, check: string, detail: string): void;
  /** Sets (null: removes) one of this run's node attributes. */
  setAttribute(attribute: string, value: string | null): void;
  /** A check's verdict changed on this node. */
  transition(check: CheckSpec, verdict: "passing" | "failing", detail: string): void;
  /** Every change of a check's verdict here, "unknown" when it stops running here. */
  verdictChanged?(check: string, verdict: CheckVerdict): void;
}

export interface CheckStatus {
  check: string;
  verdict: CheckVerdict;
  /** The last try's words. */
  detail: string;
  lastTryAtMs: number | null;
}

interface Running {
  spec: CheckSpec;
  signature: string;
  counter: RiseFall;
  cancel: (() => void) | null;
  inFlight: boolean;
  detail: string;
  lastTryAtMs: number | null;
  /** The local copies it watched when its last try began (a resource-bound check). */
  keys: string[];
}

/**
 * Runs the health checks of the replicated configuration that belong on this node: one try at
 * a time every interval, verdicts by rise/fall (rise-fall.ts), then what each verdict does — a
 * node attribute, the failure of the resource it watches, an event. A resource-bound check runs
 * only while the resource runs here, and starts afresh each time it does.
 */
export class HealthChecks {
  private readonly running = new Map<string, Running>();
  private stopped = false;

  constructor(private readonly options: HealthChecksOptions) {}

  /** The configuration or what runs here changed: start, stop or restart checks to match. */
  update(): void {
    if (this.stopped) return;
    const state = this.options.state();
    const wanted = new Map<string, CheckSpec>();
    for (const check of checksOf(state.config.document)) {
      if (check.nodes !== undefined && !check.nodes.includes(this.options.nodeName)) continue;
      if (
        check.resource !== undefined &&
        this.options.localKeysOf(check.resource, state).length === 0
      )
        continue;
      wanted.set(check.name, check);
    }
    for (const [name, run] of this.running) {
      const spec = wanted.get(name);
      if (spec === undefined || JSON.stringify(spec) !== run.signature) this.retire(name, run);
    }
    for (const [name, spec] of wanted) {
      if (this.running.has(name)) continue;
      const run: Running = {
        spec,
        signature: JSON.stringify(spec),
        counter: new RiseFall(spec.rise, spec.fall),
        cancel: null,
        inFlight: false,
        detail: "not tried yet",
        lastTryAtMs: null,
        keys: [],
      };
      this.running.set(name, run);
      if (spec.ttl === undefined) this.schedule(run, 0);
      else this.armTtl(run);
    }
  }

  /**
   * An application's report for a TTL check on this node: pass and warn count as successes,
   * fail as a failure (rise and fall apply), and each report starts the TTL again. Returns why it
   * cannot be taken, or null.
   */
  report(name: string, status: "pass" | "warn" | "fail", note: string): string | null {
    const run = this.running.get(name);
    if (run === undefined) return `check ${name} does not run on ${this.options.nodeName}`;
    if (run.spec.ttl === undefined)
      return `check ${name} is not a ttl check: it runs its own tries, nobody reports for it`;
    run.lastTryAtMs = this.options.clock.nowMs();
    run.detail = `${status} reported${note === "" ? "" : `: ${note}`}`;
    run.keys =
      run.spec.resource === undefined
        ? []
        : this.options.localKeysOf(run.spec.resource, this.options.state());
    this.armTtl(run);
    const verdict = run.counter.record(status !== "fail");
    if (verdict === "passing" || verdict === "failing") this.act(run, verdict);
    return null;
  }

  status(): CheckStatus[] {
    return [...this.running.values()].map((run) => ({
      check: run.spec.name,
      verdict: run.counter.current(),
      detail: run.detail,
      lastTryAtMs: run.lastTryAtMs,
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const run of this.running.values()) run.cancel?.();
  }

  private retire(name: string, run: Running): void {
    run.cancel?.();
    this.running.delete(name);
    if (run.spec.attribute !== undefined) this.options.setAttribute(run.spec.attribute, null);
    this.options.verdictChanged?.(name, "unknown");
  }

  /** A TTL check fails when no report comes within its TTL. */
  private armTtl(run: Running): void {
    const ttlMs = run.spec.ttl?.ttl_ms;
    if (ttlMs === undefined) return;
    run.cancel?.();
    run.cancel = this.options.timers.after(ttlMs, () => {
      run.cancel = null;
      if (this.stopped || this.running.get(run.spec.name) !== run) return;
      run.detail = `no report within ${ttlMs} ms`;
      run.keys =
        run.spec.resource === undefined
          ? []
          : this.options.localKeysOf(run.spec.resource, this.options.state());
      const verdict = run.counter.expire();
      if (verdict === "failing") this.act(run, verdict);
      // A resource restarted for it gets a full TTL again for its application to report.
      if (run.spec.resource !== undefined) this.armTtl(run);
    });
  }

  private schedule(run: Running, delayMs: number): void {
    run.cancel = this.options.timers.after(delayMs, () => {
      run.cancel = null;
      void this.attempt(run);
    });
  }

  private async attempt(run: Running): Promise<void> {
    if (this.stopped || this.running.get(run.spec.name) !== run || run.inFlight) return;
    const { spec } = run;
    run.inFlight = true;
    run.keys =
      spec.resource === undefined
        ? []
        : this.options.localKeysOf(spec.resource, this.options.state());
    run.lastTryAtMs = this.options.clock.nowMs();
    let result: { ok: boolean; detail: string };
    try {
      result = await this.options.probe(spec, {
        VIGIL_CHECK: spec.name,
        VIGIL_NODE: this.options.nodeName,
        ...(spec.resource === undefined ? {} : { VIGIL_RESOURCE: spec.resource }),
      });
    } catch (error) {
      result = { ok: false, detail: `the check could not run: ${(error as Error).message}` };
    }
    run.inFlight = false;
    if (this.stopped || this.running.get(spec.name) !== run) return;
    run.detail = result.detail;
    const verdict = run.counter.record(result.ok);
    if (verdict === "passing" || verdict === "failing") this.act(run, verdict);
    this.schedule(run, spec.interval_ms);
  }

  private act(run: Running, verdict: "passing" | "failing"): void {
    const { spec } = run;
    this.options.logger[verdict === "failing" ? "warn" : "info"](
      { check: spec.name, verdict, detail: run.detail },
      `check ${spec.name} ${verdict}`,
    );
    if (spec.attribute !== undefined)
      this.options.setAttribute(spec.attribute, verdict === "passing" ? "1" : "0");
    this.options.transition(spec, verdict, run.detail);
    if (verdict === "failing" && spec.resource !== undefined) {
      for (const key of run.keys) this.options.failed(key, spec.name, run.detail);
      // The copies start again (or move): the check judges what runs then from nothing.
      run.counter.reset();
    }
    this.options.verdictChanged?.(spec.name, run.counter.current());
  }
}
