/**
 * Heartbeat's ping nodes / ipfail: checks every upstream target each interval and publishes how
 * many answered as a node attribute, so that location rules on it (`connectivity lt 1`) move
 * resources away from a node that lost its upstream.
 *
 * Rounds never overlap: the targets of a round are checked in parallel, and the next round
 * starts interval_ms after the previous one started, or at once when a round took longer.
 */

import type { ConnectivityConfig } from "../config/safety-schema.js";
import type { Logger } from "../log/logger.js";
import type { Clock } from "../time/clock.js";
import { probeTarget } from "./probes.js";
import {
  type ConnectivityTarget,
  describeChange,
  describeTarget,
  diffRounds,
  isNoteworthy,
} from "./targets.js";

/**
 * A probe that ignores its timeout must not stall the monitor: past timeout_ms plus this much,
 * the target counts as down for the round.
 */
const PROBE_DEADLINE_GRACE_MS = 1_000;

export interface ConnectivityMonitorOptions {
  config: ConnectivityConfig;
  clock: Clock;
  logger: Logger;
  /** Records the attribute's desired value (the count, as a string); called after every round. */
  publish(attribute: string, value: string): void;
  /** Checks one target; the real probes by default, a fake in tests. */
  probe?: typeof probeTarget;
}

export interface ConnectivityStatus {
  /** Targets that answered in the last round (0 before the first round). */
  reachable: number;
  total: number;
  /** Clock time at which the last round ended; null before the first round. */
  lastCheckedAtMs: number | null;
  /** Per target, in configuration order; `up` is false before the first round. */
  targets: Array<{ target: string; up: boolean }>;
}

export class ConnectivityMonitor {
  private readonly config: ConnectivityConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly publishValue: (attribute: string, value: string) => void;
  private readonly probe: typeof probeTarget;
  private readonly names: readonly string[];
  private results: boolean[] | null = null;
  private lastCheckedAtMs: number | null = null;
  private started = false;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<ConnectivityStatus> | null = null;
  private roundAbort: AbortController | null = null;
  /** Bumped by stop(): a round that began before it is discarded, neither logged nor published. */
  private generation = 0;

  constructor(options: ConnectivityMonitorOptions) {
    this.config = options.config;
    this.clock = options.clock;
    this.logger = options.logger;
    this.publishValue = options.publish;
    this.probe = options.probe ?? probeTarget;
    this.names = options.config.targets.map(describeTarget);
  }

  /** Runs a first round at once, then one every interval_ms until stop(). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops the rounds and abandons the one in flight (its result is neither logged nor published). */
  stop(): void {
    this.started = false;
    this.generation += 1;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.roundAbort?.abort();
    this.roundAbort = null;
    this.inFlight = null;
  }

  /** The result of the last completed round. */
  current(): ConnectivityStatus {
    const results = this.results;
    return {
      reachable: results === null ? 0 : results.filter(Boolean).length,
      total: this.names.length,
      lastCheckedAtMs: this.lastCheckedAtMs,
      targets: this.names.map((target, index) => ({ target, up: results?.[index] ?? false })),
    };
  }

  /**
   * Checks every target now, then logs and publishes like a scheduled round. When a round is
   * already in flight, returns that round's result instead of starting another.
   */
  runRound(): Promise<ConnectivityStatus> {
    if (this.inFlight !== null) return this.inFlight;
    const abort = new AbortController();
    this.roundAbort = abort;
    const round = this.round(this.generation, abort.signal).finally(() => {
      if (this.inFlight === round) this.inFlight = null;
      if (this.roundAbort === abort) this.roundAbort = null;
    });
    this.inFlight = round;
    return round;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, delayMs);
    // A background check must not keep a stopping process alive.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const generation = this.generation;
    const startedAtMs = this.clock.nowMs();
    await this.runRound();
    if (!this.started || generation !== this.generation || this.timer !== null) return;
    const elapsedMs = this.clock.nowMs() - startedAtMs;
    this.schedule(Math.max(0, this.config.interval_ms - elapsedMs));
  }

  private async round(generation: number, signal: AbortSignal): Promise<ConnectivityStatus> {
    const results = await Promise.all(
      this.config.targets.map((target) => this.check(target, signal)),
    );
    if (generation !== this.generation) return this.current();
    const change = diffRounds(this.names, this.results, results);
    this.results = results;
    this.lastCheckedAtMs = this.clock.nowMs();
    if (isNoteworthy(change)) {
      this.logger.info(
        {
          attribute: this.config.attribute,
          reachable: change.reachable,
          previous: change.previousReachable,
          total: change.total,
          up: change.wentUp,
          down: change.wentDown,
        },
        describeChange(change),
      );
    }
    try {
      this.publishValue(this.config.attribute, String(change.reachable));
    } catch (error) {
      this.logger.warn(
        { attribute: this.config.attribute, err: (error as Error).message },
        "connectivity: publishing the attribute failed",
      );
    }
    return this.current();
  }

  /** One probe, bounded: a throw or a probe past its deadline counts as down. */
  private async check(target: ConnectivityTarget, signal: AbortSignal): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.config.timeout_ms + PROBE_DEADLINE_GRACE_MS);
    });
    try {
      return await Promise.race([
        this.probe(target, this.config.timeout_ms, signal).then(
          (up) => up === true,
          () => false,
        ),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
